"""Strength sweeps: one regularizer's strength against test accuracy and the train-test gap.

    python -m regdemo sweep --param l2 --values 0,1e-4,1e-3,1e-2,1e-1 --seeds 2

Every (value, seed) point is an ordinary RunConfig trained through jobs.Registry and
its run store, so points are single-flight like any run, a point trained before (by
the app, the CLI or an earlier sweep) is read back instead of trained again, and
the points trained here show up in the app.
The Sweep page uses the same pieces: sweep_configs() to make the points,
point_from_view() to read a finished run, summarize() to draw mean and spread.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from regdemo.config import AUGMENT_LEVELS, ConfigError, RunConfig
from regdemo.events import EARLY_STOPPED, FINISHED
from regdemo.messages import msg, render

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
    held-out epoch under early stopping. They are None when the run ended
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
            "x": where[row.value], "value": _format_value(row.value), "order": order, "seeds": row.runs,
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
    return [{"x": where[p.value], "value": _format_value(p.value), "seed": p.seed,
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
    no room. The list returned is in spec order.
    """
    window = window or max(2, 2 * registry.workers)
    points: list[SweepPoint | None] = [None] * len(specs)
    runs: dict[int, object] = {}
    started = 0
    while any(p is None for p in points):
        while started < len(specs) and sum(not r.finished for r in runs.values()) < window:
            runs[started] = registry.get_or_start(specs[started].config)
            started += 1
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


def _format_value(value) -> str:
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
        lines.append(f"{_format_value(row.value):>10}  {seeds:>5}  {test:>16}  {span:>15}  "
                     f"{gap:>13}  {_pct(row.train_acc_eval):>14}{mark}")
    if any(row.failed for row in rows):
        lines.append("n+k!: k runs ended without a measurement (diverged, stopped or failed)")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    from regdemo.cli import add_run_arguments

    parser.add_argument("--param", required=True, choices=PARAMS, help="the strength to vary")
    parser.add_argument("--values", help="comma-separated values, e.g. 0,1e-4,1e-3 "
                        "(default: the Sweep page's values for --param)")
    parser.add_argument("--seeds", type=int, default=1, metavar="K",
                        help="seeds per value: --seed, --seed+1, ... (default 1)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per (value, seed) as it finishes")
    parser.add_argument("--workers", type=int, metavar="N", help="points trained at once")
    add_run_arguments(parser)


def run(args) -> int:
    from regdemo.cli import config_from_args

    if getattr(args, args.param, None) is not None:
        raise ConfigError(f"--{args.param.replace('_', '-')} is the swept parameter; give its values with --values")
    values = parse_values(args.param, args.values) if args.values else DEFAULT_VALUES[args.param]
    base = config_from_args(args)
    specs = sweep_configs(base, args.param, values, args.seeds)
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    out = sys.stdout
    if not args.json:
        print(f"sweeping {args.param} over {', '.join(_format_value(v) for v in values)} "
              f"x {args.seeds} seed(s) on {base.label()}", file=out, flush=True)

    def report(point: SweepPoint) -> None:
        if args.json:
            print(json.dumps(point.to_json()), file=out, flush=True)
        else:
            acc = "-" if point.test_acc is None else f"test {100 * point.test_acc:.2f}%  gap {100 * point.gap:.2f}"
            cached = f"  (stored, from {point.source})" if point.source else ""
            print(f"  {args.param}={_format_value(point.value)} seed {point.seed}: {point.status}  {acc}{cached}",
                  file=out, flush=True)

    registry = make_registry(args.workers)
    try:
        points = run_points(registry, specs, report)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        registry.shutdown()
    if not args.json:
        print(summary_table(args.param, summarize(points, values)), file=out)
    return 0 if all(p.ok for p in points) else 1


def make_registry(workers: int | None = None):
    """A registry backed by the app's run store: points trained before are read back,
    new ones are saved (source "sweep") and show up in the app."""
    from regdemo.jobs import Registry

    registry = Registry(workers=workers, source="sweep")
    for warning in registry.warnings:
        print(f"warning: {render(warning)}", file=sys.stderr)
    return registry
