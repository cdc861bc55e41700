import math

import pytest

from regdemo.messages import render
from regdemo.training.config import (
    ARTICLE_RESULTS,
    DATASET_TRAIN_SIZES,
    PRESETS,
    QUERY_FIELDS,
    ConfigError,
    RunConfig,
    from_query_params,
    preset,
    to_query_params,
)


def test_defaults_are_valid_and_key_is_stable():
    config = RunConfig().validate()
    assert config.key() == RunConfig().key()
    assert len(config.key()) == 12
    assert config.replace(dropout=0.5).key() != config.key()
    # Where the files live is not part of the experiment.
    assert config.replace(data_dir="/somewhere").key() == config.key()


@pytest.mark.parametrize("changes, fragment", [
    (dict(dropout=1.0), "dropout must be in [0, 1)"),
    (dict(dropout=-0.1), "dropout"),
    (dict(dropout=math.nan), "finite"),
    (dict(l1=-1e-4), "l1 must be between"),
    (dict(l2=math.inf), "finite"),
    (dict(epochs=0), "epochs must be between"),
    (dict(epochs=2.5), "whole number"),
    (dict(patience=-1), "patience"),
    (dict(train_size=4001), "larger than the mnist-sample training split"),
    (dict(train_size=10), "at least 20"),
    (dict(model="resnet"), "model must be one of"),
    (dict(augment="extreme"), "augment must be one of"),
    (dict(device="tpu"), "device must be one of"),
    (dict(lr=0.0), "lr must be in"),
    (dict(batchnorm="yes"), "true or false"),
    (dict(seed=True), "whole number"),
])
def test_validate_names_the_bad_choice(changes, fragment):
    with pytest.raises(ConfigError) as err:
        RunConfig(**changes).validate()
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_train_size_limit_follows_the_dataset():
    RunConfig(dataset="mnist", train_size=60000).validate()
    with pytest.raises(ConfigError):
        RunConfig(dataset="mnist", train_size=60001).validate()
    assert RunConfig().effective_train_size == DATASET_TRAIN_SIZES["mnist-sample"]


def test_article_presets_match_the_article():
    base = preset("article-baseline")
    assert (base.model, base.lr, base.momentum, base.batch_size, base.epochs) == ("article", 0.01, 0.9, 128, 20)
    assert base.penalize_all and base.dropout == 0 and base.l1 == 0 and base.l2 == 0
    assert preset("article-dropout").dropout == 0.25
    assert preset("article-l1").l1 == 5e-5
    assert preset("article-l2").l2 == 3e-3
    assert preset("article-l2", dataset="mnist").dataset == "mnist"
    assert set(ARTICLE_RESULTS) == set(PRESETS)
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("article-l3")


def test_query_params_round_trip():
    config = RunConfig(model="article", dropout=0.3, l1=1e-5, l2=3e-3, augment="light", batchnorm=True,
                       patience=3, train_size=1000, epochs=7, seed=4)
    params = to_query_params(config)
    assert set(params) <= set(QUERY_FIELDS)
    parsed, warnings = from_query_params(params)
    assert warnings == []
    assert parsed == config
    # Defaults make an empty query string.
    assert to_query_params(RunConfig()) == {}


GARBAGE = ["", "abc", "-1", "1e999", "nan", "NaN", "inf", "-inf", "0x10", "../../etc/passwd", "C:\\x",
           "9" * 400, "\x00\x1b[31m", "1;DROP TABLE", "  ", "1,2", "[]", "None", "true", "💥"]


@pytest.mark.parametrize("name", sorted(QUERY_FIELDS))
def test_every_query_param_survives_garbage(name):
    default = getattr(RunConfig(), QUERY_FIELDS[name])
    for raw in GARBAGE:
        config, warnings = from_query_params({name: raw})
        config.validate()  # never an invalid config, never an exception
        if warnings:
            assert getattr(config, QUERY_FIELDS[name]) == default, (name, raw)
        for warning in [render(w, lang) for w in warnings for lang in ("en", "zh")]:
            assert len(warning) < 300 and "\x00" not in warning and "\x1b" not in warning
    for raw in ("abc", "nan", "../../etc/passwd", "9" * 400, "\x00"):
        config, warnings = from_query_params({name: raw})
        assert warnings and getattr(config, QUERY_FIELDS[name]) == default, (name, raw)


def test_unknown_and_conflicting_params_warn():
    config, warnings = from_query_params({"evil": "1", "lang": "zh"})
    assert config == RunConfig()
    assert len(warnings) == 1 and "evil" in render(warnings[0])
    # Valid alone, invalid together: 60000 digits exist in mnist, not in the sample.
    config, warnings = from_query_params({"train_size": "60000"})
    assert config.train_size == 0 and warnings
    config, warnings = from_query_params({"dataset": "mnist", "train_size": "60000"})
    assert (config.dataset, config.train_size, warnings) == ("mnist", 60000, [])
    # Repeated parameters: the last one wins, as in a browser's URLSearchParams.get_all()[-1].
    config, _ = from_query_params({"dropout": ["0.1", "0.2"]})
    assert config.dropout == 0.2
