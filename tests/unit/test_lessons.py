import re

import pytest

from regdemo.teaching.lessons import LANGS, LESSON_DIR, LESSON_PRESETS, TOPICS, LessonError, lesson
from regdemo.training.config import PRESETS, RunConfig

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_a_lesson_in_every_language(topic):
    en, zh = lesson(topic, "en"), lesson(topic, "zh")
    assert len(en.split()) > 80 and not CJK.search(en)
    # Chinese text, not an English copy: mostly CJK characters
    assert len(CJK.findall(zh)) > 150
    assert en != zh


def test_no_stray_lesson_files():
    for lang in LANGS:
        assert {p.stem for p in (LESSON_DIR / lang).glob("*.md")} == set(TOPICS)


@pytest.mark.parametrize("topic", TOPICS)
def test_both_languages_mention_the_same_presets_and_commands(topic):
    # Preset names, config values in backticks and CLI lines must survive translation.
    code = lambda text: sorted(re.findall(r"`([^`]+)`", text))
    assert code(lesson(topic, "en")) == code(lesson(topic, "zh"))
    for name in re.findall(r"`(article-[a-z0-9]+)`", lesson(topic, "en")):
        assert name in PRESETS


def test_unknown_topic_is_an_error_and_unknown_language_falls_back():
    with pytest.raises(LessonError):
        lesson("weight_noise", "en")
    assert lesson("dropout", "fr") == lesson("dropout", "en")


@pytest.mark.parametrize("topic", TOPICS)
def test_try_it_presets_are_valid_configs(topic):
    config = RunConfig(**LESSON_PRESETS[topic]).validate()
    assert config.dataset == "mnist-sample"  # runs offline, on the embedded digits


def test_each_regularizer_preset_turns_on_its_regularizer():
    base = RunConfig()
    assert RunConfig(**LESSON_PRESETS["dropout"]).dropout > 0
    assert RunConfig(**LESSON_PRESETS["l1_l2"]).l2 > 0
    assert RunConfig(**LESSON_PRESETS["early_stopping"]).patience > 0
    assert RunConfig(**LESSON_PRESETS["augmentation"]).augment != "off"
    assert 0 < RunConfig(**LESSON_PRESETS["train_size"]).train_size < base.effective_train_size
    assert RunConfig(**LESSON_PRESETS["batchnorm"]).batchnorm
    assert RunConfig(**LESSON_PRESETS["playground"]) == base
