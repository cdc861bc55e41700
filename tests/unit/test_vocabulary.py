"""One vocabulary in both languages: the glossary (regdemo/i18n/glossary.json) against every
catalog value and every lesson text. Chinese text is Chinese -- an ASCII word in it must be a
name or symbol the glossary allows -- and each idea has one word in each language."""

import json
import re

import pytest

from regdemo.i18n import HERE, STRINGS, translate
from regdemo.teaching.lessons import LESSON_DIR, TOPICS
from regdemo.teaching.lessons.catalog import LESSONS

GLOSSARY = json.loads((HERE / "glossary.json").read_text(encoding="utf-8"))
ALLOWED = set(GLOSSARY["zh_ascii_allowed"]) | set(GLOSSARY["zh_names_allowed"])

# What is not prose: code spans (commands, flags, file names), {placeholders}, URLs, numbers in
# e-notation or hex. A single letter is a symbol (p, w, λ-style: n, x, A, B, U).
NOT_PROSE = re.compile(r"`[^`]*`|\{[^}]*\}|https?://\S+|\b\d+(?:\.\d+)?e-?\d+\b|\b0x[0-9a-fA-F]+\b")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")


def forms(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def texts(lang: str) -> list[tuple[str, str]]:
    """(where, text) for every catalog value, lesson text and lesson claim in `lang`."""
    out = [(f"{lang}.json {key}", form) for key, value in STRINGS[lang].items() for form in forms(value)]
    out += [(f"claim of {name}", lesson.claim[lang]) for name, lesson in LESSONS.items()]
    out += [(f"lessons/{lang}/{topic}.md", (LESSON_DIR / lang / f"{topic}.md").read_text(encoding="utf-8"))
            for topic in TOPICS]
    return out


def stray_words(text: str) -> set[str]:
    words = WORD.findall(NOT_PROSE.sub(" ", text))
    return {w for w in words if len(w) > 1 and w not in ALLOWED}


def test_the_check_finds_what_it_is_for():
    assert stray_words("训练 20 个 epoch上训练宽网络") == {"epoch"}
    assert stray_words("用 `python -m regdemo train` 在 {count} 张数字上，λ = 1e-3，p = 0.5") == set()
    assert stray_words("Dropout、L2 和 AdamW 在 Fashion-MNIST 上") == set()


def test_zh_text_has_no_ascii_word_outside_the_allow_list():
    problems = [f"{where}: {sorted(words)}" for where, text in texts("zh") if (words := stray_words(text))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_idea_has_one_word(lang):
    """No text uses a word the glossary replaced: zh never says epoch or 留出, en never held-out."""
    avoid = {(term, word) for term, entry in GLOSSARY["terms"].items() for word in entry.get(f"{lang}_avoid", [])}
    assert avoid, f"the glossary avoids no {lang} word"
    problems = [f"{where}: {word!r} (say {GLOSSARY['terms'][term][lang]!r})"
                for where, text in texts(lang) for term, word in avoid if word in NOT_PROSE.sub(" ", text)]
    assert not problems, "\n".join(problems)


def test_zh_counts_digits_with_zhang():
    """A number of digit images is counted with 张 (2,000 张数字); 一个数字 for the one a student
    writes stays."""
    patterns = [re.compile(p) for entry in GLOSSARY["terms"].values() for p in entry.get("zh_avoid_re", [])]
    assert patterns and patterns[0].search("在 {count} 个数字上") and not patterns[0].search("写一个数字")
    problems = [f"{where}: {m.group(0)!r}" for where, text in texts("zh") for pattern in patterns
                if (m := pattern.search(re.sub(r"`[^`]*`", " ", text)))]
    assert not problems, "\n".join(problems)


def test_zh_uses_the_glossary_words():
    """The words the glossary names are the ones the catalogs use (epoch axis, patience, the two splits)."""
    zh = STRINGS["zh"]
    assert zh["chart.epoch"] == GLOSSARY["terms"]["epoch"]["zh"]
    assert GLOSSARY["terms"]["patience"]["zh"] in zh["sidebar.patience"]
    assert zh["split.val"] == GLOSSARY["terms"]["validation split"]["zh"]
    assert GLOSSARY["terms"]["test set"]["zh"] in zh["pair.measured.where"]


def test_zh_uses_full_width_punctuation_next_to_chinese():
    cjk = r"[\u4e00-\u9fff]"
    half = re.compile(rf"{cjk}[,;:?!]|[,;:?!]\s*{cjk}|{cjk}\((?!\))|\){cjk}")
    problems = [f"{where}: {m.group(0)!r}" for where, text in texts("zh")
                for m in half.finditer(NOT_PROSE.sub(" ", text))]
    assert not problems, "\n".join(problems)


def test_zh_puts_a_space_between_chinese_and_a_latin_word():
    cjk = r"[\u4e00-\u9fff]"
    glued = re.compile(rf"{cjk}[A-Za-z]|[A-Za-z]{cjk}")
    problems = [f"{where}: {m.group(0)!r}" for where, text in texts("zh")
                for m in glued.finditer(NOT_PROSE.sub(" ", text))]
    assert not problems, "\n".join(problems)


def test_a_latin_word_filled_into_zh_gets_its_space():
    """使用{what}: Dropout gets a space, 数据增强 none; English is left alone."""
    assert translate("pair.treated", "zh", what="Dropout") == "使用 Dropout"
    assert translate("pair.treated", "zh", what="数据增强") == "使用数据增强"
    assert "使用 L2 时 91.9 %" in translate("pair.measured.acc", "zh", what="L2", base="84.8", treated="91.9",
                                          gain="+7.1", std="1.9", low="+5.0", seeds=3)
    assert translate("pair.treated", "en", what="dropout") == "with dropout"
