import re
import string

import pytest

from regdemo.i18n import LANGUAGES, STRINGS, en, translate, zh

CJK = re.compile(r"[\u4e00-\u9fff]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_language_has_exactly_the_english_keys():
    for lang in LANGUAGES:
        table = STRINGS[lang]
        missing = sorted(set(en.STRINGS) - set(table))
        extra = sorted(set(table) - set(en.STRINGS))
        assert not missing, f"{lang} lacks {missing}"
        assert not extra, f"{lang} has keys English does not: {extra}"


@pytest.mark.parametrize("key", sorted(en.STRINGS))
def test_placeholders_match(key):
    assert placeholders(zh.STRINGS.get(key, en.STRINGS[key])) == placeholders(en.STRINGS[key])


def test_no_empty_strings_and_chinese_is_chinese():
    for lang, table in STRINGS.items():
        assert all(value.strip() for value in table.values()), lang
    # Most strings are Chinese; the rest are names that stay as they are (CPU, L1 λ, Dropout).
    chinese = [k for k, v in zh.STRINGS.items() if CJK.search(v)]
    assert len(chinese) > 0.8 * len(zh.STRINGS)


def test_translate_formats_in_the_chosen_language():
    assert translate("status.queued", "zh", position=3) == zh.STRINGS["status.queued"].format(position=3)
    assert "3" in translate("status.queued", "en", position=3)
    assert translate("status.queued", "xx", position=2) == translate("status.queued", "en", position=2)


def test_run_labels_follow_the_language():
    from regdemo.config import RunConfig

    config = RunConfig(dropout=0.5, l2=1e-3, augment="light", patience=3, train_size=1000, seed=2)
    assert config.label() == "wide · dropout 0.5 · L2 0.001 · aug light · early stop 3 · n=1000 · seed 2"
    zh_label = config.label("zh")
    assert zh_label == "宽 CNN · Dropout 0.5 · L2 0.001 · 增强 轻度 · 早停 3 · n=1000 · 种子 2"
    assert RunConfig(model="article").label("zh") == "原文网络 · 无正则化"
    assert RunConfig().label("xx") == "wide · no regularization"  # unknown language: English
