"""What the library tells a person, as a code and its parameters, worded by the catalogs.

The library never words a message for a person itself: it builds msg(code, **params)
and whoever shows it renders it in the reader's language through regdemo.i18n, with
the key "msg.<code>" (the pages in the page's language, the CLI in English). So a
run that failed while an English page watched it reads in Chinese on a Chinese page.

Errors meant for a person (ConfigError, DataError, RunLimitError) derive from
MessageError: str(err) is the English text, err.message the Message.

A run's message is stored as text (the run store's message column, a Done event):
encode() writes one or more Messages as JSON, decode() reads them back. Text that is
not such JSON (rows stored before messages had codes) is shown as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from regdemo.i18n import STRINGS, translate

# The code of a text kept verbatim: an old free-text row, or words from outside
# (an operating system's error) that have no translation.
TEXT = "text"


@dataclass(frozen=True)
class Message:
    code: str  # the catalog key is "msg." + code
    params: tuple[tuple[str, object], ...] = ()  # sorted (name, value) pairs; a value may be a Message

    def values(self) -> dict:
        return dict(self.params)


def msg(code: str, /, **params) -> Message:
    """A message; a plural phrase takes its number as `count`."""
    if "key" in params or "lang" in params:  # translate(key, lang, **params) takes those names
        raise TypeError(f"message {code}: 'key' and 'lang' cannot be parameter names")
    return Message(code, tuple(sorted(params.items())))


class MessageError(Exception):
    """An error meant for a person: str() is English, render(err, lang) any language."""

    def __init__(self, message: Message | str):
        if isinstance(message, str):  # a stored text, or a caller outside the library with its own words
            found = _messages(message)
            message = found[0] if len(found) == 1 else msg(TEXT, text=render(message, "en"))
        super().__init__(message)  # args stay (Message,): the error pickles with its code
        self.message = message

    def __str__(self) -> str:
        return render(self.message, "en")


# --- stored form ----------------------------------------------------------------------

def _to_json(message: Message) -> dict:
    return {"code": message.code,
            "params": {k: _to_json(v) if isinstance(v, Message) else v for k, v in message.params}}


def _from_json(data) -> Message | None:
    if not (isinstance(data, dict) and set(data) == {"code", "params"} and isinstance(data["code"], str)
            and isinstance(data["params"], dict)):
        return None
    params = {k: _from_json(v) or v if isinstance(v, dict) else v for k, v in data["params"].items()}
    return msg(data["code"], **params)


def encode(*parts: Message | str) -> str:
    """Messages (or stored texts, joined on) as one stored text; "" for none."""
    given = [part for part in parts if part]
    if len(given) == 1 and isinstance(given[0], str):
        return given[0]  # a stored text (or an old free-text one) stays as it was
    found = [m for part in given for m in _messages(part)]
    if not found:
        return ""
    if len(found) == 1 and found[0].code == TEXT:
        return found[0].values()[TEXT]  # free text stays free text
    # default=str: a parameter JSON cannot hold (a path, say) is stored as its text
    return json.dumps([_to_json(m) for m in found], ensure_ascii=False, separators=(",", ":"), default=str)


def decode(text: str) -> tuple[Message, ...] | None:
    """The messages of a stored text, or None when it is free text (an old row)."""
    if not text.startswith('[{"code"'):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    found = [_from_json(item) for item in data] if isinstance(data, list) else [None]
    return None if None in found else tuple(found)


def _messages(item) -> tuple[Message, ...]:
    if isinstance(item, MessageError):
        item = item.message
    if isinstance(item, Message):
        return (item,)
    if not item:
        return ()
    text = str(item)
    decoded = decode(text)
    return decoded if decoded is not None else (msg(TEXT, text=text),)


# --- words ----------------------------------------------------------------------------

def render(item, lang: str = "en") -> str:
    """A Message, MessageError, stored text or plain string in `lang`."""
    sentences = [_sentence(m, lang) for m in _messages(item)]
    return ("" if lang == "zh" else " ").join(sentences)  # Chinese sentences end in 。 and no space


def _sentence(message: Message, lang: str) -> str:
    values = {k: render(v, lang) if isinstance(v, Message) else v for k, v in message.params}
    key = f"msg.{message.code}"
    if key not in STRINGS["en"]:
        # A code no catalog knows (tests/test_messages.py catches it): show what it says.
        return values.get(TEXT) or f"{message.code} {values}"
    return translate(key, lang, **values)
