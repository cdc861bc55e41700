"""The lesson catalog and `python -m regdemo lessons`: the pairs, their train arguments, the
check's statistics on small real runs, and the measured numbers the pages read."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from regdemo.cli.parser import build_parser, config_from_args, main
from regdemo.teaching.lessons import LESSON_PRESETS, catalog, check
from regdemo.teaching.lessons.catalog import CONTRAST, LESSONS, SPARSITY, Lesson, measured, train_args
from regdemo.training.config import RunConfig
from regdemo.training.data import load_dataset

NAMES = ("dropout", "l1", "l2", "augmentation", "batchnorm", "early_stopping", "adamw", "more_data")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    return tmp_path


def parse_train(args: list[str]) -> RunConfig:
    return config_from_args(build_parser().parse_args(["train", *args]))


def test_catalog_has_exactly_the_lessons_in_order():
    assert tuple(LESSONS) == NAMES
    for name, lesson in LESSONS.items():
        assert lesson.name == name
        assert set(lesson.claim) == {"en", "zh"} and all(lesson.claim.values())
        assert lesson.baseline.seed == lesson.treated.seed == 0
        assert lesson.baseline != lesson.treated
        assert lesson.baseline.dataset == "mnist-sample"  # runs offline, on the embedded digits


def test_each_pair_differs_in_its_regularizer_only():
    expected = {"dropout": {"dropout"}, "l1": {"l1"}, "l2": {"l2"}, "augmentation": {"augment"},
                "batchnorm": {"batchnorm"}, "early_stopping": {"patience"}, "more_data": {"train_size"},
                "adamw": {"optimizer"}}
    for name, fields in expected.items():
        lesson = LESSONS[name]
        differ = {f.name for f in dataclasses.fields(RunConfig)
                  if getattr(lesson.baseline, f.name) != getattr(lesson.treated, f.name)}
        assert differ == fields, name
    assert LESSONS["more_data"].treated.train_size > LESSONS["more_data"].baseline.train_size


@pytest.mark.parametrize("name", NAMES)
def test_train_args_reproduce_the_config_exactly(name):
    for config in (LESSONS[name].baseline, LESSONS[name].treated):
        args = train_args(config)
        assert not {"--seed", "--json", "--save", "--preset"} & set(args)
        assert parse_train(args) == config and parse_train(args).key() == config.key()


def test_train_args_are_explicit_and_exact():
    odd = RunConfig(l2=1 / 3, lr=0.1234567891, batchnorm=True, penalize_all=True, seed=5)
    args = train_args(odd)
    assert "--batchnorm" in args and "--penalize-all" in args
    assert "--no-batchnorm" in train_args(RunConfig())
    assert parse_train(args) == odd.replace(seed=0)  # floats survive exactly; the seed is left out
    # Every flag of `train` that sets a RunConfig field is given (a changed default changes nothing).
    given = {a for a in args if a.startswith("--")}
    assert len(given) == len(dataclasses.fields(RunConfig)) - 2  # all but seed and data_dir


def test_lesson_presets_come_from_the_catalog():
    assert RunConfig(**LESSON_PRESETS["dropout"]) == LESSONS["dropout"].treated
    assert RunConfig(**LESSON_PRESETS["l1_l2"]) == LESSONS["l2"].treated
    assert RunConfig(**LESSON_PRESETS["early_stopping"]) == LESSONS["early_stopping"].treated
    assert RunConfig(**LESSON_PRESETS["augmentation"]) == LESSONS["augmentation"].treated
    assert RunConfig(**LESSON_PRESETS["batchnorm"]) == LESSONS["batchnorm"].treated
    assert LESSONS["batchnorm"].treated.model == "article"
    assert RunConfig(**LESSON_PRESETS["train_size"]) == LESSONS["more_data"].baseline


def test_lessons_json_lines(capsys):
    assert main(["lessons", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["lesson"] for line in lines] == list(NAMES)
    for line in lines:
        assert set(line) == {"lesson", "topic", "claim", "baseline", "treated"}
        assert line["claim"] == LESSONS[line["lesson"]].claim["en"]
        assert parse_train(line["baseline"]) == LESSONS[line["lesson"]].baseline
        assert parse_train(line["treated"]) == LESSONS[line["lesson"]].treated


def test_lessons_plain_listing_and_bad_flags(capsys):
    assert main(["lessons", "--only", "dropout,l2"]) == 0
    out = capsys.readouterr().out
    assert "dropout (dropout page)" in out and "l2 (l1_l2 page)" in out and "augmentation" not in out
    assert "python -m regdemo train --dataset mnist-sample" in out
    assert main(["lessons", "--only", "weight_noise"]) == 2
    assert "unknown lesson 'weight_noise'" in capsys.readouterr().err
    assert main(["lessons", "--seeds", "2"]) == 2  # --seeds without --check
    assert main(["lessons", "--check", "--seeds", "0"]) == 2
    assert main(["lessons", "--check", "--json"]) == 2


# --- the check, on small real runs ----------------------------------------------------------

TINY_BASE = RunConfig(train_size=200, label_noise=0.2, epochs=3, device="cpu")
TINY = [
    Lesson("dropout", "dropout", {"en": "a", "zh": "b"}, TINY_BASE, TINY_BASE.replace(dropout=0.5)),
    Lesson("l1", "l1_l2", {"en": "a", "zh": "b"}, TINY_BASE, TINY_BASE.replace(l1=1e-3), SPARSITY),
    Lesson("l2", "l1_l2", {"en": "a", "zh": "b"}, TINY_BASE, TINY_BASE.replace(l2=5e-2), "loss"),
    Lesson("early_stopping", "early_stopping", {"en": "a", "zh": "b"}, TINY_BASE,
           TINY_BASE.replace(patience=1)),
]


@pytest.fixture(scope="module")
def tiny_results():
    full = load_dataset("mnist-sample")
    small = dataclasses.replace(full, test_images=full.test_images[:200], test_labels=full.test_labels[:200])
    trained = []

    def runner(config):
        trained.append(config)
        return check.run_in_process(config, dataset=small)

    results = check.run_check(TINY, 2, runner=runner)
    return results, trained


def test_check_trains_each_config_once_per_seed(tiny_results):
    results, trained = tiny_results
    keys = [c.key() for c in trained]
    assert len(keys) == len(set(keys))
    # baseline, dropout, L1, L2, early stopping: 5 configs x 2 seeds (the shared baseline and
    # L2's runs, which L1's sparsity line reuses, train once).
    assert len(trained) == 10 and {c.seed for c in trained} == {0, 1}
    assert [r.lesson.name for r in results] == ["dropout", "l1", "l2", "early_stopping"]


def test_check_statistics_are_the_runs_numbers(tiny_results):
    results, _ = tiny_results
    dropout = results[0]
    assert dropout.seeds == (0, 1)
    gains = [t.test_acc - b.test_acc for b, t in zip(dropout.baseline, dropout.treated, strict=True)]
    assert dropout.gains == pytest.approx(gains)
    for run in dropout.baseline + dropout.treated:
        assert 0 <= run.test_acc <= 100 and run.peak_test_acc >= run.test_acc - 1e-9
        assert run.peak_minus_final >= 0 and run.epochs_run == 3 and run.seconds > 0
    # Early stopping keeps its best held-out epoch: its test numbers are that epoch's.
    for run in results[3].treated:
        assert 1 <= run.best_epoch <= run.epochs_run
    l1 = results[1]
    assert set(l1.near_zero) == {"none", "l1", "l2"}
    assert l1.near_zero["none"] == pytest.approx(sum(r.near_zero for r in l1.baseline) / 2)
    assert l1.near_zero["l2"] == pytest.approx(sum(r.near_zero for r in results[2].treated) / 2)


def test_check_table_and_json(tiny_results, tmp_path):
    results, _ = tiny_results
    text = check.table(results)
    lines = text.splitlines()
    assert lines[0].split()[0] == "lesson" and "min gain" in lines[0] and "peak-final" in lines[0]
    for r in results:
        assert any(line.startswith(r.lesson.name) for line in lines)
    assert "near-zero weights" in text and "l1" in text
    data = check.to_json(results, "python -m regdemo lessons --check --seeds 2")
    path = tmp_path / "measured.json"
    check.write_json(data, path)
    back = measured(path)
    assert back == json.loads(json.dumps(data)) and back["seeds"] == [0, 1]
    entry = back["lessons"]["dropout"]
    assert entry["gain"]["per_seed"] == [round(g, 2) for g in results[0].gains]
    assert entry["gain"]["min"] == min(entry["gain"]["per_seed"])
    assert math.isclose(entry["baseline"]["test_acc"]["mean"],
                        sum(entry["baseline"]["test_acc"]["per_seed"]) / 2, abs_tol=0.01)
    assert parse_train(entry["treated_args"]) == TINY[0].treated
    assert set(back["lessons"]["l1"]["near_zero"]) == {"none", "l1", "l2"}
    assert back["torch"] and back["machine"] and back["date"].endswith("UTC")
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_check_reports_memorized_at_the_kept_epoch(tiny_results):
    results, _ = tiny_results
    for r in results:
        for run in r.baseline + r.treated:
            assert 0.0 <= run.memorized <= 1.0  # every tiny lesson has label noise
        assert r.memorizes_less == [t.memorized < b.memorized for b, t in zip(r.baseline, r.treated, strict=True)]
    text = check.table(results)
    assert "base mem" in text.splitlines()[0] and "treat mem" in text.splitlines()[0]
    entry = check.to_json(results)["lessons"]["dropout"]
    assert entry["baseline"]["memorized"]["per_seed"] == [round(r.memorized, 4) for r in results[0].baseline]


def test_memorizes_less_seed_by_seed_and_the_table_says_where_not():
    def run(memorized):
        return check.RunResult(80, 0.5, 85, 80, 0.02, 20, 20, 1.0, memorized)

    worse = check.LessonResult(TINY[0], (0, 1, 2), (run(0.9),) * 3, (run(0.3), run(0.95), run(0.2)))
    assert worse.memorizes_less == [True, False, True]
    assert "dropout: the treated run memorized NOT less than the baseline in seed(s) 1" in check.table([worse])
    clean = check.LessonResult(TINY[0], (0,), (run(None),), (run(None),))
    assert clean.memorizes_less is None and "NOT less" not in check.table([clean])
    assert "memorized" not in check.to_json([clean])["lessons"]["dropout"]["baseline"]


def test_proven_follows_the_bars():
    def run(acc, loss=0.5, near_zero=0.02):
        return check.RunResult(acc, loss, acc + 5, acc, near_zero, 20, 20, 1.0)

    def result(lesson, base, treated):
        return check.LessonResult(lesson, (0, 1, 2), tuple(base), tuple(treated))

    acc_lesson, loss_lesson, l1_lesson = TINY[0], TINY[2], TINY[1]
    assert result(acc_lesson, [run(80)] * 3, [run(83)] * 3).proven()
    # 3 points on average but one seed below 2: not proven.
    assert not result(acc_lesson, [run(80)] * 3, [run(84), run(84), run(81)]).proven()
    # L2: 25 % lower loss with accuracy not lower proves it; with accuracy lower it does not.
    assert result(loss_lesson, [run(80, 0.8)] * 3, [run(80.5, 0.6)] * 3).proven()
    assert not result(loss_lesson, [run(80, 0.8)] * 3, [run(79.5, 0.6)] * 3).proven()
    assert result(l1_lesson, [run(80, near_zero=0.02)] * 3, [run(70, near_zero=0.07)] * 3).proven()
    assert not result(l1_lesson, [run(80, near_zero=0.02)] * 3, [run(90, near_zero=0.05)] * 3).proven()
    # A contrast claims no winner: measured either way, the treated run a little worse included.
    contrast = Lesson("adamw", "l1_l2", {"en": "a", "zh": "b"}, TINY_BASE.replace(optimizer="adam"),
                      TINY_BASE.replace(optimizer="adamw"), CONTRAST)
    assert result(contrast, [run(80)] * 3, [run(79)] * 3).proven()
    assert "measured" in check.table([result(contrast, [run(80)] * 3, [run(79)] * 3)])


@pytest.mark.subprocess
def test_check_through_the_cli_process(tmp_path, capsys):
    """One real `python -m regdemo train` process, as --check runs them."""
    config = RunConfig(train_size=100, epochs=1, label_noise=0.2, device="cpu", seed=1)
    result = check.run_cli(config)
    assert result.epochs_run == 1 and 0 <= result.test_acc <= 100 and result.seconds > 0
    with pytest.raises(check.CheckError):
        check.result_from_lines([{"status": "diverged", "best_epoch": 0, "message": "NaN"}], 1.0)


def test_measured_is_empty_without_a_file_and_for_a_damaged_one(tmp_path):
    assert measured(tmp_path / "missing.json") == {}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert measured(bad) == {}
    bad.write_text("[1, 2]")
    assert measured(bad) == {}
    assert isinstance(catalog.measured(), dict)  # the shipped file, or {} before one is written
