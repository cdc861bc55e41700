"""What a lesson page says about its preset pair: the effect measured over seeds (from
`python -m regdemo lessons --check`, stored in regdemo/lessons/measured.json) and the
effect of the two runs trained in the app. Never a number that was not measured.

No streamlit here: webapp.lesson_page draws what these return.
"""

from __future__ import annotations

import importlib
import statistics
from dataclasses import dataclass

from regdemo.frames import kept_epoch


def catalog():
    """regdemo.lessons.catalog, or None where it is not there (then pages show no pair)."""
    try:
        return importlib.import_module("regdemo.lessons.catalog")
    except ImportError:
        return None


def lessons() -> dict:
    """Lesson name -> catalog Lesson (baseline and treated RunConfigs, claim per language)."""
    module = catalog()
    if module is None:
        return {}
    found = getattr(module, "LESSONS", {})
    if isinstance(found, dict):
        return dict(found)
    return {lesson.name: lesson for lesson in found}


def measured() -> dict:
    """The stored check, {} when missing or unreadable."""
    module = catalog()
    try:
        return (module.measured() or {}) if module is not None else {}
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class Effect:
    """One lesson's effect: accuracies in 0..1, gains in percentage points."""

    seeds: int
    baseline_acc: float
    treated_acc: float
    gain: float  # mean over seeds of treated minus baseline, points
    gain_std: float
    gain_min: float
    baseline_loss: float | None = None
    treated_loss: float | None = None
    baseline_near_zero: float | None = None
    treated_near_zero: float | None = None
    peak_minus_final: float | None = None  # the baseline's, points


def _get(data, *path, default=None):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _mean(value):
    """A number, or the mean of a {"mean": ...} / per-seed list."""
    if isinstance(value, dict):
        value = value.get("mean")
    if isinstance(value, (list, tuple)):
        value = statistics.fmean(value) if value else None
    return float(value) if isinstance(value, (int, float)) else None


def _seeds(value) -> list[float]:
    if isinstance(value, dict):
        value = value.get("per_seed") or value.get("seeds") or []
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else []


def entries(data: dict) -> dict:
    """Lesson name -> its stored entry, from the file's top level or its "lessons" table."""
    table = data.get("lessons", data) if isinstance(data, dict) else {}
    if isinstance(table, list):
        table = {e.get("lesson") or e.get("name"): e for e in table if isinstance(e, dict)}
    return {k: v for k, v in table.items() if isinstance(v, dict)}


def measured_effect(name: str, data: dict | None = None) -> Effect | None:
    """The stored effect of lesson `name` (accuracies as fractions, gains in points), or None
    when it was not measured. The gain's spread comes from the per-seed accuracies when
    the file has them (a paired difference per seed), else from its own gain entry."""
    entry = entries(measured() if data is None else data).get(name)
    if not entry:
        return None
    base, treated = _mean(_get(entry, "baseline", "test_acc")), _mean(_get(entry, "treated", "test_acc"))
    if base is None or treated is None:
        return None
    base_seeds, treated_seeds = _seeds(_get(entry, "baseline", "test_acc")), _seeds(_get(entry, "treated", "test_acc"))
    if base_seeds and len(base_seeds) == len(treated_seeds):
        gains = [100.0 * (t - b) for b, t in zip(base_seeds, treated_seeds, strict=True)]
        gain, std, low = statistics.fmean(gains), (statistics.stdev(gains) if len(gains) > 1 else 0.0), min(gains)
    else:
        gain = _mean(_get(entry, "gain"))
        gain = 100.0 * (treated - base) if gain is None else gain
        std, low = _mean(_get(entry, "gain", "std")) or 0.0, _mean(_get(entry, "gain", "min"))
        low = gain if low is None else low
    seeds = _get(entry, "seeds", default=len(base_seeds))
    peak = _mean(_get(entry, "baseline", "peak_minus_final"))
    peak = _mean(_get(entry, "peak_minus_final")) if peak is None else peak
    return Effect(
        seeds=int(seeds) if isinstance(seeds, (int, float)) else len(base_seeds),
        baseline_acc=base, treated_acc=treated, gain=gain, gain_std=std, gain_min=low,
        baseline_loss=_mean(_get(entry, "baseline", "test_loss")),
        treated_loss=_mean(_get(entry, "treated", "test_loss")),
        baseline_near_zero=_mean(_get(entry, "baseline", "near_zero")),
        treated_near_zero=_mean(_get(entry, "treated", "near_zero")),
        peak_minus_final=peak,
    )


def about(data: dict | None = None) -> dict:
    """Where and how the stored check was measured: seeds, digits, machine, date (what the file says)."""
    data = measured() if data is None else data
    keys = ("seeds", "test_set", "held_out", "digits", "machine", "date", "command")
    return {k: data[k] for k in keys if isinstance(data, dict) and k in data}


def live_effect(baseline_view, treated_view) -> Effect | None:
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
                  baseline_near_zero=base.near_zero, treated_near_zero=treated.near_zero,
                  peak_minus_final=100.0 * (peak - baseline_view.epochs[-1].test_acc))
