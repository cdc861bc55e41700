"""What the training loop reports, as plain frozen records.

`engine.fit` yields these; the run registry, the store, the CLI and the app read
them. They hold Python numbers and tuples only (no tensors), so a snapshot can
be handed to another thread or written to JSON as is. Accuracies are fractions
in [0, 1]. No field ever holds NaN: a diverging run ends with Done(status=
"diverged") instead.
"""

from __future__ import annotations

import array
import base64
import sys
from dataclasses import dataclass, field, fields

# Final statuses of a run. "failed" is set by the registry when the training
# thread raises; the engine itself ends with one of the first four.
FINISHED, EARLY_STOPPED, STOPPED, DIVERGED, FAILED = (
    "finished", "early_stopped", "stopped", "diverged", "failed",
)
FINAL_STATUSES = (FINISHED, EARLY_STOPPED, STOPPED, DIVERGED, FAILED)

# Bin edges of the weight histograms in EpochEnd: 61 bins over [-0.3, 0.3];
# weights outside fall into the end bins.
HIST_LOW, HIST_HIGH, HIST_BINS = -0.3, 0.3, 61
# A weight counts as "near zero" below this magnitude (L1's sparsity).
NEAR_ZERO = 1e-3


@dataclass(frozen=True)
class Started:
    kind = "started"
    device: str
    train_size: int
    test_size: int
    val_size: int  # 0 unless early stopping holds out a validation split
    steps_per_epoch: int
    parameters: int
    # With label noise, the gallery of wrong-labelled training digits the pages show
    # (memorization.pick_gallery): positions among the dataset's training digits, real and
    # given labels, and the 28x28 uint8 pixels, row-major, base64: the server draws them
    # without torch or the dataset. Empty on clean data.
    gallery_indices: tuple[int, ...] = ()
    gallery_true: tuple[int, ...] = ()
    gallery_given: tuple[int, ...] = ()
    gallery_pixels: str = ""


@dataclass(frozen=True)
class Progress:
    """Running train-mode loss/accuracy over the steps since the last Progress."""

    kind = "progress"
    step: int  # optimizer steps done so far (1-based)
    epoch: float  # fractional epoch, e.g. 2.25
    train_loss: float
    train_acc: float


@dataclass(frozen=True)
class EpochEnd:
    kind = "epoch"
    epoch: int  # 1-based
    train_loss: float  # mean loss during the epoch, train mode (dropout on, augmented)
    train_acc: float  # running accuracy during the epoch, train mode (the article's "train")
    train_loss_eval: float  # eval mode over the (unaugmented) training digits
    train_acc_eval: float
    test_loss: float
    test_acc: float
    val_loss: float | None  # the validation split, only with early stopping
    val_acc: float | None
    l1_norm: float  # sum |w| over the penalized weights
    l2_norm: float  # sqrt(sum w^2) over the penalized weights
    near_zero: float  # fraction of penalized weights with |w| < NEAR_ZERO
    weight_hist: tuple[int, ...]  # counts over HIST_BINS bins of [HIST_LOW, HIST_HIGH]
    best_epoch: int  # best validation epoch so far (this epoch when no early stopping)
    seconds: float  # wall time of this epoch, evaluation included
    step: int
    # Label noise only (None on clean data), eval mode over the same training digits as
    # train_acc_eval: the share of wrong-labelled ones whose wrong label the net predicts,
    # the accuracy on the correctly labelled ones, and its answer for each gallery digit.
    memorized: float | None = None
    train_acc_clean: float | None = None
    gallery_predictions: tuple[int, ...] = ()


@dataclass(frozen=True)
class MaskSnapshot:
    """A real dropout mask from a training step, for the fixed probe digit.

    `activation` is the layer's input for the probe digit (flattened, row-major
    over `shape`) and `kept[i]` says whether dropout kept element i in that very
    step. For the article net shape is (channels, h, w); for the wide net (units,).
    """

    kind = "mask"
    step: int
    epoch: float
    layer: str
    p: float
    shape: tuple[int, ...]
    activation: tuple[float, ...]
    kept: tuple[bool, ...]

    @property
    def fraction_dropped(self) -> float:
        return 1.0 - sum(self.kept) / max(1, len(self.kept))


@dataclass(frozen=True)
class Done:
    kind = "done"
    status: str  # one of FINAL_STATUSES
    epochs_run: int
    best_epoch: int  # 0 when no epoch completed
    step: int
    message: str = ""  # advice for diverged / failed, reason for early stop: messages.encode() text
    # Predictions of the kept model (best weights under early stopping) on the
    # test split, in test order: confusion matrix and misclassified digits.
    test_predictions: tuple[int, ...] = ()
    # The trained model itself (CPU, eval mode) for --save; not serialized.
    model: object = field(default=None, repr=False, compare=False)


Event = Started | Progress | EpochEnd | MaskSnapshot | Done


def to_json_dict(event, compact: bool = False) -> dict:
    """A JSON-ready dict with a 'kind' key; drops the model object.

    compact=True packs a MaskSnapshot's activation (float32, as the tensor held it:
    lossless) and kept flags into base64 strings: a mask of the article net's first
    dropout layer is 9,680 numbers, ten times faster to write and read this way
    (the run store's live events use it; from_json_dict reads both forms).
    """
    # Not dataclasses.asdict: it would deep-copy the model.
    data = {f.name: getattr(event, f.name) for f in fields(event) if f.name != "model"}
    data["kind"] = event.kind
    if compact and event.kind == "mask":
        data["activation"] = {"f32le": _pack_floats(event.activation)}
        data["kept"] = {"u8": base64.b64encode(bytes(event.kept)).decode("ascii")}
    return data


def _pack_floats(values) -> str:
    packed = array.array("f", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack_floats(text: str) -> tuple[float, ...]:
    packed = array.array("f", base64.b64decode(text))
    if sys.byteorder == "big":
        packed.byteswap()
    return tuple(packed.tolist())


_KINDS = {cls.kind: cls for cls in (Started, Progress, EpochEnd, MaskSnapshot, Done)}
_TUPLES = {"weight_hist", "shape", "activation", "kept", "test_predictions", "gallery_indices", "gallery_true",
           "gallery_given", "gallery_predictions"}


def from_json_dict(data: dict):
    """The event a to_json_dict() dict describes (lists become tuples again); raises
    ValueError for an unknown kind and TypeError for missing fields."""
    data = dict(data)
    cls = _KINDS.get(data.pop("kind", None))
    if cls is None:
        raise ValueError(f"unknown event kind in {sorted(data)}")
    names = {f.name for f in fields(cls)}
    values = {k: tuple(v) if k in _TUPLES and isinstance(v, list) else v for k, v in data.items() if k in names}
    if isinstance(values.get("activation"), dict):  # to_json_dict(compact=True)
        values["activation"] = _unpack_floats(values["activation"]["f32le"])
    if isinstance(values.get("kept"), dict):
        values["kept"] = tuple(map(bool, base64.b64decode(values["kept"]["u8"])))
    return cls(**values)
