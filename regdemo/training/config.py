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
# The sidebar's train-size stops for each dataset (the last one is the whole split).
TRAIN_SIZE_STEPS = {
    "mnist-sample": (100, 250, 500, 1000, 2000, 4000),
    "mnist": (500, 1000, 2000, 5000, 10000, 20000, 60000),
    "fashion-mnist": (500, 1000, 2000, 5000, 10000, 20000, 60000),
}
MODELS = ("wide", "article")
AUGMENT_LEVELS = ("off", "light", "strong")
OPTIMIZERS = ("sgd", "adam", "adamw")  # adamw: decoupled weight decay (Loshchilov & Hutter)
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
class Knob:
    """How one RunConfig field is set from outside the library, declared once beside the field.

    Everything that sets a field reads it from here: links (to_query_params, from_query_params),
    the CLI (cli.parser.add_run_arguments, commands.config_from_args), the lesson catalog's
    train_args, the sidebar's widgets (webapp.sidebar) and the Playground's "what changed".
    validate() checks the bounds. A new knob: the field with its Knob, its use in the engine,
    and its words in the catalogs.
    """

    flag: str  # `python -m regdemo train` flag; a bool field gets --no-... too
    url: str | None = None  # its name in links (None: not in links: a property of the server)
    label: str | None = None  # i18n key of its sidebar label (None: no widget)
    help: str | None = None  # i18n key of the widget's help text
    cli_help: str | None = None  # the flag's --help text (the CLI speaks English)
    metavar: str | None = None
    choices: tuple = ()  # a text field: the values it may take
    low: float | None = None  # bounds validate() enforces (high None: no upper bound)
    high: float | None = None
    rule: str = "between"  # a float's bounds: between, fraction (low <= x < high), positive (0 < x <= high)
    widget: str = ""  # select, slider, steps (a select slider), toggle, number; "" = drawn by hand or none
    top: float | None = None  # a slider's usual top (a link may go above it, up to high)
    step: float | None = None  # a slider's step
    steps: tuple = ()  # a select slider's stops (a link's value off them is added, not lost)
    words: str = ""  # i18n prefix wording each choice ("sidebar.model" -> sidebar.model.wide)
    shows: str = ""  # how a number reads on its widget: lambda (off or :g), percent (off or %), count (1,000)
    digits: int | None = None  # a slider's float rounded to this many digits (steps of 0.05 add up unevenly)


def _knob(default, **knob):
    return field(default=default, metadata={"knob": Knob(**knob)})


@dataclass(frozen=True)
class RunConfig:
    dataset: str = _knob("mnist-sample", flag="--dataset", url="dataset", label="sidebar.dataset",
                         choices=DATASETS, widget="select", words="sidebar.dataset")
    model: str = _knob("wide", flag="--model", url="model", label="sidebar.model", choices=MODELS, widget="select",
                       words="sidebar.model")
    # probability a unit is zeroed in train mode
    dropout: float = _knob(0.0, flag="--dropout", url="dropout", label="sidebar.dropout", help="sidebar.dropout.help",
                           metavar="P", low=0.0, high=1.0, rule="fraction", widget="slider", top=0.9, step=0.05,
                           digits=4)
    # lambda of lambda * sum|w|, added to the loss (log-scale stops, 0 = off)
    l1: float = _knob(0.0, flag="--l1", url="l1", label="sidebar.l1", help="sidebar.l1.help", metavar="LAMBDA",
                      low=0.0, high=MAX_LAMBDA, widget="steps", shows="lambda",
                      steps=(0.0, 1e-6, 3e-6, 1e-5, 3e-5, 5e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2))
    # the optimizer's weight_decay on the penalized group: an L2 gradient for SGD/Adam, decay for AdamW
    l2: float = _knob(0.0, flag="--l2", url="l2", label="sidebar.l2", help="sidebar.l2.help", metavar="LAMBDA",
                      low=0.0, high=MAX_LAMBDA, widget="steps", shows="lambda",
                      steps=(0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1))
    # True: L1 and L2 act on every parameter, biases and batch-norm ones too
    # (the article's `weight_decay` and its sum over model.parameters()).
    # False: only conv/linear weights are penalized -- shrinking a bias or a
    # batch-norm scale does not reduce capacity, it only fights the data.
    penalize_all: bool = _knob(False, flag="--penalize-all",
                               cli_help="L1/L2 on every parameter, biases and batch norm too (the article's way)")
    augment: str = _knob("off", flag="--augment", url="augment", label="sidebar.augment", help="sidebar.augment.help",
                         choices=AUGMENT_LEVELS, widget="steps", steps=AUGMENT_LEVELS, words="sidebar.augment")
    batchnorm: bool = _knob(False, flag="--batchnorm", url="bn", label="sidebar.batchnorm", widget="toggle")
    # early stopping on the validation loss; 0 = off
    patience: int = _knob(0, flag="--early-stopping", url="patience", label="sidebar.patience",
                          help="sidebar.patience.help", metavar="PATIENCE", low=0, high=MAX_PATIENCE,
                          widget="slider", top=10)
    # 0 = the whole training split; the sidebar's stops depend on the dataset (TRAIN_SIZE_STEPS)
    train_size: int = _knob(0, flag="--train-size", url="train_size", label="sidebar.train_size",
                            help="sidebar.train_size.help", metavar="N", low=0, shows="count")
    # Fraction of the training digits given a wrong label (trainset.noisy_labels): the
    # same digits in every run, whatever the seed. Test labels are never touched.
    label_noise: float = _knob(0.0, flag="--label-noise", url="noise", label="sidebar.noise", help="sidebar.noise.help",
                               metavar="F", low=0.0, high=MAX_LABEL_NOISE, widget="steps", shows="percent", digits=4,
                               cli_help="fraction of training digits given a wrong label "
                                        f"(0-{MAX_LABEL_NOISE:g}; the same digits every run)",
                               steps=tuple(round(i / 10, 1) for i in range(9)))  # off, then 10 % steps
    epochs: int = _knob(10, flag="--epochs", url="epochs", label="sidebar.epochs", low=1, high=MAX_EPOCHS, top=50)
    batch_size: int = _knob(64, flag="--batch-size", url="batch", label="sidebar.batch_size", low=1, high=MAX_BATCH,
                            widget="steps", steps=(16, 32, 64, 128, 256))
    optimizer: str = _knob("sgd", flag="--optimizer", url="optimizer", label="sidebar.optimizer", choices=OPTIMIZERS,
                           widget="select")
    lr: float = _knob(0.02, flag="--lr", url="lr", label="sidebar.lr", low=0.0, high=MAX_LR, rule="positive",
                      widget="steps", steps=(0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2))
    momentum: float = _knob(0.9, flag="--momentum", low=0.0, high=1.0, rule="fraction")
    seed: int = _knob(0, flag="--seed", url="seed", label="sidebar.seed", low=0, high=MAX_SEED, widget="number")
    # the server's (or the CLI's) device: not in links; drawn by hand (which devices exist is the server's)
    device: str = _knob("auto", flag="--device", label="sidebar.device", choices=DEVICES, words="sidebar.device")
    # Where IDX files live for mnist / fashion-mnist. Not part of the key:
    # the same digits read from another folder are the same experiment.
    data_dir: str = field(default="", compare=False, metadata={"knob": Knob(
        flag="--data-dir", cli_help="folder with the four IDX files (raw or .gz)")})

    def validate(self) -> RunConfig:
        """Raise ConfigError naming the first bad choice; return self when fine.

        Called where a config enters (a link, the CLI, the catalog, the sidebar's widgets);
        past that boundary a RunConfig is trusted."""
        for f in fields(self):
            _check(f.name, getattr(self, f.name), f.default, f.metadata["knob"])
        full = DATASET_TRAIN_SIZES[self.dataset]
        if self.train_size > full:
            raise ConfigError(msg("config.train_size_too_large", value=self.train_size, dataset=self.dataset,
                                  count=full))
        if 0 < self.train_size < 10 * 2:
            raise ConfigError(msg("config.train_size_too_small", count=20))
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


def knobs() -> dict[str, Knob]:
    """Field name -> its Knob, in the fields' order."""
    return {f.name: f.metadata["knob"] for f in fields(RunConfig)}


def _check(name: str, value, default, knob: Knob) -> None:
    """One field against its Knob: a choice, a number within bounds, a whole number, a flag."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(msg("config.flags"))
    elif isinstance(default, str):
        if knob.choices:
            _choice(name, value, knob.choices)
    elif isinstance(default, int):
        _integer(name, value, knob.low, knob.high)
    else:
        value = _number(name, value)
        if knob.rule == "fraction" and not knob.low <= value < knob.high:
            raise ConfigError(msg("config.fraction", name=name, value=value))
        if knob.rule == "positive" and not 0.0 < value <= knob.high:
            raise ConfigError(msg("config.lr", high=f"{knob.high:g}", value=value))
        if knob.rule == "between" and not knob.low <= value <= knob.high:
            raise ConfigError(msg("config.between", name=name, low=f"{knob.low:g}", high=f"{knob.high:g}",
                                  value=value))


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
QUERY_FIELDS = {knob.url: name for name, knob in knobs().items() if knob.url}
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
