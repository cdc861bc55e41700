"""The lesson catalog: each regularizer's claim and the pair of runs that proves it.

A lesson is a baseline and the same setup with one regularizer turned on, chosen by
measurement (`python -m regdemo lessons --check`, docs/lessons.md) so that the effect is
large against seed noise. The app's Try-it buttons, `python -m regdemo lessons --json` and
the check all read these pairs, so a page, a student's terminal and docs/lessons.md always
talk about the same runs. The numbers the check measured live beside this file in
measured.json; `measured()` reads them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib
from dataclasses import dataclass

from regdemo.training.config import PRESETS, RunConfig, knobs

log = logging.getLogger(__name__)

MEASURED_PATH = pathlib.Path(__file__).resolve().parent / "measured.json"

# What a lesson's claim rests on, and so what the check tests it by:
#   accuracy  the treated run's test accuracy is higher
#   loss      the treated run's test loss is lower, its accuracy not lower (L2)
#   sparsity  the treated run has many more near-zero weights (L1)
#   contrast  no winner claimed: the pair shows two things that are often taken for one
#             (Adam + L2 against AdamW); the check measures it and the page reports the
#             difference whichever way it goes
ACCURACY, LOSS, SPARSITY, CONTRAST = "accuracy", "loss", "sparsity", "contrast"


@dataclass(frozen=True)
class Lesson:
    name: str  # dropout, l1, l2, augmentation, batchnorm, early_stopping, more_data
    topic: str  # the page (a regdemo.teaching.lessons TOPIC) that teaches it
    claim: dict[str, str]  # one sentence per language: en and zh
    baseline: RunConfig
    treated: RunConfig
    measure: str = ACCURACY

    def __hash__(self):  # claim is a dict; a lesson is known by its name
        return hash(self.name)


# The common setup of the regularizer pairs: the wide net on 2,000 of the sample's digits,
# a fifth of them with a wrong label. The net learns the real patterns first (test
# accuracy peaks within a few epochs) and then memorizes the wrong labels, and test
# accuracy falls: the overfitting each regularizer is there to tame. See docs/lessons.md
# for the measurements behind every choice here.
NOISY = RunConfig(train_size=2000, label_noise=0.2, epochs=20, optimizer="sgd", lr=0.02,
                  momentum=0.9, batch_size=64)
# Batch norm's pair is about training, not memorization (its page says so): the article's
# deep, bias-free all-conv net with the article's SGD (lr 0.01, batch 128) on 2,000 clean
# digits sits on its starting plateau for most of 8 epochs; batch norm gets it learning.
# 8 epochs, not 10: with batch norm the article net's 10-epoch run took 21-22 s as a whole
# CLI process on 2 quiet cores, over the lessons' 20 s budget.
ARTICLE_SHORT = RunConfig(**PRESETS["article-baseline"]).replace(train_size=2000, epochs=8)
# Adam + L2 against AdamW: the noisy setup with Adam at its usual learning rate and the L2
# lesson's λ. Adam adds λ·w to the gradient and then divides by each weight's gradient scale;
# AdamW shrinks w by lr·λ·w outside Adam's step (Loshchilov & Hutter 2019).
ADAM_L2 = NOISY.replace(optimizer="adam", lr=1e-3, l2=5e-2)


def _lesson(name, topic, en, zh, baseline, measure=ACCURACY, **treated) -> Lesson:
    return Lesson(name, topic, {"en": en, "zh": zh}, baseline.validate(),
                  baseline.replace(**treated).validate(), measure)


LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in (
    _lesson(
        "dropout", "dropout",
        "Dropout slows the network's memorizing of the wrong labels, so it keeps more of its test accuracy.",
        "Dropout 让网络更慢地死记错误标签，因此在测试集上保住更高的准确率。",
        NOISY, dropout=0.5),
    _lesson(
        "l1", "l1_l2",
        "L1 drives most weights to near zero (|w| < 10⁻³): the network becomes nearly sparse.",
        "L1 把大多数权重压到接近零（|w| < 10⁻³）：网络变得近乎稀疏。",
        NOISY, SPARSITY, l1=1e-3),
    _lesson(
        "l2", "l1_l2",
        "L2 keeps the weights small, so the network memorizes fewer of the wrong labels.",
        "L2 让权重保持较小，网络因此少记住一些错误标签。",
        NOISY, l2=5e-2),
    _lesson(
        "augmentation", "augmentation",
        "Shifted, rotated and scaled copies of the digits make memorizing them much harder than learning them.",
        "对数字做平移、旋转和缩放后，死记它们比学会它们难得多。",
        NOISY, augment="light"),
    _lesson(
        "batchnorm", "batchnorm",
        "Batch norm gets the article's deep, bias-free network learning within a few epochs, "
        "where without it the network is still near its starting plateau.",
        "批归一化让文章中那个较深、无偏置的网络在几轮之内就学起来，没有它，网络还停在起点附近的平台上。",
        ARTICLE_SHORT, batchnorm=True),
    _lesson(
        "early_stopping", "early_stopping",
        "Early stopping keeps the weights of the best validation epoch, before the network memorizes the wrong labels.",
        "早停保留验证集上最好那一轮的权重，赶在网络死记错误标签之前。",
        NOISY, patience=3),
    _lesson(
        "adamw", "l1_l2",
        "With Adam, L2 and weight decay are two different things at the same λ: Adam rescales the L2 "
        "gradient weight by weight, AdamW shrinks every weight by lr·λ·w outside Adam's step.",
        "用 Adam 时，同一个 λ 下的 L2 和权重衰减是两回事：Adam 会对 L2 梯度逐个权重地重新缩放，"
        "AdamW 则在 Adam 的更新之外把每个权重缩小 lr·λ·w。",
        ADAM_L2, CONTRAST, optimizer="adamw"),
    _lesson(
        "more_data", "train_size",
        "Four times as many training digits leave the network less room to memorize.",
        "训练数字增至四倍，网络就更难死记硬背。",
        NOISY.replace(train_size=500), train_size=2000),
)}


def lesson_named(name: str) -> Lesson:
    if name not in LESSONS:
        raise KeyError(f"no lesson {name!r}; lessons are {', '.join(LESSONS)}")
    return LESSONS[name]


# The fields train_args writes: all but the seed (the check and a class vary it) and data_dir
# (where files live is not part of the experiment); each one's flag is its config.Knob's.
_UNWRITTEN = ("seed", "data_dir")


def train_args(config: RunConfig) -> list[str]:
    """Arguments of `python -m regdemo train` that reproduce `config`, every choice explicit
    (a later change of a default does not change the run), without --seed, --json or --save."""
    args = []
    for name, knob in knobs().items():
        if name in _UNWRITTEN:
            continue
        flag, value = knob.flag, getattr(config, name)
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        else:
            # repr, not :g -- a float must come back exactly, or the run's key changes
            args += [flag, repr(value) if isinstance(value, float) else str(value)]
    return args


def changes(config: RunConfig) -> dict:
    """The fields of `config` that differ from RunConfig()'s defaults (the Try-it overrides)."""
    default = RunConfig()
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if f.compare and getattr(config, f.name) != getattr(default, f.name)}


def measured(path: pathlib.Path | str | None = None) -> dict:
    """What `python -m regdemo lessons --check --write` measured, or {} when nothing was.

    Shape: {"date", "machine", "cpus", "torch", "seeds": [0, 1, 2], "command",
            "lessons": {name: {"measure", "seeds", "baseline": side, "treated": side,
                               "gain": {"mean", "std", "min", "per_seed"},
                               "loss_change": {"mean", "std", "per_seed"},
                               "seconds_max", "near_zero"?: {"none", "l1", "l2"}}}}
    where side = {"test_acc" | "test_loss" | "peak_minus_final" | "near_zero" | "seconds":
                  {"mean", "std", "per_seed"}}. Accuracies and gains are in percentage points
    (0-100); loss_change is (treated - baseline) / baseline, per seed. A damaged file is
    logged and read as {}: a page shows no numbers rather than wrong ones.
    """
    path = pathlib.Path(path) if path is not None else MEASURED_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        log.warning("ignoring %s: not valid JSON (%s)", path, err)
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
        log.warning("ignoring %s: no 'lessons' object", path)
        return {}
    return data
