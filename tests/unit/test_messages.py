"""Library messages: a code and parameters, worded by the catalogs in the reader's language.

Every code the code base uses has a catalog key; every key's Chinese is Chinese (no English
sentence left in it); a run's stored message reads in Chinese later; old free-text rows and
plurals read right; and a Chinese page shows a bad link's warnings and a refused run in Chinese.
"""

from __future__ import annotations

import pathlib
import pickle
import re
import string

import pytest
from streamlit.testing.v1 import AppTest
from support import use_registry

from regdemo.i18n import STRINGS
from regdemo.messages import TEXT, Message, MessageError, decode, encode, msg, render
from regdemo.runs import cluster, execute
from regdemo.runs.records import RunLimitError
from regdemo.runs.registry import NOBODY_WATCHING, Registry
from regdemo.storage.sqlite import RunStore, StoreUnavailable
from regdemo.training import data, engine
from regdemo.training.config import ConfigError, RunConfig, from_query_params
from regdemo.training.events import STOPPED, Done

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODES = sorted(key.removeprefix("msg.") for key in STRINGS["en"] if key.startswith("msg."))
# Codes put together at run time, not written out as msg("...") in the source.
BUILT = {"run.lower_lr", "run.lower_lr_l1", "run.lower_lr_l2", "run.lower_lr_l1_l2"}
HAN = re.compile(r"[\u4e00-\u9fff]")
# Three ASCII words in a row, e.g. "is not valid": an English sentence left untranslated.
# Placeholders, paths, flags (--data-dir), identifiers (penalize_all) and hex are removed first;
# a list of names ("model, dataset, dropout") is not a sentence.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: +[A-Za-z]{2,}){2,}\b")


def codes_in_source() -> set[str]:
    found = set()
    for folder in ("regdemo", "webapp", "app_pages"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(re.findall(r'\bmsg\(\s*"([a-z_.0-9]+)"', path.read_text(encoding="utf-8")))
    return found | BUILT


def sample_values(template: str) -> dict:
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    return {name: 3 for name in names}  # numbers fit every format spec ({count:,})


def forms(code: str, lang: str) -> list[str]:
    value = STRINGS[lang][f"msg.{code}"]
    return list(value.values()) if isinstance(value, dict) else [value]


def english_left(text: str) -> list[str]:
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"--?[\w-]+|\S*[/_.]\S*|0x[0-9a-fA-F]+", " ", text)
    return ENGLISH.findall(text)


def test_every_code_used_has_a_catalog_key_and_every_key_is_used():
    used = codes_in_source()
    assert sorted(used - set(CODES)) == [], "codes without a msg.<code> key in en.json"
    assert sorted(set(CODES) - used - {TEXT}) == [], "msg.* keys no code uses"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_message_renders_with_its_placeholders(lang):
    for code in CODES:
        for form in forms(code, lang):
            form.format(**sample_values(form))  # no placeholder the code cannot fill


def test_chinese_messages_are_chinese():
    problems = []
    for code in CODES:
        if code == TEXT:
            continue
        for form in forms(code, "zh"):
            words = re.sub(r"\{[^}]*\}", "", form)
            if re.search(r"[A-Za-z]", words) and not HAN.search(form):  # "{name}={value}：{error}" has none
                problems.append(f"{code}: no Chinese in {form!r}")
            if left := english_left(form):
                problems.append(f"{code}: English left in {form!r}: {left}")
    assert problems == [], "\n".join(problems)


def test_english_plurals_follow_the_count():
    assert render(msg("limit.session", count=1, limit=1)).startswith("You already have 1 run training")
    assert render(msg("limit.session", count=2, limit=2)).startswith("You already have 2 runs training")
    assert "1 run is waiting" in render(msg("limit.busy", count=1))
    assert "for 1 epoch;" in render(msg("run.early_stopped", count=1, epoch=4, best=3))
    assert "for 2 epochs;" in render(msg("run.early_stopped", count=2, epoch=5, best=3))
    assert render(msg("limit.busy", count=1), "zh") == render(msg("limit.busy", count=1), "zh")


def test_stored_form_round_trips_nested_messages_and_keeps_free_text():
    diverged = msg("run.diverged", step=7, lower=msg("run.lower_lr_l1", lr="5", l1="0.1", l2="0"))
    text = encode(diverged)
    assert decode(text) == (diverged,)
    assert "step 7" in render(text) and "L1 strength (now 0.1)" in render(text)
    assert "第 7 步" in render(text, "zh") and "L1 强度（现在是 0.1）" in render(text, "zh")
    # A notice and the final message, joined: each sentence in the reader's language.
    both = encode(msg("run.device_missing", device="cuda"), text)
    assert decode(both) == (msg("run.device_missing", device="cuda"), diverged)
    assert render(both).startswith("The cuda device is not available here") and "step 7" in render(both)
    # Rows stored before messages had codes: shown as they are, in any language.
    old = "Nobody was watching this run any more."
    assert decode(old) is None and render(old, "zh") == old and encode(old) == old
    assert render("[not json", "zh") == "[not json" and encode("", None) == ""


def test_errors_carry_their_message_english_in_str_and_survive_pickling():
    err = RunLimitError(msg("limit.session", count=3, limit=3))
    assert str(err).startswith("You already have 3 runs") and isinstance(err, RuntimeError)
    assert "3 次训练" in render(err, "zh")
    again = pickle.loads(pickle.dumps(err))  # worker processes send errors between processes
    assert again.message == err.message and str(again) == str(err)
    assert RunLimitError(encode(err.message)).message == err.message  # a stored text is decoded
    assert MessageError("words from outside").message == msg(TEXT, text="words from outside")
    with pytest.raises(ConfigError) as caught:
        RunConfig(dropout=1.5).validate()
    assert isinstance(caught.value, ValueError) and caught.value.message.code == "config.fraction"
    assert str(caught.value) == "dropout must be in [0, 1), got 1.5"
    with pytest.raises(data.DataError) as caught:
        data.load_dataset("cifar")
    assert "没有数据集 'cifar'" in render(caught.value, "zh")


def test_url_warnings_are_messages_in_either_language():
    _, warnings = from_query_params({"lr": "abc", "colour": "red", "dropout": "3"})
    assert all(isinstance(w, Message) for w in warnings) and len(warnings) == 3
    zh = [render(w, "zh") for w in warnings]
    assert all(HAN.search(w) and not english_left(w) for w in zh), zh
    assert "链接参数 lr='abc' 无效（应为数字），改用 0.02。" in zh


@pytest.mark.parametrize("variable, url", [
    ("REGDEMO_DATABASE_URL", "mysql://u:s3cret@h/db"), ("REGDEMO_DATABASE_URL", "postgresql://u@h:port/db"),
    ("REGDEMO_DATABASE_URL", "postgresql:///db"), ("REGDEMO_BROKER_URL", "http://queue:6379"),
    ("REGDEMO_BROKER_URL", "redis://:6379/0"), ("REGDEMO_BROKER_URL", "redis://queue:6379/zero"),
])
def test_a_malformed_cluster_url_reads_in_chinese(tmp_path, monkeypatch, variable, url):
    # What a zh page shows in place of the app when the operator mistyped a URL.
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    monkeypatch.setenv(variable, url)
    with pytest.raises(StoreUnavailable) as info:
        cluster.registry_from_environment()
    zh = render(info.value.message, "zh")
    assert variable in zh and HAN.search(zh) and not english_left(zh), zh
    assert "s3cret" not in zh and "s3cret" not in str(info.value)


def test_real_divergence_and_worker_death_read_in_chinese():
    config = RunConfig(lr=10, l1=10, train_size=100, epochs=1)
    done = [e for e in engine.fit(config) if isinstance(e, Done)][0]
    assert "学习率（现在是 10）或 L1 强度（现在是 10）" in render(done.message, "zh")
    assert not english_left(render(done.message, "zh"))
    assert "被 SIGKILL 终止" in render(execute.death_message(-9), "zh")


def test_a_run_stopped_in_english_reads_in_chinese_from_the_store(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    config = RunConfig(train_size=100)
    store.create_live(config.key(), config, "s")
    store.set_status(config.key(), STOPPED, NOBODY_WATCHING)
    row = store.live(config.key())
    assert render(row.message).startswith("Nobody was watching this run")
    assert render(row.message, "zh") == "已经没有人在看这次训练，所以它被停止，把训练资源让给别人。"


# --- a Chinese page --------------------------------------------------------------------

def test_a_chinese_page_shows_a_bad_links_warnings_in_chinese(tmp_path, monkeypatch):
    # One script run only: AppTest words a translated selectbox's options outside the
    # session on a rerun (in English) and then cannot find them. The refused run's
    # Chinese is checked above and in docs/screenshots/zh/errors-refused.png.
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    reg = Registry(workers=1, store=RunStore(tmp_path / "runs.sqlite3"))
    use_registry(monkeypatch, reg)  # the one seam: patching webapp.state.registry itself would
    # leave the lambda bound in every page module first imported during this test
    try:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        for name, value in {"lang": "zh", "lr": "abc", "colour": "red", "show": "nothing"}.items():
            at.query_params[name] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    finally:
        reg.shutdown()
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 3, warnings
    for text in warnings:
        assert HAN.search(text) and not english_left(text), text
    assert "链接中有一部分被忽略：链接参数 lr='abc' 无效（应为数字），改用 0.02。" in warnings
