"""regdemo.settings: every REGDEMO_* variable read in one place, defaults when unset, and a bad
value is an error that names the variable and what it accepts."""

from __future__ import annotations

import pathlib

import pytest

from regdemo import settings
from regdemo.cli import parser as cli
from regdemo.messages import render
from regdemo.runs import cluster
from regdemo.settings import SettingError
from regdemo.storage.sqlite import StoreUnavailable


def test_defaults_when_nothing_is_set(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "share"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    s = settings.read(env)
    assert s.home == tmp_path / "share" / "regdemo"
    assert s.data_dir == tmp_path / "cache" / "regdemo" / "data"
    assert (s.workers, s.torch_threads, s.session_runs, s.max_queued) == (None, 0, 4, 100)
    assert (s.grace_seconds, s.stale_seconds) == (120.0, 20.0)
    assert s.database_url == s.broker_url == s.mnist_url == s.fashion_url == ""


def test_values_from_the_environment(tmp_path):
    env = {"REGDEMO_HOME": str(tmp_path / "home"), "REGDEMO_WORKERS": "3", "REGDEMO_TORCH_THREADS": "2",
           "REGDEMO_SESSION_RUNS": "6", "REGDEMO_MAX_QUEUED": "10", "REGDEMO_GRACE_SECONDS": "2.5",
           "REGDEMO_STALE_SECONDS": "4", "REGDEMO_BROKER_URL": " redis://q:6379/0 ",
           "REGDEMO_MNIST_URL": "http://a/ http://b/"}
    s = settings.read(env)
    assert s.home == tmp_path / "home" and s.data_dir == tmp_path / "home" / "data"  # downloads follow the home
    assert (s.workers, s.torch_threads, s.session_runs, s.max_queued) == (3, 2, 6, 10)
    assert (s.grace_seconds, s.stale_seconds) == (2.5, 4.0)
    assert s.broker_url == "redis://q:6379/0" and s.mnist_url == "http://a/ http://b/"
    assert settings.read({"REGDEMO_DATA_DIR": "~/digits", "REGDEMO_HOME": str(tmp_path)}).data_dir == \
        pathlib.Path("~/digits").expanduser()
    assert settings.read({"REGDEMO_WORKERS": " "}).workers is None  # blank is unset


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("REGDEMO_WORKERS", "lots", "a whole number of at least 1"),
    ("REGDEMO_WORKERS", "0", "a whole number of at least 1"),
    ("REGDEMO_SESSION_RUNS", "2.5", "a whole number of at least 1"),
    ("REGDEMO_MAX_QUEUED", "-1", "a whole number of at least 1"),
    ("REGDEMO_TORCH_THREADS", "-2", "a whole number of at least 0"),
    ("REGDEMO_GRACE_SECONDS", "0", "a number of seconds above 0"),
    ("REGDEMO_STALE_SECONDS", "nan", "a number of seconds above 0"),
    ("REGDEMO_GRACE_SECONDS", "soon", "a number of seconds above 0"),
])
def test_a_bad_value_names_the_variable_and_the_range(name, value, expected):
    with pytest.raises(SettingError) as info:
        settings.read({name: value})
    err = info.value
    assert str(err) == f"{name} must be {expected}, got {value!r}"
    assert err.message.code == "setting.invalid" and err.message.values()["name"] == name
    assert isinstance(err, ValueError)
    chinese = render(err, "zh")  # a Chinese page says it in Chinese, naming the variable and the value
    assert name in chinese and repr(value) in chinese and "must be" not in chinese and "应为" in chinese


def test_read_looks_at_the_environment_each_time(monkeypatch):
    monkeypatch.setenv("REGDEMO_SESSION_RUNS", "2")
    assert settings.read().session_runs == 2
    monkeypatch.setenv("REGDEMO_SESSION_RUNS", "5")
    assert settings.read().session_runs == 5


def test_the_cli_says_a_bad_value_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    monkeypatch.setenv("REGDEMO_GRACE_SECONDS", "-5")
    assert cli.main(["runs"]) == 2
    err = capsys.readouterr().err
    assert err == "error: REGDEMO_GRACE_SECONDS must be a number of seconds above 0, got '-5'\n"


def test_the_app_gets_a_bad_value_as_its_one_line_store_message(monkeypatch, tmp_path):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    monkeypatch.delenv("REGDEMO_BROKER_URL", raising=False)
    monkeypatch.setenv("REGDEMO_WORKERS", "many")
    with pytest.raises(StoreUnavailable, match="REGDEMO_WORKERS must be a whole number of at least 1, got 'many'"):
        cluster.registry_from_environment()
