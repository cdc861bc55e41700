"""RunConfig: every choice of one training run, frozen, validated, with a stable key.

The app, the CLI, the tests and the benchmark all describe a run with this one
object. It also round-trips through URL query parameters so a link reproduces a
setup, and it holds the article's four experiments as presets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field, fields, replace

from regdemo.i18n import translate
from regdemo.messages import Message, MessageError, msg

DATASETS = ("mnist-sample", "mnist", "fashion-mnist")
# Size of each dataset's training split: a train size above it is an error,
# never a silent clamp.
DATASET_TRAIN_SIZES = {"mnist-sample": 4000, "mnist": 60000, "fashion-mnist": 60000}
MODELS = ("wide", "article")
AUGMENT_LEVELS = ("off", "light", "strong")
OPTIMIZERS = ("sgd", "adam")
DEVICES = ("auto", "cpu", "cuda", "mps")

MAX_EPOCHS = 200
MAX_PATIENCE = 100
MAX_LAMBDA = 100.0
MAX_LR = 10.0
MAX_BATCH = 4096
MAX_SEED = 2**31 - 1
MAX_LABEL_NOISE = 0.8  # past this, wrong labels outnumber right ones in every class


class ConfigError(MessageError, ValueError):
    """A user-facing problem with a choice; err.message says which (messages.py)."""


@dataclass(frozen=True)
class RunConfig:
    dataset: str = "mnist-sample"
    model: str = "wide"
    dropout: float = 0.0  # probability a unit is zeroed in train mode
    l1: float = 0.0  # lambda of lambda * sum|w|, added to the loss
    l2: float = 0.0  # weight decay (SGD/Adam weight_decay via param groups)
    # True: L1 and L2 act on every parameter, biases and batch-norm ones too
    # (the article's `weight_decay` and its sum over model.parameters()).
    # False: only conv/linear weights are penalized -- shrinking a bias or a
    # batch-norm scale does not reduce capacity, it only fights the data.
    penalize_all: bool = False
    augment: str = "off"
    batchnorm: bool = False
    patience: int = 0  # early stopping on held-out loss; 0 = off
    train_size: int = 0  # 0 = the whole training split
    # Fraction of the training digits given a wrong label (data.noisy_labels): the
    # same digits in every run, whatever the seed. Test labels are never touched.
    label_noise: float = 0.0
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.02
    momentum: float = 0.9
    seed: int = 0
    device: str = "auto"
    # Where IDX files live for mnist / fashion-mnist. Not part of the key:
    # the same digits read from another folder are the same experiment.
    data_dir: str = field(default="", compare=False)

    def validate(self) -> RunConfig:
        """Raise ConfigError naming the first bad choice; return self when fine."""
        _choice("dataset", self.dataset, DATASETS)
        _choice("model", self.model, MODELS)
        _choice("augment", self.augment, AUGMENT_LEVELS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("device", self.device, DEVICES)
        _number("dropout", self.dropout)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(msg("config.fraction", name="dropout", value=self.dropout))
        for name in ("l1", "l2"):
            value = _number(name, getattr(self, name))
            if not 0.0 <= value <= MAX_LAMBDA:
                raise ConfigError(msg("config.between", name=name, low=0, high=f"{MAX_LAMBDA:g}", value=value))
        _number("lr", self.lr)
        if not 0.0 < self.lr <= MAX_LR:
            raise ConfigError(msg("config.lr", high=f"{MAX_LR:g}", value=self.lr))
        _number("momentum", self.momentum)
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(msg("config.fraction", name="momentum", value=self.momentum))
        _number("label_noise", self.label_noise)
        if not 0.0 <= self.label_noise <= MAX_LABEL_NOISE:
            raise ConfigError(msg("config.between", name="label_noise", low=0, high=f"{MAX_LABEL_NOISE:g}",
                                   value=self.label_noise))
        _integer("epochs", self.epochs, 1, MAX_EPOCHS)
        _integer("batch_size", self.batch_size, 1, MAX_BATCH)
        _integer("patience", self.patience, 0, MAX_PATIENCE)
        _integer("seed", self.seed, 0, MAX_SEED)
        full = DATASET_TRAIN_SIZES[self.dataset]
        _integer("train_size", self.train_size, 0, None)
        if self.train_size > full:
            raise ConfigError(msg("config.train_size_too_large", value=self.train_size, dataset=self.dataset,
                                  count=full))
        if 0 < self.train_size < 10 * 2:
            raise ConfigError(msg("config.train_size_too_small", count=20))
        if not isinstance(self.batchnorm, bool) or not isinstance(self.penalize_all, bool):
            raise ConfigError(msg("config.flags"))
        return self

    @property
    def effective_train_size(self) -> int:
        return self.train_size or DATASET_TRAIN_SIZES[self.dataset]

    def key(self) -> str:
        """Stable short id: equal for equal experiments, across processes."""
        payload = {f.name: getattr(self, f.name) for f in fields(self) if f.compare}
        # Fields added after runs were stored leave the key alone at their default,
        # so a store filled before them still answers for the same experiments.
        for name, default in _LATER_FIELDS.items():
            if payload[name] == default:
                del payload[name]
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes) -> RunConfig:
        return replace(self, **changes)

    def label(self, lang: str = "en") -> str:
        """Short human description in `lang`, e.g. 'wide · dropout 0.5 · L2 0.001'."""
        def word(key, **values):
            return translate(f"label.{key}", lang, **values)

        parts = [word(self.model)]
        if self.dropout:
            parts.append(word("dropout", p=f"{self.dropout:g}"))
        if self.l1:
            parts.append(word("l1", value=f"{self.l1:g}"))
        if self.l2:
            parts.append(word("l2", value=f"{self.l2:g}"))
        if self.augment != "off":
            parts.append(word("augment", level=translate(f"sidebar.augment.{self.augment}", lang)))
        if self.batchnorm:
            parts.append(word("batchnorm"))
        if self.patience:
            parts.append(word("patience", patience=self.patience))
        if self.train_size:
            parts.append(word("train_size", n=self.train_size))
        if self.label_noise:
            parts.append(word("label_noise", pct=f"{100 * self.label_noise:g}"))
        if len(parts) == 1:
            parts.append(word("none"))
        if self.dataset != "mnist-sample":
            parts.append(self.dataset)
        if self.seed:
            parts.append(word("seed", seed=self.seed))
        return " · ".join(parts)


# Fields added after the first stored runs, with the default that leaves a key unchanged.
_LATER_FIELDS = {"label_noise": 0.0}


def _choice(name, value, allowed):
    if value not in allowed:
        raise ConfigError(msg("config.choice", name=name, allowed=", ".join(allowed), value=repr(value)))


def _number(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(msg("config.not_finite", name=name, value=repr(value)))
    return float(value)


def _integer(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(msg("config.not_whole", name=name, value=repr(value)))
    if value < low or (high is not None and value > high):
        if high is None:
            raise ConfigError(msg("config.at_least", name=name, low=low, value=value))
        raise ConfigError(msg("config.between", name=name, low=low, high=high, value=value))


# --- presets -----------------------------------------------------------------

# The article's net and hyper-parameters: SGD lr 0.01, momentum 0.9, batch 128,
# 20 epochs; L1 5e-5 over all parameters; L2 as plain weight_decay 3e-3.
_ARTICLE = dict(
    model="article", lr=0.01, momentum=0.9, batch_size=128, epochs=20,
    optimizer="sgd", penalize_all=True, augment="off", batchnorm=False,
    patience=0, dropout=0.0, l1=0.0, l2=0.0,
)
PRESETS: dict[str, dict] = {
    "article-baseline": dict(_ARTICLE),
    "article-dropout": dict(_ARTICLE, dropout=0.25),
    "article-l1": dict(_ARTICLE, l1=5e-5),
    "article-l2": dict(_ARTICLE, l2=3e-3),
}

# The article's logs, epoch 20, 60k train / 10k test MNIST. "train" there is
# the running accuracy in train mode (dropout active).
ARTICLE_RESULTS = {
    "article-baseline": {"train_acc": 0.9933, "test_acc": 0.9858},
    "article-dropout": {"train_acc": 0.9887, "test_acc": 0.9899},
    "article-l1": {"train_acc": 0.9918, "test_acc": 0.9881},
    "article-l2": {"train_acc": 0.9856, "test_acc": 0.9858},
}


def preset(name: str, **overrides) -> RunConfig:
    """The named preset, with any field overridden (e.g. dataset)."""
    if name not in PRESETS:
        raise ConfigError(msg("config.unknown_preset", name=repr(name), allowed=", ".join(PRESETS)))
    return RunConfig(**{**PRESETS[name], **overrides})


# --- URL query parameters ------------------------------------------------------

# URL name -> RunConfig field: everything the sidebar sets, except the device
# (a property of the server, not of the experiment). Only values that differ
# from the defaults are written, so links stay short.
QUERY_FIELDS = {
    "model": "model",
    "dataset": "dataset",
    "dropout": "dropout",
    "l1": "l1",
    "l2": "l2",
    "augment": "augment",
    "bn": "batchnorm",
    "patience": "patience",
    "train_size": "train_size",
    "noise": "label_noise",
    "epochs": "epochs",
    "seed": "seed",
    "optimizer": "optimizer",
    "lr": "lr",
    "batch": "batch_size",
}
MAX_QUERY_VALUE = 64  # longer values are garbage, never parsed


def to_query_params(config: RunConfig) -> dict[str, str]:
    """Only the fields that differ from the defaults, as strings."""
    default = RunConfig()
    out = {}
    for name, attr in QUERY_FIELDS.items():
        value = getattr(config, attr)
        if value != getattr(default, attr):
            out[name] = _format(value)
    return out


def _format(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def from_query_params(params, base: RunConfig | None = None) -> tuple[RunConfig, list[Message]]:
    """Parse URL parameters; each bad or unknown one becomes a warning and the default.

    Never raises: a link typed by hand or fuzzed must still open the app.
    """
    base = base or RunConfig()
    warnings: list[Message] = []
    values = {}
    # The dataset goes first: train_size is checked against the dataset the
    # same link names, not against the default one.
    names = sorted(params, key=lambda n: n != "dataset")
    for name in names:
        if name in ("lang", "present", "show", "lock"):
            continue  # the app's own parameters (language, projector, exercise), not part of the run
        if name not in QUERY_FIELDS:
            warnings.append(msg("url.unknown_param", name=_shown(name)))
            continue
        attr = QUERY_FIELDS[name]
        raw = params[name]
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else ""
        raw = str(raw)
        try:
            if len(raw) > MAX_QUERY_VALUE:
                raise ConfigError(msg("url.too_long"))
            value = _parse(attr, raw, type(getattr(base, attr)))
            replace(base, **{**values, attr: value}).validate()
        except ConfigError as err:
            warnings.append(msg("url.bad_value", name=name, value=_shown(raw), error=err.message,
                                default=repr(getattr(base, attr))))
            continue
        values[attr] = value
    config = replace(base, **values)
    try:
        config.validate()
    except ConfigError as err:  # valid alone, invalid together (e.g. train_size vs dataset)
        warnings.append(msg("url.conflict", error=err.message))
        config = base
    return config, warnings


def _parse(attr, raw, kind):
    raw = raw.strip()
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(msg("url.expected_flag"))
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(msg("url.expected_whole")) from None
    if kind is float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(msg("url.expected_number")) from None
        if not math.isfinite(value):
            raise ConfigError(msg("url.expected_finite"))
        return value
    return raw


def _shown(text: str) -> str:
    """A URL value made safe to print: short, no control characters."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return repr(text if len(text) <= 40 else text[:37] + "...")
