"""Exercise links: a teacher fixes a setup and chooses which sidebar controls students see.

Like TF Playground's hide parameters. Two URL parameters, each a comma-separated
list of control names (the setup's own URL names, see config.QUERY_FIELDS):

- `show=dropout,noise`: only these controls are shown and free; every other one
  is hidden and keeps the value the link gives it (or the default).
- `lock=noise`: these are shown but locked (disabled, marked with a lock).

With only `lock`, every other control stays free. A name in both is locked. An
unknown name is ignored with a warning; a link that asks for nothing valid is
no exercise at all. No streamlit here: the sidebar (webapp.sidebar) draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from regdemo.messages import Message, msg
from regdemo.training.config import QUERY_FIELDS, RunConfig, to_query_params

CONTROLS = tuple(QUERY_FIELDS)  # dataset, model, dropout, ..., batch
FREE, LOCKED, HIDDEN = "free", "locked", "hidden"
PARAMS = ("show", "lock")
MAX_NAMES = 32  # a longer list is garbage, never parsed


@dataclass(frozen=True)
class Exercise:
    """Which controls a student may change. `show` None: every control not locked is shown."""

    show: tuple[str, ...] | None = None
    lock: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.show is not None or bool(self.lock)

    def mode(self, control: str) -> str:
        """FREE, LOCKED or HIDDEN for one control (a URL name of config.QUERY_FIELDS)."""
        if control in self.lock:
            return LOCKED
        if self.show is None or control in self.show:
            return FREE
        return HIDDEN

    def to_query_params(self) -> dict[str, str]:
        out = {}
        if self.show is not None:
            out["show"] = ",".join(c for c in CONTROLS if c in self.show and c not in self.lock) or "none"
        if self.lock:
            out["lock"] = ",".join(c for c in CONTROLS if c in self.lock)
        return out


def _names(raw: str, param: str, warnings: list[Message]) -> tuple[str, ...]:
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    good = []
    for name in names[:MAX_NAMES]:
        if name in CONTROLS:
            good.append(name)
        elif name != "none":
            shown = "".join(ch if ch.isprintable() else "?" for ch in name)[:30]
            warnings.append(msg("url.unknown_control", param=param, value=repr(shown), allowed=", ".join(CONTROLS)))
    return tuple(dict.fromkeys(good))


def parse(params) -> tuple[Exercise, list[Message]]:
    """The exercise a link's `show` / `lock` parameters describe, and a warning per bad name.

    Never raises. `show=none` hides every control (a pure demonstration link);
    a `show` naming only unknown controls is ignored, not read as "hide all"."""
    warnings: list[Message] = []
    values = {}
    for param in PARAMS:
        raw = params.get(param)
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else None
        if raw is None:
            continue
        raw = str(raw)[:400]
        names = _names(raw, param, warnings)
        asked_none = [n.strip().lower() for n in raw.split(",")] == ["none"]
        if names or asked_none:
            values[param] = names
    exercise = Exercise(show=values.get("show"), lock=values.get("lock", ()))
    return exercise, warnings


def link_params(config: RunConfig, free: list[str] | tuple[str, ...], lock: list[str] | tuple[str, ...] = ()
                ) -> dict[str, str]:
    """The query parameters of an exercise link: the setup, the free controls, the locked ones."""
    free = tuple(c for c in CONTROLS if c in free)
    lock = tuple(c for c in CONTROLS if c in lock and c not in free)
    return {**to_query_params(config), **Exercise(show=free, lock=lock).to_query_params()}
