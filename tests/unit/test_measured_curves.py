"""The lesson pages' measured curves (regdemo.teaching.lessons.curves): the files in the
repository agree with measured.json, and the writer stores what the check's runs trained."""

from __future__ import annotations

import dataclasses
import json

import pytest

from regdemo.teaching.lessons import catalog, check, curves
from regdemo.teaching.lessons.catalog import Lesson
from regdemo.training.config import RunConfig
from regdemo.training.data import load_dataset


def test_the_shipped_curves_agree_with_measured_json():
    """Each seed's kept epoch on its curve is the number measured.json stores for that seed;
    when the curves hold all of measured.json's seeds, their final means are its means."""
    measured = catalog.measured()
    assert measured, "measured.json ships with the repository"
    for name, entry in measured["lessons"].items():
        data = curves.load(name)
        assert data is not None, f"{name}: no curve file beside measured.json (lessons --check --write)"
        assert set(data["seeds"]) <= set(entry["seeds"]), name
        for side in curves.SIDES:
            stored = entry[side]
            finals = {}
            for metric, tolerance in (("test_acc", 0.006), ("test_loss", 1.1e-4)):
                finals[metric] = [curves.kept(curve, best) for curve, best in
                                  zip(data[side][metric], data[side]["best_epoch"], strict=True)]
                for seed, value in zip(data["seeds"], finals[metric], strict=True):
                    expected = stored[metric]["per_seed"][entry["seeds"].index(seed)]
                    assert value == pytest.approx(expected, abs=tolerance), (name, side, metric, seed)
                if data["seeds"] == entry["seeds"]:
                    mean = sum(finals[metric]) / len(finals[metric])
                    assert mean == pytest.approx(stored[metric]["mean"], abs=tolerance), (name, side, metric)
            lesson = catalog.LESSONS[name]
            config = lesson.baseline if side == "baseline" else lesson.treated
            for curve in data[side]["test_acc"]:  # the catalog's run: its epochs, or fewer when it stopped early
                assert len(curve) == config.epochs or (config.patience and len(curve) < config.epochs), (name, side)


TINY = RunConfig(train_size=200, label_noise=0.2, epochs=3, device="cpu")


@pytest.fixture(scope="module")
def tiny_results():
    full = load_dataset("mnist-sample")
    small = dataclasses.replace(full, test_images=full.test_images[:200], test_labels=full.test_labels[:200])
    lessons = [Lesson("dropout", "dropout", {"en": "a", "zh": "b"}, TINY, TINY.replace(dropout=0.5)),
               Lesson("early_stopping", "early_stopping", {"en": "a", "zh": "b"}, TINY, TINY.replace(patience=1))]
    return check.run_check(lessons, 2, runner=lambda config: check.run_in_process(config, dataset=small))


def test_written_curves_are_the_runs_epochs(tiny_results, tmp_path):
    written = curves.write_curves(tiny_results, tmp_path / "curves", command="lessons --check", date="today")
    assert sorted(p.name for p in written) == ["dropout.json", "early_stopping.json"]
    for result in tiny_results:
        data = curves.load(result.lesson.name, tmp_path / "curves")
        assert data["seeds"] == [0, 1] and data["command"] == "lessons --check" and data["date"] == "today"
        for side in curves.SIDES:
            runs = getattr(result, side)
            assert data[side]["best_epoch"] == [r.best_epoch for r in runs]
            for run, acc, loss, best in zip(runs, data[side]["test_acc"], data[side]["test_loss"],
                                            data[side]["best_epoch"], strict=True):
                assert len(acc) == len(loss) == run.epochs_run
                assert curves.kept(acc, best) == pytest.approx(run.test_acc, abs=0.005)
                assert curves.kept(loss, best) == pytest.approx(run.test_loss, abs=5e-5)
                assert max(acc) == pytest.approx(run.peak_test_acc, abs=0.005)


def test_the_mean_curve_averages_the_seeds_that_trained_each_epoch():
    data = {"seeds": [0, 1], "baseline": {"best_epoch": [3, 1], "test_acc": [[10, 20, 30], [30, 40]],
                                          "test_loss": [[1, 1, 1], [3, 3]]}}
    assert curves.mean_curve(data, "baseline", "test_acc") == [(1, 20), (2, 30), (3, 30)]
    assert curves.mean_curve(data, "baseline", "test_loss") == [(1, 2), (2, 2), (3, 1)]
    assert curves.kept([10, 20, 30], 2) == 20 and curves.kept([10, 20, 30], 0) == 30


def test_a_missing_or_damaged_file_is_no_curves(tmp_path):
    assert curves.load("dropout", tmp_path) is None
    (tmp_path / "dropout.json").write_text("{not json")
    assert curves.load("dropout", tmp_path) is None
    (tmp_path / "dropout.json").write_text(json.dumps({"seeds": [0], "baseline": {}, "treated": {}}))
    assert curves.load("dropout", tmp_path) is None


def test_the_cli_writes_the_curves_beside_its_json(tmp_path, monkeypatch):
    """`lessons --check --write PATH` puts curves/ beside PATH (the real files: beside measured.json)."""
    assert curves.folder_for(catalog.MEASURED_PATH) == curves.CURVES_DIR
    assert curves.folder_for(tmp_path / "m.json") == tmp_path / "curves"
