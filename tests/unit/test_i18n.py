import re
import string

from regdemo.i18n import LANGUAGES, STRINGS, translate

CJK = re.compile(r"[\u4e00-\u9fff]")
EN, ZH = STRINGS["en"], STRINGS["zh"]


def placeholders(text) -> set[str]:
    forms = text.values() if isinstance(text, dict) else [text]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name is not None}


def forms(text) -> list[str]:
    return list(text.values()) if isinstance(text, dict) else [text]


def test_catalogs_agree():
    """One test, every problem listed: missing or extra keys, placeholders that differ, bad plural tables."""
    problems = []
    for lang in LANGUAGES:
        table = STRINGS[lang]
        problems += [f"{lang} lacks {key!r}" for key in EN if key not in table]
        problems += [f"{lang} has {key!r}, English does not" for key in table if key not in EN]
        for key, text in table.items():
            if isinstance(text, dict) and ("other" not in text or set(text) - {"one", "other"}):
                problems.append(f"{lang} {key!r}: a plural table needs 'other' and may add only 'one'")
            if key in EN and placeholders(text) != placeholders(EN[key]):
                problems.append(f"{lang} {key!r}: placeholders {sorted(placeholders(text))} "
                                f"differ from English {sorted(placeholders(EN[key]))}")
    assert not problems, "\n".join(problems)


def test_plural_forms():
    assert translate("sweep.waiting", "en", count=1).startswith("1 point waits")
    assert translate("sweep.waiting", "en", count=3).startswith("3 points wait")
    assert translate("sweep.waiting", "en", count=0).startswith("0 points wait")
    assert "3" in translate("sweep.waiting", "zh", count=3)
    # A count that is not the number shown: the table picks the form, the text keeps its name.
    assert translate("status.finished", "en", epochs=1, count=1) == "Finished: 1 epoch."
    assert translate("status.finished", "en", epochs=2, count=2) == "Finished: 2 epochs."
    assert translate("sweep.finished", "en", total=1, count=1) == "The 1 point is done."


def test_no_empty_strings_and_chinese_is_chinese():
    for lang, table in STRINGS.items():
        assert all(form.strip() for value in table.values() for form in forms(value)), lang
    # Most strings are Chinese; the rest are names that stay as they are (CPU, L1 λ, Dropout).
    chinese = [k for k, v in ZH.items() if any(CJK.search(f) for f in forms(v))]
    assert len(chinese) > 0.8 * len(ZH)


def test_translate_formats_in_the_chosen_language():
    assert translate("status.queued", "zh", position=3) == ZH["status.queued"].format(position=3)
    assert "3" in translate("status.queued", "en", position=3)
    assert translate("status.queued", "xx", position=2) == translate("status.queued", "en", position=2)


def test_run_labels_follow_the_language():
    from regdemo.training.config import RunConfig

    config = RunConfig(dropout=0.5, l2=1e-3, augment="light", patience=3, train_size=1000, seed=2)
    assert config.label() == "wide · dropout 0.5 · L2 0.001 · aug light · early stop 3 · n=1000 · seed 2"
    zh_label = config.label("zh")
    assert zh_label == "宽 CNN · Dropout 0.5 · L2 0.001 · 轻度增强 · 早停 3 · n=1000 · 种子 2"
    assert RunConfig(model="article").label("zh") == "原文网络 · 无正则化"
    assert RunConfig().label("xx") == "wide · no regularization"  # unknown language: English
