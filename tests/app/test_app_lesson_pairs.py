"""AppTest of the lesson pairs: each regularizer page trains its catalog pair (baseline AND
treated, exactly the catalog's configs) side by side and says what was measured.

The catalog here is a stand-in module with tiny configs and known measured numbers, so
the sentences can be checked to the digit; the runs replay a real tiny training
(support.replay, as for test_app_lessons). test_lesson_catalog_pages checks the real catalog's pages.
"""

from __future__ import annotations

import types

import pytest
from support import app, charts, open_page, replay, texts

import regdemo.teaching.lessons  # noqa: F401 -- imported with the real catalog before any test stands in its own
from regdemo.teaching import effect as lesson_effect
from regdemo.teaching.lessons.catalog import Lesson
from regdemo.training.config import RunConfig

PAGES = {
    "dropout": "app_pages/dropout.py", "l1": "app_pages/l1_l2.py", "l2": "app_pages/l2.py",
    "early_stopping": "app_pages/early_stopping.py", "augmentation": "app_pages/augmentation.py",
    "more_data": "app_pages/augmentation.py", "batchnorm": "app_pages/batchnorm.py",
}
BASE = RunConfig(train_size=100, epochs=2, label_noise=0.2)
TREATED = {
    "dropout": dict(dropout=0.5), "l1": dict(l1=1e-4), "l2": dict(l2=1e-2), "early_stopping": dict(patience=1),
    "augmentation": dict(augment="light"), "more_data": dict(train_size=200), "batchnorm": dict(batchnorm=True),
}
# catalog.measured()'s shape: accuracies and gains in points, per seed and summarized.
MEASURED = {
    "seeds": [0, 1, 2], "machine": "a test machine", "cpus": 2, "torch": "2.x", "date": "2026-11-30",
    "command": "python -m regdemo lessons --check --seeds 3 --write",
    "lessons": {
        "dropout": {
            "measure": "accuracy", "seeds": [0, 1, 2],
            "baseline": {"test_acc": {"mean": 80.0, "std": 1.0, "per_seed": [80.0, 79.0, 81.0]},
                         "test_loss": {"mean": 0.9}, "peak_minus_final": {"mean": 4.2}},
            "treated": {"test_acc": {"mean": 88.7, "std": 0.5, "per_seed": [88.7, 88.2, 89.2]},
                        "test_loss": {"mean": 0.5}},
            "gain": {"mean": 8.7, "std": 0.5, "min": 8.2, "per_seed": [8.7, 9.2, 8.2]},
            "loss_change": {"mean": -0.44},
        },
        "l1": {
            "measure": "sparsity", "seeds": [0, 1, 2],
            "baseline": {"test_acc": {"mean": 80.0}, "near_zero": {"mean": 0.05}},
            "treated": {"test_acc": {"mean": 79.5}, "near_zero": {"mean": 0.62}},
            "gain": {"mean": -0.5, "std": 0.4, "min": -1.0},
        },
    },
}



@pytest.fixture
def catalog(monkeypatch):
    module = types.ModuleType("regdemo.teaching.lessons.catalog")
    module.LESSONS = {name: Lesson(name, name, {"en": f"Claim of {name}.", "zh": f"{name} 的结论。"}, BASE,
                                   BASE.replace(**changes)) for name, changes in TREATED.items()}
    module.measured = lambda: MEASURED
    monkeypatch.setattr(lesson_effect, "catalog", lambda: module)
    return module


@pytest.fixture
def trainer(recorded):
    return replay(recorded)


def test_measured_effect_is_read_from_the_stored_check():
    effect = lesson_effect.measured_effect("dropout", MEASURED)
    assert effect.seeds == 3 and effect.baseline_acc == pytest.approx(0.80)
    assert effect.gain == pytest.approx(8.7) and effect.gain_std == pytest.approx(0.5) and effect.gain_min == \
        pytest.approx(8.2)
    assert effect.peak_minus_final == pytest.approx(4.2)
    assert lesson_effect.measured_effect("l2", MEASURED) is None  # not measured: nothing said
    assert lesson_effect.about(MEASURED)["seeds"] == 3
    assert lesson_effect.measured_effect("l1", MEASURED).measure == "sparsity"


@pytest.mark.parametrize("name", list(PAGES))
def test_every_pair_page_shows_its_claim_and_try_it(registry, catalog, name):
    at = open_page(PAGES[name])
    assert f"Claim of {name}." in texts(at.markdown)
    assert at.button(key=f"pair_{name}_try")
    assert not registry.runs()


def test_dropout_pair_says_what_was_measured_and_trains_both_runs(registry, catalog):
    at = open_page(PAGES["dropout"])
    info = texts(at.info)
    assert "over 3 seeds" in info and "+8.7 ± 0.5 points" in info and "worst seed +8.2" in info
    assert "on 2026-11-30, a test machine (2 CPUs" in info and "peaked 4.2 points" in info
    assert "the 1,000 test digits" in info
    at.button(key="pair_dropout_try").click().run()
    lesson = catalog.LESSONS["dropout"]
    runs = [registry.get(c.key()) for c in (lesson.baseline, lesson.treated)]
    assert all(run is not None for run in runs), "Try it trains exactly the catalog's two configs"
    assert [run.config for run in runs] == [lesson.baseline, lesson.treated]
    assert all(run.wait(60) for run in runs)
    at.run()
    assert not at.exception
    pair = [c for c in charts(at) if c.proto.spec and "Accuracy: without" in c.proto.spec]
    assert pair, "the pair's accuracy chart"
    live = texts(at.success)
    assert "These two runs (one seed)" in live and "points" in live


def test_the_l1_pair_leads_with_sparsity(registry, catalog):
    info = texts(open_page(PAGES["l1"]).info)
    assert "near zero (|w| < 10⁻³) 5.0 % without, **62.0 % with L1**" in info
    assert "-0.5 ± 0.4 points" in info


def test_an_unmeasured_pair_says_so(registry, catalog):
    at = open_page(PAGES["batchnorm"])
    assert "not been measured" in texts(at.caption)
    assert "seeds:" not in texts(at.info)


def test_pages_render_without_a_catalog(registry, monkeypatch):
    monkeypatch.setattr(lesson_effect, "catalog", lambda: None)
    for page in set(PAGES.values()):
        at = open_page(page)
        assert at.title[0].value and not at.exception



def test_playground_show_overfitting_trains_a_lesson_baseline(registry, catalog):
    at = app()
    at.button(key="pg_overfit").click().run()
    assert not at.exception
    baseline = catalog.LESSONS["dropout"].baseline  # the only lesson whose stored check has a peak
    assert at.session_state["config"] == baseline
    assert registry.get(baseline.key()) is not None
    assert "noise" in {k for k in at.query_params}
