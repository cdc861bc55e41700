"""The short lesson at the top of each page, in English and Simplified Chinese.

One Markdown file per topic and language: regdemo/teaching/lessons/<lang>/<topic>.md.
Teachers can edit the text without touching code; a test checks every topic
exists in every language. LESSON_PRESETS holds what each lesson's "Try it"
button loads: RunConfig field overrides on top of the defaults (the wide
network on the embedded sample). The regularizer pages' presets are the treated
runs of the lesson catalog (catalog.py), the pairs measured in docs/lessons.md.
"""

from __future__ import annotations

import functools
import pathlib

from regdemo.teaching.lessons.catalog import LESSONS, changes
from regdemo.training.config import PRESETS

LESSON_DIR = pathlib.Path(__file__).resolve().parent
LANGS = ("en", "zh")
TOPICS = ("playground", "compare", "dropout", "l1_l2", "early_stopping", "augmentation", "train_size",
          "batchnorm", "sweep", "mistakes", "about")

# Each lesson's "Try it" setup, as RunConfig overrides. The regularizer pages load the
# treated run of their catalog lesson: one source for the page, the CLI and the check.
LESSON_PRESETS: dict[str, dict] = {
    "playground": {},  # the unregularized baseline every page compares against
    # The article's runs in the Compare page's class-time recipe: on the 4,000-digit
    # sample, batch 128 leaves the bias-free article net on its starting plateau for
    # most of 10 epochs; batch 32 gets it going (same config keys as that page's runs).
    "compare": dict(PRESETS["article-dropout"], batch_size=32, epochs=10),
    "dropout": changes(LESSONS["dropout"].treated),
    "l1_l2": changes(LESSONS["l2"].treated),
    "early_stopping": changes(LESSONS["early_stopping"].treated),
    "augmentation": changes(LESSONS["augmentation"].treated),
    # the page's Try it trains the small set of the more-data pair: the one that overfits
    "train_size": changes(LESSONS["more_data"].baseline),
    "batchnorm": changes(LESSONS["batchnorm"].treated),
    "sweep": {},  # the sweep's base config; the page varies one field of it
    "mistakes": {},  # a baseline run to open
    "about": dict(PRESETS["article-baseline"], batch_size=32, epochs=10),
}


class LessonError(KeyError):
    """No such topic (a page asked for a lesson that was never written)."""


@functools.cache
def lesson(topic: str, lang: str = "en") -> str:
    """The Markdown text of `topic` in `lang`; an unknown language falls back to English."""
    if topic not in TOPICS:
        raise LessonError(f"no lesson {topic!r}; topics are {', '.join(TOPICS)}")
    if lang not in LANGS:
        lang = "en"
    return (LESSON_DIR / lang / f"{topic}.md").read_text(encoding="utf-8").strip()
