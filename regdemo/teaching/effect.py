"""What a lesson page says about its preset pair: the effect measured over seeds (from
`python -m regdemo lessons --check`, stored in regdemo/teaching/lessons/measured.json) and the
effect of the two runs trained in the app. Never a number that was not measured.

No streamlit here: webapp.lesson_page draws what these return.
"""

from __future__ import annotations

from dataclasses import dataclass

from regdemo.runs.frames import kept_epoch
from regdemo.teaching.lessons import catalog as _catalog


def catalog():
    """regdemo.teaching.lessons.catalog. A function, so tests can stand in their own catalog
    (monkeypatch.setattr(effect, "catalog", ...)) without touching sys.modules."""
    return _catalog


def lessons() -> dict:
    """Lesson name -> catalog Lesson (baseline and treated RunConfigs, claim per language)."""
    module = catalog()
    return dict(module.LESSONS) if module is not None else {}


def measured() -> dict:
    """The stored check, {} when missing or unreadable."""
    module = catalog()
    try:
        return (module.measured() or {}) if module is not None else {}
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class Effect:
    """One lesson's effect: accuracies in 0..1, gains and falls in percentage points."""

    seeds: int
    baseline_acc: float
    treated_acc: float
    gain: float  # treated minus baseline, mean over seeds, points
    gain_std: float
    gain_min: float
    baseline_loss: float | None = None
    treated_loss: float | None = None
    loss_change: float | None = None  # (treated - baseline) / baseline, mean over seeds
    baseline_near_zero: float | None = None
    treated_near_zero: float | None = None
    peak_minus_final: float | None = None  # the baseline's fall from its best test accuracy, points
    measure: str = "accuracy"  # what the claim rests on: accuracy, loss (L2) or sparsity (L1)


def _get(data, *path):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _number(value) -> float | None:
    """A stored number, or the mean of a {"mean", "std", "per_seed"} entry."""
    if isinstance(value, dict):
        value = value.get("mean")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _count(value) -> int:
    return len(value) if isinstance(value, (list, tuple)) else int(value) if isinstance(value, int) else 0


def measured_effect(name: str, data: dict | None = None) -> Effect | None:
    """The effect of lesson `name` as `python -m regdemo lessons --check --write` stored it
    (catalog.measured()'s shape: accuracies and gains in points), or None when not measured."""
    data = measured() if data is None else data
    entry = _get(data, "lessons", name)
    if not isinstance(entry, dict):
        return None
    base, treated = _number(_get(entry, "baseline", "test_acc")), _number(_get(entry, "treated", "test_acc"))
    gain = _number(_get(entry, "gain"))
    if base is None or treated is None or gain is None:
        return None
    std, low = _number(_get(entry, "gain", "std")), _number(_get(entry, "gain", "min"))
    return Effect(
        seeds=_count(_get(entry, "seeds")) or _count(_get(data, "seeds")),
        baseline_acc=base / 100.0, treated_acc=treated / 100.0, gain=gain,
        gain_std=0.0 if std is None else std, gain_min=gain if low is None else low,
        baseline_loss=_number(_get(entry, "baseline", "test_loss")),
        treated_loss=_number(_get(entry, "treated", "test_loss")),
        loss_change=_number(_get(entry, "loss_change")),
        baseline_near_zero=_number(_get(entry, "baseline", "near_zero")),
        treated_near_zero=_number(_get(entry, "treated", "near_zero")),
        peak_minus_final=_number(_get(entry, "baseline", "peak_minus_final")),
        measure=str(entry.get("measure") or "accuracy"),
    )


def about(data: dict | None = None) -> dict:
    """Where and how the stored check was measured (what the file says): date, machine,
    cpus, torch, seeds (a count), command."""
    data = measured() if data is None else data
    out = {k: data[k] for k in ("date", "machine", "cpus", "torch", "command") if k in data}
    if "seeds" in data:
        out["seeds"] = _count(data["seeds"])
    return out


def live_effect(baseline_view, treated_view, measure: str = "accuracy") -> Effect | None:
    """The two runs trained in the app, once both finished: one seed, kept weights' test accuracy."""
    if baseline_view is None or treated_view is None or not (baseline_view.finished and treated_view.finished):
        return None
    base, treated = kept_epoch(baseline_view), kept_epoch(treated_view)
    if base is None or treated is None:
        return None
    gain = 100.0 * (treated.test_acc - base.test_acc)
    peak = max(e.test_acc for e in baseline_view.epochs)
    return Effect(seeds=1, baseline_acc=base.test_acc, treated_acc=treated.test_acc, gain=gain, gain_std=0.0,
                  gain_min=gain, baseline_loss=base.test_loss, treated_loss=treated.test_loss,
                  loss_change=treated.test_loss / base.test_loss - 1 if base.test_loss else None,
                  baseline_near_zero=base.near_zero, treated_near_zero=treated.near_zero,
                  peak_minus_final=100.0 * (peak - baseline_view.epochs[-1].test_acc), measure=measure)
