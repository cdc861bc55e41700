import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from regdemo.cli.parser import main
from regdemo.training.checkpoint import load_model
from regdemo.training.config import preset

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--train-size", "200", "--epochs", "1", "--device", "cpu"]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REGDEMO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_train_prints_a_table(capsys):
    assert main(["train", *TINY]) == 0
    out = capsys.readouterr().out
    assert "train % (eval)" in out and "test %" in out
    assert out.strip().splitlines()[-1].startswith("finished")


def test_train_json_lines(capsys):
    assert main(["train", *TINY, "--epochs", "2", "--dropout", "0.5", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    epochs, final = lines[:-1], lines[-1]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        for key in ("epoch", "train_loss", "train_acc", "train_acc_eval", "test_loss", "test_acc", "seconds"):
            assert key in e
        for key in ("train_acc", "train_acc_eval", "test_acc"):
            assert 0.0 <= e[key] <= 1.0
    assert final["status"] == "finished"


def test_preset_with_overrides(capsys):
    assert main(["train", "--preset", "article-dropout", *TINY, "--json"]) == 0
    final = json.loads(capsys.readouterr().out.splitlines()[-1])
    expected = preset("article-dropout", train_size=200, epochs=1, device="cpu")
    assert final["key"] == expected.key()


def test_save_then_load_model(tmp_path, capsys):
    path = tmp_path / "ck" / "model.pt"
    assert main(["train", *TINY, "--model", "article", "--dropout", "0.25", "--save", str(path)]) == 0
    model = load_model(path)
    assert not model.training and model.config.model == "article" and model.config.dropout == 0.25
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(model(x), model(x))  # eval mode: dropout off, deterministic
    assert not list(path.parent.glob("*.tmp"))  # no half-written file left behind


@pytest.mark.parametrize("args, fragment", [
    (["--dropout", "1.5"], "dropout must be in [0, 1)"),
    (["--dropout", "nan"], "finite"),
    (["--l1", "-1"], "l1 must be between"),
    (["--l2", "-0.1"], "l2 must be between"),
    (["--preset", "article-l3"], "unknown preset"),
    (["--train-size", "5000"], "larger than the mnist-sample training split"),
    (["--epochs", "0"], "epochs must be between"),
    (["--epochs", "two"], "invalid int value"),
    (["--model", "vgg"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line(args, fragment, capsys):
    assert main(["train", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.subprocess
def test_offline_download_is_one_clear_line_no_traceback(home):
    env = dict(os.environ, REGDEMO_MNIST_URL=f"http://127.0.0.1:{_closed_port()}/",
               REGDEMO_HOME=str(home / "home"), REGDEMO_DATA_DIR=str(home / "data"))
    result = subprocess.run([sys.executable, "-m", "regdemo", "train", "--dataset", "mnist", "--epochs", "1"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "mnist-sample" in error_lines[0] and "--data-dir" in error_lines[0]
    assert not any((home / "data").rglob("*.gz"))  # nothing half-downloaded left in the cache
