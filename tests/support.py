"""What the tests share that is not a fixture: runs made of events, the scripted trainer, and the
AppTest harness (open the app or one of its pages, rerun, read charts and texts).

Fixtures live in conftest.py files (tests/conftest.py: Redis, PostgreSQL, the CI rule;
tests/app/conftest.py: the run store and the registry the pages talk to). No test module
imports another: what two of them need lives here.
"""

from __future__ import annotations

import json
import pathlib
import threading

from regdemo.i18n import translate
from regdemo.runs.records import Run
from regdemo.runs.registry import Registry
from regdemo.training.config import RunConfig, to_query_params
from regdemo.training.events import DIVERGED, FINISHED, STOPPED, Done, EpochEnd, MaskSnapshot, Progress, Started

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT = 120  # the first script run imports torch and pandas on a shared 2-core machine


# ----------------------------------------------------------------------------- runs made of events

def epoch(n, test_acc, best_epoch=None, val_loss=None) -> EpochEnd:
    """Epoch n's record with test accuracy `test_acc` and made-up, plausible other numbers."""
    return EpochEnd(epoch=n, train_loss=1.0 / n, train_acc=0.5 + n / 100, train_loss_eval=0.9 / n,
                    train_acc_eval=0.6 + n / 100, test_loss=1.2 / n, test_acc=test_acc, val_loss=val_loss,
                    val_acc=None if val_loss is None else 0.7, l1_norm=100.0 - n, l2_norm=3.0, near_zero=0.02,
                    weight_hist=tuple(range(61)), best_epoch=best_epoch or n, seconds=0.5, step=4 * n)


def make_run(config=None, status=FINISHED, epochs=(0.8, 0.9), best_epoch=None, message="") -> Run:
    """A Run as the registry leaves it: Started, progress, one record per test accuracy in `epochs`, Done."""
    config = config or RunConfig(dropout=0.25, train_size=200, epochs=len(epochs) or 1)
    run = Run(config)
    run.mark_running()
    run.apply(Started(device="cpu", train_size=200, test_size=1000, val_size=0, steps_per_epoch=4,
                      parameters=10790))
    for i, acc in enumerate(epochs, 1):
        for step in range(4 * i - 3, 4 * i + 1):
            run.apply(Progress(step=step, epoch=step / 4, train_loss=2.0 / step, train_acc=step / 10))
        run.apply(epoch(i, acc, best_epoch=best_epoch))
    best = best_epoch or len(epochs)
    run.apply(Done(status, len(epochs), best if epochs else 0, 4 * len(epochs), message,
                   test_predictions=(3, 1, 4, 1, 5)))
    return run


# ----------------------------------------------------------------------------- trainers for a Registry

# Seeds that script a run's fate; any seed ending in 91 trains until stopped;
# STUCK_SEED ends where the article's net sometimes does: at chance.
HOLD_SEED, DIVERGED_SEED, FAILED_SEED, STUCK_SEED = 91, 92, 93, 94
STEPS = 4  # scripted steps per epoch
SMALL = RunConfig(train_size=100, epochs=2)  # a setup the scripted runs use


def scripted_test_acc(epoch: int) -> float:
    return 0.75 + 0.03 * epoch


def scripted(config: RunConfig, stop: threading.Event):
    """Events like engine.fit's, with known numbers; the seed picks the run's fate."""
    if config.seed == FAILED_SEED:
        raise RuntimeError("a scripted failure")
    yield Started(device="cpu", train_size=config.effective_train_size, test_size=1000, val_size=0,
                  steps_per_epoch=STEPS, parameters=1234)
    if config.seed == DIVERGED_SEED:
        yield Progress(step=1, epoch=0.25, train_loss=2.3, train_acc=0.1)
        yield Done(DIVERGED, 0, 0, 1, "The loss became NaN at step 1: lower the learning rate and train again.")
        return
    step = 0
    for epoch in range(1, config.epochs + 1):
        for i in range(STEPS):
            if stop.is_set():
                yield Done(STOPPED, epoch - 1, epoch - 1, step, "Stopped by the user.")
                return
            step += 1
            yield Progress(step=step, epoch=epoch - 1 + (i + 1) / STEPS, train_loss=2.0 / step,
                           train_acc=min(0.99, 0.2 + 0.05 * step))
            if config.dropout:
                yield MaskSnapshot(step=step, epoch=epoch - 1 + (i + 1) / STEPS, layer="drop", p=config.dropout,
                                   shape=(256,), activation=tuple(float(u % 7) for u in range(256)),
                                   kept=tuple((u + step) % 2 == 0 for u in range(256)))
            if config.seed % 100 == HOLD_SEED:
                stop.wait(60)  # "training" goes on until the test stops it
        at_chance = config.seed == STUCK_SEED
        yield EpochEnd(epoch=epoch, train_loss=0.5 / epoch, train_acc=0.8 + 0.04 * epoch,
                       train_loss_eval=0.4 / epoch, train_acc_eval=0.85 + 0.04 * epoch,
                       test_loss=2.3026 if at_chance else 0.6,
                       test_acc=0.098 if at_chance else scripted_test_acc(epoch),
                       val_loss=None, val_acc=None, l1_norm=1.0, l2_norm=1.0, near_zero=0.0, weight_hist=(0,) * 61,
                       best_epoch=epoch, seconds=0.1, step=step)
    yield Done(FINISHED, config.epochs, config.epochs, step, "")


# Replaying two real tiny trainings of these setups (tests/app/conftest.py's `recorded`, 100
# digits); seeds pick the fate.
WIDE = RunConfig(model="wide", dropout=0.5, patience=1, epochs=2, train_size=100)
ARTICLE = RunConfig(model="article", dropout=0.25, epochs=1, train_size=100)
RUNNING_SEED, REPLAY_DIVERGED_SEED, REPLAY_FAILED_SEED = 71, 72, 73


def replay(recorded: dict):
    """A trainer that plays back the recorded events of the config's model."""

    def train(config, stop: threading.Event):
        events = recorded[config.model]
        if config.seed == REPLAY_FAILED_SEED:
            raise RuntimeError("a scripted failure")
        if config.seed == REPLAY_DIVERGED_SEED:
            yield events[0]
            yield Done(DIVERGED, 0, 0, 1, "The loss became NaN or infinite at step 1.")
            return
        epochs = [e for e in events if isinstance(e, EpochEnd)]
        for event in events[:-1]:
            if config.seed == RUNNING_SEED and event is epochs[-1]:
                stop.wait(60)  # training "goes on" until stopped
                yield Done(STOPPED, 1, 1, event.step, "Stopped by the user.")
                return
            if isinstance(event, EpochEnd) and not config.patience:
                event = _without_val(event)
            yield event
        last, done = epochs[-1], events[-1]
        if config.patience:
            yield Done(done.status, last.epoch, last.best_epoch, last.step, done.message)
        else:
            yield Done(FINISHED, last.epoch, last.epoch, last.step)

    return train


def _without_val(event: EpochEnd) -> EpochEnd:
    from dataclasses import replace

    return replace(event, val_loss=None, val_acc=None)


def never(config, stop):
    """A trainer for pages that must not train."""
    raise AssertionError(f"nothing should train here, but {config.label()} was started")
    yield


# ----------------------------------------------------------------------------- the AppTest harness

def use_registry(monkeypatch, reg: Registry) -> Registry:
    """The app's pages talk to `reg` instead of the server's registry (webapp.state.override,
    the one injection point: pages and the live panel look it up at every call)."""
    import webapp.state

    monkeypatch.setattr(webapp.state, "override", reg)
    return reg


def _opened(path: pathlib.Path, query: dict | None = None, **state):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    for key, value in state.items():
        at.session_state[key] = value
    return at


def rerun(at):
    """Run the script again; no exception box may be on the page."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def app(query: dict | None = None, **state):
    """The whole app (streamlit_app.py) opened at the Playground, the default page, with a link's
    parameters and session state."""
    return rerun(_opened(ROOT / "streamlit_app.py", query, **state))


def open_page(page: str, config: RunConfig | None = None, present: bool = False, **state):
    """The whole app switched to `page` (e.g. "app_pages/dropout.py"), the sidebar set to `config`."""
    query = dict(to_query_params(config)) if config is not None else {}
    if present:
        query["present"] = "1"
    at = _opened(ROOT / "streamlit_app.py", query, **state)
    # The first run draws the sidebar (its config comes from the URL) and the
    # default page, which is not under test here; then the page itself.
    at.run()
    at.switch_page(page)
    return rerun(at)


def page_alone(page: str, **state):
    """One page file (e.g. "app_pages/history.py") run by itself, without the entry script's
    navigation and sidebar."""
    return rerun(_opened(ROOT / page, **state))


def chart_specs(at) -> list[dict]:
    """The Vega-Lite specs of the charts on the page, parsed."""
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_rows(chart) -> dict[str, int]:
    """Rows per named dataset of one vega_lite_chart element (Streamlit sends them as Arrow)."""
    import pyarrow as pa

    return {d.name: pa.ipc.open_stream(d.data.data).read_all().num_rows for d in chart.proto.datasets}


def charts(at) -> list:
    """The chart elements on the page."""
    return at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def measured(chart) -> bool:
    """True for a lesson pair's measured-curves chart (webapp/measured_curves.py), which every
    lesson page draws before any run; told apart by its alt text in either language."""
    return chart.proto.alt in {translate(f"pair.curves.chart.{metric}", lang)
                               for metric in ("acc", "loss") for lang in ("en", "zh")}


def run_charts(at) -> list:
    """The charts drawn from this page's own runs: every chart but the measured curves."""
    return [chart for chart in charts(at) if not measured(chart)]


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)
