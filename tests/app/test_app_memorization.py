"""AppTest of memorization on the pages: a noisy lesson pair and the Playground with label noise
show the memorized curve and the gallery; a clean pair does not; a stored check that saw a seed
where the treated run did not memorize less says so. The runs replay one real tiny noisy training."""

from __future__ import annotations

import types

import pytest
from support import app, charts, open_page, texts

from regdemo.i18n import translate
from regdemo.teaching import effect as lesson_effect
from regdemo.teaching.lessons.catalog import Lesson
from regdemo.training import engine
from regdemo.training.config import RunConfig
from regdemo.training.events import Done, EpochEnd, Started

NOISY = RunConfig(train_size=100, epochs=2, label_noise=0.25)
CLEAN = RunConfig(train_size=100, epochs=2)



@pytest.fixture(scope="module")
def noisy_events():
    events = list(engine.fit(NOISY.replace(model="wide")))
    assert events[0].gallery_indices and all(e.memorized is not None for e in events if isinstance(e, EpochEnd))
    return events


@pytest.fixture
def trainer(noisy_events):
    """Every run replays the noisy training (a clean config gets it without the noise figures)."""
    def train(config, stop):
        for event in noisy_events:
            if not config.label_noise and isinstance(event, (Started, EpochEnd)):
                fields = {"gallery_indices": (), "gallery_true": (), "gallery_given": (), "gallery_pixels": ""} \
                    if isinstance(event, Started) else {"memorized": None, "train_acc_clean": None,
                                                        "gallery_predictions": ()}
                event = type(event)(**{**event.__dict__, **fields})
            if isinstance(event, Done):
                event = Done(event.status, event.epochs_run, event.best_epoch, event.step, event.message)
            yield event
    return train


@pytest.fixture
def catalog(monkeypatch):
    module = types.ModuleType("memorization_test_catalog")
    module.LESSONS = {
        "dropout": Lesson("dropout", "dropout", {"en": "Dropout claim.", "zh": "结论。"}, NOISY,
                          NOISY.replace(dropout=0.5)),
        "batchnorm": Lesson("batchnorm", "batchnorm", {"en": "BN claim.", "zh": "结论。"}, CLEAN,
                            CLEAN.replace(batchnorm=True)),
    }
    module.measured = lambda: {"seeds": [0, 1, 2], "lessons": {"dropout": {
        "seeds": [0, 1, 2], "memorizes_less": [True, False, True],
        "baseline": {"test_acc": {"mean": 80.0}}, "treated": {"test_acc": {"mean": 88.0}},
        "gain": {"mean": 8.0, "std": 0.5, "min": 7.5}}}}
    monkeypatch.setattr(lesson_effect, "catalog", lambda: module)
    return module


def _train_pair(at, registry, lesson):
    at.button(key=f"pair_{lesson.name}_try").click().run()
    runs = [registry.get(c.key()) for c in (lesson.baseline, lesson.treated)]
    assert all(run is not None and run.wait(60) for run in runs)
    at.run()
    assert not at.exception
    return runs


def test_a_noisy_pair_shows_the_curve_the_gallery_and_the_seed_that_did_not_memorize_less(registry, catalog):
    at = open_page("app_pages/dropout.py")
    assert translate("memo.title") not in texts(at.subheader)  # nothing trained yet
    runs = _train_pair(at, registry, catalog.LESSONS["dropout"])
    assert translate("memo.title") in texts(at.subheader)
    curve = [c for c in charts(at) if translate("memo.chart.memorized") in c.proto.spec]
    assert curve and translate("memo.chart.clean") in curve[0].proto.spec
    view = runs[0].view()
    total = len(view.started.gallery_indices)
    memorized = sum(p == g for p, g in zip(view.epochs[-1].gallery_predictions, view.started.gallery_given,
                                           strict=True))
    counts = texts(at.caption)
    assert translate("memo.gallery.count", run=translate("pair.baseline"), count=memorized, total=total) in counts
    assert at.get("image"), "the gallery picture"
    assert translate("memo.not_less", seeds="1", count=1) in texts(at.warning)


def test_a_clean_pair_shows_no_memorization(registry, catalog):
    at = open_page("app_pages/batchnorm.py")
    _train_pair(at, registry, catalog.LESSONS["batchnorm"])
    assert translate("memo.title") not in texts(at.subheader)
    assert not [c for c in charts(at) if translate("memo.chart.memorized") in c.proto.spec]


def test_the_playground_shows_memorization_with_noise_only(registry, catalog):
    at = app()
    at.session_state["run_key"] = registry.get_or_start(NOISY).key
    assert registry.get(NOISY.key()).wait(60)
    at.run()
    assert not at.exception
    assert translate("memo.title") in texts(at.subheader)
    assert f"{translate('memo.this_run')}: " in texts(at.caption)  # the gallery's count line
    at.session_state["run_key"] = registry.get_or_start(CLEAN).key
    assert registry.get(CLEAN.key()).wait(60)
    at.run()
    assert translate("memo.title") not in texts(at.subheader)
