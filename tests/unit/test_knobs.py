"""config.Knob: each RunConfig field declares its URL name, CLI flag and widget once, and the
URL, the CLI and the lesson catalog take them from there."""

from __future__ import annotations

import pathlib
from dataclasses import fields

import pytest

from regdemo.cli.parser import build_parser, config_from_args
from regdemo.teaching.lessons.catalog import train_args
from regdemo.training.config import QUERY_FIELDS, ConfigError, RunConfig, from_query_params, knobs, to_query_params

ROOT = pathlib.Path(__file__).resolve().parents[2]
# A config off every default, so each field shows up in links and flags.
ODD = RunConfig(dataset="mnist", model="article", dropout=0.3, l1=1e-5, l2=3e-4, penalize_all=True,
                augment="light", batchnorm=True, patience=4, train_size=1000, label_noise=0.25, epochs=7,
                batch_size=32, optimizer="adam", lr=0.003, momentum=0.5, seed=11, device="cpu")


def test_every_field_has_a_knob_with_its_own_flag_and_url_name():
    found = knobs()
    assert list(found) == [f.name for f in fields(RunConfig)]
    flags = [k.flag for k in found.values()]
    urls = [k.url for k in found.values() if k.url]
    assert len(set(flags)) == len(flags) and len(set(urls)) == len(urls)
    assert QUERY_FIELDS["noise"] == "label_noise" and found["label_noise"].flag == "--label-noise"


def test_a_link_written_from_the_knobs_reads_back_the_same_config():
    params = to_query_params(ODD)
    assert set(params) == set(QUERY_FIELDS)  # every linked field differs from its default here
    config, warnings = from_query_params(params)
    assert not warnings
    # momentum, penalize_all and device are not in links: they keep their defaults
    assert config == ODD.replace(momentum=RunConfig().momentum, penalize_all=False, device="auto")


def test_the_catalogs_flags_parse_back_to_the_same_config():
    args = build_parser().parse_args(["train", *train_args(ODD), "--seed", str(ODD.seed)])
    assert config_from_args(args) == ODD


def test_the_cli_has_a_flag_for_every_knob():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    options = {option for action in train._actions for option in action.option_strings}
    assert {k.flag for k in knobs().values()} <= options
    assert "--no-batchnorm" in options and "--no-penalize-all" in options


@pytest.mark.parametrize(("name", "value", "words"), [
    ("dropout", 1.0, "dropout"), ("l1", 101.0, "l1"), ("lr", 0.0, "lr"), ("momentum", -0.1, "momentum"),
    ("label_noise", 0.9, "label_noise"), ("epochs", 0, "epochs"), ("batch_size", 5000, "batch_size"),
    ("optimizer", "rmsprop", "optimizer"), ("batchnorm", 1, "true or false"), ("seed", -1, "seed"),
])
def test_validate_checks_each_field_against_its_knob(name, value, words):
    with pytest.raises(ConfigError, match=words):
        RunConfig(**{name: value}).validate()


def test_the_label_noise_flag_is_spelled_in_one_library_file():
    spelled = [p for p in (ROOT / "regdemo").rglob("*.py") if "--label-noise" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in spelled] == ["regdemo/training/config.py"]
    # Its link name too: the sidebar, the pages and the exercise links take it from the knob.
    named = [p for folder in ("regdemo", "webapp", "app_pages") for p in (ROOT / folder).rglob("*.py")
             if '"noise"' in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in named] == ["regdemo/training/config.py"]


def test_a_bad_config_is_stopped_where_it_enters():
    """The registry and fit trust a RunConfig: links, the CLI and the catalog validate it."""
    config, warnings = from_query_params({"dropout": "1.5"})
    assert config == RunConfig() and "dropout" in str(warnings[0].params)
    with pytest.raises(ConfigError, match="dropout"):
        config_from_args(build_parser().parse_args(["train", "--dropout", "1.5"]))
