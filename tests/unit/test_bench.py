"""The benchmark (tools/bench.py, `python -m regdemo bench` from a checkout) runs end to end on tiny
settings; it measures, it asserts no timings."""

import json
import math
import pathlib
import shutil
import subprocess
import sys

import pytest
import torch

from regdemo.cli import parser as cli
from regdemo.training.models import CapturingDropout
from tools import bench
from tools.bench import ArticleDigits, _slope, article_model, synthetic_dataset

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))  # the child processes inherit it


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.subprocess
def test_bench_runs_end_to_end_and_ends_with_the_json_summary(capsys, monkeypatch):
    # One thread setting instead of three: each is a fresh process importing torch.
    monkeypatch.setattr(bench, "THREAD_SETTINGS", {"1 thread, passive": (1, {"OMP_WAIT_POLICY": "PASSIVE"})})
    assert bench.main(["--tiny", "--json", "--devices", "cpu", "--models", "article"]) == 0
    out = capsys.readouterr().out
    assert "article's pipeline (DataLoader)" in out and "first progress event" in out
    summary = _last_json(out)
    for key in ("engine_vs_article", "engine_vs_bare"):
        assert math.isfinite(summary[key]) and summary[key] > 0
    article = summary["results"]["cpu"]["article"]
    assert summary["engine_vs_article"] == article["engine_vs_article"]
    assert set(article["samples_per_s"]) >= {"article", "bare", "bare_contiguous", "engine", "engine_aug",
                                             "engine_steps", "engine_aug_steps"}
    assert all(v > 0 for v in article["samples_per_s"].values())
    assert article["train_samples"] == 128 and article["test_samples"] == 64
    startup = summary["startup"]
    assert startup["default_run_status"] == "finished"
    for key in ("cold_first_progress_s", "warm_first_progress_s", "first_progress_after_warm_up_s",
                "default_run_s", "peak_rss_mib"):
        assert startup[key] > 0
    assert len(startup["memory_run"]["rss_per_epoch_mib"]) == 3
    assert summary["threads"]["1 thread, passive"] > 0


def test_quick_without_child_processes_measures_the_wide_net(capsys):
    argv = ["--tiny", "--quick", "--json", "--devices", "cpu", "--models", "wide", "--no-startup"]
    assert bench.main(argv) == 0
    summary = _last_json(capsys.readouterr().out)
    assert summary["startup"] is None and summary["threads"] is None and summary["main_device"] == "cpu"
    wide = summary["results"]["cpu"]["wide"]
    assert "bare_contiguous" not in wide["samples_per_s"]  # --quick skips the contiguous floor
    assert summary["engine_vs_bare"] == wide["engine_vs_bare"]


def test_unknown_model_is_a_usage_error(capsys):
    assert bench.main(["--tiny", "--models", "resnet", "--no-startup"]) == 2
    assert "--models" in capsys.readouterr().err


def test_article_digits_are_totensor_then_normalize():
    ds = synthetic_dataset(4, 2)
    x, y = ArticleDigits(ds.train_images, ds.train_labels)[3]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and isinstance(y, int)
    expected = (ds.train_images[3].float() / 255 - 0.1307) / 0.3081
    torch.testing.assert_close(x[0], expected)
    assert y == int(ds.train_labels[3])


def test_slope_is_least_squares():
    assert _slope([5.0, 5.0, 5.0]) == 0.0
    assert _slope([1.0, 2.0, 3.0, 4.0]) == pytest.approx(1.0)
    assert _slope([0.0, 2.0, 1.0]) == pytest.approx(0.5)


def test_the_article_pipeline_trains_with_torch_dropout_like_the_article():
    model = article_model("article")
    drops = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(drops) == 2 and all(m.p == 0.25 for m in drops)
    assert not any(isinstance(m, CapturingDropout) for m in model.modules())


@pytest.mark.subprocess
def test_regdemo_bench_forwards_to_the_tool(capfd):
    """`python -m regdemo bench` runs `python -m tools.bench` with every argument, --help included."""
    assert cli.main(["bench", "--help"]) == 0
    assert "usage: python -m tools.bench" in capfd.readouterr().out
    assert cli.main(["bench", "--tiny", "--models", "resnet", "--no-startup"]) == 2
    assert "--models" in capfd.readouterr().err


@pytest.mark.subprocess
def test_regdemo_bench_outside_a_checkout_says_where_the_tool_is(tmp_path):
    """An installed regdemo (no tools/ beside it) answers `bench` with one line, not a traceback."""
    shutil.copytree(ROOT / "regdemo", tmp_path / "regdemo", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "regdemo", "bench", "--quick"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not available here (tools.bench is a tool of the repository" in done.stderr
