"""Strength sweeps: one regularizer's strength against test accuracy and the train-test gap.

    python -m regdemo sweep --param l2 --values 0,1e-4,1e-3,1e-2,1e-1 --seeds 2

Every (value, seed) point is an ordinary RunConfig trained through jobs.Registry and
its run store, so points are single-flight like any run, a point trained before (by
the app, the CLI or an earlier sweep) is read back instead of trained again, and
the points trained here show up in the app.
The CLI (commands.cmd_sweep) and the Sweep page use the same pieces: sweep_configs() to make
the points, advance() on each redraw to start what the session's limit allows
(regdemo.runs.runsets) and read the finished ones, point_from_view() to read a finished run,
summarize() for mean and spread (regdemo.viz.sweep draws them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from regdemo.messages import msg
from regdemo.runs.runsets import start_within_limit
from regdemo.training.config import AUGMENT_LEVELS, ConfigError, RunConfig
from regdemo.training.events import EARLY_STOPPED, FINISHED, STOPPED

# The strengths a sweep can vary and how a value is read from the command line.
PARAMS = ("dropout", "l1", "l2", "train_size", "augment")
# λ spans decades: these are drawn on a log axis (0 is put one decade below the
# smallest positive value by the page, since log 0 does not exist).
LOG_PARAMS = ("l1", "l2")
MAX_SEEDS = 20
MAX_VALUES = 20

# Defaults for the page and the CLI. The L2 values are the ones measured in
# docs/sweep_l2.md to show the U-shape on the embedded sample with the wide net
# and 10 epochs: test accuracy rises from λ=0 to a peak, then falls sharply.
DEFAULT_VALUES: dict[str, tuple] = {
    "dropout": (0.0, 0.1, 0.25, 0.5, 0.7, 0.85),
    "l1": (0.0, 1e-5, 1e-4, 1e-3, 1e-2),
    "l2": (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
    "train_size": (250, 500, 1000, 2000, 4000),
    "augment": AUGMENT_LEVELS,
}


def parse_values(param: str, text: str) -> tuple:
    """'0,1e-4,1e-3' -> (0.0, 0.0001, 0.001) for a numeric param; raises ConfigError."""
    if param not in PARAMS:
        raise ConfigError(msg("sweep.unknown_param", allowed=", ".join(PARAMS), value=repr(param)))
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ConfigError(msg("sweep.no_values"))
    if len(items) > MAX_VALUES:
        raise ConfigError(msg("sweep.too_many_values", most=MAX_VALUES, count=len(items)))
    values = []
    for item in items:
        if param == "augment":
            value = item
        elif param == "train_size":
            try:
                value = int(item)
            except ValueError:
                raise ConfigError(msg("sweep.not_whole", name="train_size", value=repr(item))) from None
        else:
            try:
                value = float(item)
            except ValueError:
                raise ConfigError(msg("sweep.not_number", name=param, value=repr(item))) from None
            if not math.isfinite(value):
                raise ConfigError(msg("sweep.not_finite", name=param, value=repr(item)))
        if value in values:
            raise ConfigError(msg("sweep.twice", value=item))
        values.append(value)
    return tuple(values)


@dataclass(frozen=True)
class SweepSpec:
    """One point of a sweep: the swept value, the seed, and the config that trains it."""

    value: float | int | str
    seed: int
    config: RunConfig


def sweep_configs(base: RunConfig, param: str, values: Sequence, seeds: int) -> list[SweepSpec]:
    """Every (value, seed) point, value-major; seeds are base.seed, base.seed+1, ...

    Each config is validated here, so a bad value fails before anything trains.
    """
    if param not in PARAMS:
        raise ConfigError(msg("config.choice", name="param", allowed=", ".join(PARAMS), value=repr(param)))
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError(msg("config.between", name="seeds", low=1, high=MAX_SEEDS, value=repr(seeds)))
    specs = []
    for value in values:
        for seed in range(base.seed, base.seed + seeds):
            try:
                config = base.replace(**{param: value, "seed": seed}).validate()
            except ConfigError as err:
                raise ConfigError(msg("sweep.bad_point", name=param, value=value, error=err.message)) from None
            specs.append(SweepSpec(value, seed, config))
    return specs


@dataclass(frozen=True)
class SweepPoint:
    """What one finished (value, seed) run measured. Accuracies are fractions.

    The accuracies are those of the kept model: the last epoch, or the best
    validation epoch under early stopping. They are None when the run ended
    without one (diverged before an epoch, stopped, failed).
    """

    value: float | int | str
    seed: int
    key: str
    status: str
    test_acc: float | None
    train_acc_eval: float | None
    train_acc: float | None  # train mode, running (the article's "train")
    epochs_run: int
    source: str = ""  # "" when trained just now; "app", "cli" or "sweep" when read from the store

    @property
    def ok(self) -> bool:
        return self.test_acc is not None

    @property
    def gap(self) -> float | None:
        """Train (eval mode) minus test accuracy: how much the net memorised."""
        if self.test_acc is None or self.train_acc_eval is None:
            return None
        return self.train_acc_eval - self.test_acc

    def to_json(self) -> dict:
        return {"value": self.value, "seed": self.seed, "key": self.key, "status": self.status,
                "test_acc": self.test_acc, "train_acc_eval": self.train_acc_eval, "gap": self.gap,
                "train_acc": self.train_acc, "epochs_run": self.epochs_run,
                "cached": bool(self.source)}


def point_from_view(spec: SweepSpec, view) -> SweepPoint:
    """The point of a finished run (a records.RunView or anything with status, epochs, done)."""
    kept = None
    if view.status in (FINISHED, EARLY_STOPPED) and view.epochs:
        best = view.done.best_epoch if view.done is not None else 0
        kept = next((ev for ev in view.epochs if ev.epoch == best), view.epochs[-1])
    return SweepPoint(
        value=spec.value, seed=spec.seed, key=spec.config.key(), status=view.status,
        test_acc=kept.test_acc if kept else None,
        train_acc_eval=kept.train_acc_eval if kept else None,
        train_acc=kept.train_acc if kept else None,
        epochs_run=len(view.epochs), source=getattr(view, "source", ""),
    )


@dataclass(frozen=True)
class Stats:
    mean: float
    std: float  # sample standard deviation (n-1); 0 for a single seed
    low: float
    high: float


@dataclass(frozen=True)
class SummaryRow:
    """Mean and spread over the seeds of one swept value."""

    value: float | int | str
    runs: int  # points with a measurement
    failed: int  # points that ended without one
    test_acc: Stats | None
    gap: Stats | None
    train_acc_eval: Stats | None


def stats(xs: Sequence[float]) -> Stats | None:
    if not xs:
        return None
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1) if len(xs) > 1 else 0.0
    return Stats(mean, math.sqrt(var), min(xs), max(xs))


def summarize(points: Iterable[SweepPoint], values: Sequence | None = None) -> list[SummaryRow]:
    """One row per value: mean, std, min and max over seeds.

    Rows follow `values` when given (values with no point yet get an empty row,
    so a page can draw a sweep that is still running), else the order values
    first appear in.
    """
    by_value: dict = {}
    for value in values or ():
        by_value.setdefault(value, [])
    for point in points:
        by_value.setdefault(point.value, []).append(point)
    rows = []
    for value, group in by_value.items():
        good = [p for p in group if p.ok]
        rows.append(SummaryRow(
            value=value, runs=len(good), failed=len(group) - len(good),
            test_acc=stats([p.test_acc for p in good]),
            gap=stats([p.gap for p in good]),
            train_acc_eval=stats([p.train_acc_eval for p in good]),
        ))
    return rows


def best_value(rows: Sequence[SummaryRow]):
    """The value with the highest mean test accuracy (None if nothing is measured)."""
    measured = [r for r in rows if r.test_acc is not None]
    return max(measured, key=lambda r: r.test_acc.mean).value if measured else None


# --- what the Sweep page draws ----------------------------------------------------

def x_positions(param: str, values: Sequence) -> dict:
    """Where each value sits on the x axis.

    λ and train size are drawn on a log axis; λ = 0 has no logarithm, so it is
    put one decade below the smallest positive value. Augmentation levels are
    categories and keep their names.
    """
    if param == "augment":
        return {v: v for v in values}
    if param in LOG_PARAMS:
        positive = [v for v in values if v > 0]
        zero_at = min(positive) / 10 if positive else 1e-6
        return {v: (v if v > 0 else zero_at) for v in values}
    return {v: float(v) for v in values}


def chart_rows(param: str, rows: Sequence[SummaryRow]) -> list[dict]:
    """One dict per measured value: x, the value's label, and mean/min/max in percent."""
    where = x_positions(param, [r.value for r in rows])
    out = []
    for order, row in enumerate(rows):
        if row.test_acc is None:
            continue
        out.append({
            "x": where[row.value], "value": format_value(row.value), "order": order, "seeds": row.runs,
            "test_mean": 100 * row.test_acc.mean, "test_std": 100 * row.test_acc.std,
            "test_low": 100 * row.test_acc.low, "test_high": 100 * row.test_acc.high,
            "gap_mean": 100 * row.gap.mean, "gap_std": 100 * row.gap.std,
            "gap_low": 100 * row.gap.low, "gap_high": 100 * row.gap.high,
            "train_eval_mean": 100 * row.train_acc_eval.mean,
        })
    return out


def seed_rows(param: str, points: Sequence[SweepPoint], values: Sequence) -> list[dict]:
    """One dict per measured (value, seed): the dots behind the mean line."""
    where = x_positions(param, values)
    return [{"x": where[p.value], "value": format_value(p.value), "seed": p.seed,
             "test": 100 * p.test_acc, "gap": 100 * p.gap}
            for p in points if p.ok and p.value in where]


# --- running a sweep ---------------------------------------------------------------

def run_points(registry, specs: Sequence[SweepSpec],
               on_point: Callable[[SweepPoint], None] | None = None,
               poll: float = 0.5, window: int | None = None) -> list[SweepPoint]:
    """Train every point through the registry; on_point sees each as it finishes.

    At most `window` points (default: twice the registry's workers) are queued
    or training at a time, so a long sweep never fills the shared queue; points
    the registry already has (or reads from the store) finish at once and take
    no room. The list returned is in spec order. A refusal (the queue full of
    others' runs) is raised.
    """
    window = window or max(2, 2 * registry.workers)
    points: list[SweepPoint | None] = [None] * len(specs)
    runs: dict[int, object] = {}
    started = 0
    while any(p is None for p in points):
        room = window - sum(not r.finished for r in runs.values())
        if room > 0 and started < len(specs):
            new, refused = start_within_limit(registry, [s.config for s in specs[started:started + room]])
            for run in new:
                runs[started] = run
                started += 1
            if refused is not None:
                raise refused
        waiting = None
        for i, run in runs.items():
            if points[i] is not None:
                continue
            if run.wait(0):
                points[i] = point_from_view(specs[i], run.view())
                if on_point is not None:
                    on_point(points[i])
            elif waiting is None:
                waiting = run
        if waiting is not None:
            waiting.wait(poll)
    return points


@dataclass(frozen=True)
class Advance:
    """What one step of a page's sweep found: points still to come, points training, and
    the registry's refusal that keeps some waiting (None when nothing was refused)."""

    waiting: int
    going: int
    refused: Exception | None


def advance(registry, specs: Sequence[SweepSpec], points: dict, session: str, stopped: bool = False) -> Advance:
    """The Sweep page's step, once per redraw: start what the session's limit allows, collect
    the points that finished into `points` (key -> SweepPoint).

    get_or_start joins a run in memory, reads one from the store, or starts one; once
    the limit refuses a start, the remaining points wait for the next redraw without
    being looked up (no store reads per tick). A stopped sweep only looks, never starts.
    """
    pending = [spec for spec in specs if spec.config.key() not in points]
    if stopped:
        runs, refused = [registry.get(spec.config.key()) for spec in pending], None
    else:
        # A stopped point is trained afresh; a failed one is a result (it would fail
        # again) and is shown as missing.
        runs, refused = start_within_limit(registry, [spec.config for spec in pending], session)
    waiting = len(pending) - len(runs)
    going = 0
    for spec, run in zip(pending, runs, strict=False):
        if run is None or run.status == STOPPED:
            waiting += 1
            continue
        key = spec.config.key()
        registry.touch(key, session)
        if run.finished:
            points[key] = point_from_view(spec, run.view())
        else:
            going += 1
    return Advance(waiting, going, refused)


def format_value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pct(stat: Stats | None, field: str = "mean") -> str:
    return "-" if stat is None else f"{100 * getattr(stat, field):.2f}"


def summary_table(param: str, rows: Sequence[SummaryRow]) -> str:
    """The human-readable summary: percentages, mean ± std over seeds, and the range."""
    header = (f"{param:>10}  {'seeds':>5}  {'test % mean±std':>16}  {'test % min-max':>15}  "
              f"{'gap mean±std':>13}  {'train % (eval)':>14}")
    lines = [header]
    best = best_value(rows)
    for row in rows:
        test = "-" if row.test_acc is None else f"{_pct(row.test_acc)} ± {_pct(row.test_acc, 'std')}"
        span = "-" if row.test_acc is None else f"{_pct(row.test_acc, 'low')}-{_pct(row.test_acc, 'high')}"
        gap = "-" if row.gap is None else f"{_pct(row.gap)} ± {_pct(row.gap, 'std')}"
        seeds = f"{row.runs}" + (f"+{row.failed}!" if row.failed else "")
        mark = "  <- best test" if row.value == best and len(rows) > 1 else ""
        lines.append(f"{format_value(row.value):>10}  {seeds:>5}  {test:>16}  {span:>15}  "
                     f"{gap:>13}  {_pct(row.train_acc_eval):>14}{mark}")
    if any(row.failed for row in rows):
        lines.append("n+k!: k runs ended without a measurement (diverged, stopped or failed)")
    return "\n".join(lines)
