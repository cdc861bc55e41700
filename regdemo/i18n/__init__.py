"""UI strings in English and Simplified Chinese.

Every string a page shows goes through translate(key, lang): keys live in
en.py (the reference) and zh.py (same keys, same {placeholders}). A key missing
from zh falls back to English at run time, and a test fails on it.
"""

from __future__ import annotations

from regdemo.i18n import en, zh

LANGUAGES = {"en": "English", "zh": "简体中文"}
STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}


def translate(key: str, lang: str = "en", **values) -> str:
    table = STRINGS.get(lang, en.STRINGS)
    text = table.get(key) or en.STRINGS.get(key)
    if text is None:
        return key  # visible in the page, caught by the completeness test
    return text.format(**values) if values else text
