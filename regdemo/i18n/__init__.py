"""UI strings in English and Simplified Chinese.

Every string a page shows goes through translate(key, lang). The catalogs are
data, not code: en.json is the reference set of keys, zh.json has the same keys
and the same {placeholders}. A key missing from zh falls back to English at run
time, and tests/unit/test_i18n.py lists every such problem in one failure.

A value is either a string or a plural table {"one": ..., "other": ...}; the
form is picked by the `count` value passed to translate(). Chinese has one
form, so its tables may hold only "other".
"""

from __future__ import annotations

import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
LANGUAGES = {"en": "English", "zh": "简体中文"}


def load_catalog(lang: str) -> dict[str, str | dict[str, str]]:
    with open(HERE / f"{lang}.json", encoding="utf-8") as f:
        return json.load(f)


STRINGS = {lang: load_catalog(lang) for lang in LANGUAGES}


def plural_form(lang: str, count) -> str:
    # English: "1 point", "2 points", "0 points". Chinese does not inflect.
    if lang == "en" and count == 1:
        return "one"
    return "other"


def translate(key: str, lang: str = "en", **values) -> str:
    table = STRINGS.get(lang, STRINGS["en"])
    if lang not in STRINGS:
        lang = "en"
    text = table.get(key) or STRINGS["en"].get(key)
    if text is None:
        return key  # visible in the page, caught by the completeness test
    if isinstance(text, dict):
        form = plural_form(lang, values.get("count"))
        text = text.get(form) or text["other"]
    if not values:
        return text
    text = text.format(**values)
    # zh puts a space between Chinese and a Latin word; the catalog does so itself
    # (tests/unit/test_vocabulary.py), a value filled in ("使用{what}", what = Dropout) may not.
    return _spaced(text) if lang == "zh" else text


_CJK = "\u4e00-\u9fff"
_BEFORE_LATIN = re.compile(rf"(?<=[{_CJK}])(?=[A-Za-z])")
_AFTER_LATIN = re.compile(rf"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]*)(?=[{_CJK}])")  # a word: L2, AdamW


def _spaced(text: str) -> str:
    return _AFTER_LATIN.sub(r"\1 ", _BEFORE_LATIN.sub(" ", text))
