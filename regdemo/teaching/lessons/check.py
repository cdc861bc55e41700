"""`python -m regdemo lessons --check`: train every lesson's pair over seeds and say whether
each lesson proves its claim.

Each run is a whole `python -m regdemo train <train_args> --seed S --json` process, so the
seconds reported are what a student waits for at a terminal (the 20-second budget of a
class), and the runs are exactly the ones `lessons --json` hands out. A config shared by
several lessons (the common noisy baseline) is trained once per seed. The statistics are
sweep.stats (mean, sample std, min, max), the same as the Sweep page's.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from regdemo.cli.output import epoch_json
from regdemo.messages import render
from regdemo.teaching.lessons.catalog import CONTRAST, LOSS, MEASURED_PATH, SPARSITY, Lesson, train_args
from regdemo.teaching.sweep import Stats, stats
from regdemo.training.config import RunConfig
from regdemo.training.engine import fit

# The claims' bars (issue 10): an accuracy lesson wins by this many points on average and in
# every seed; L2 may instead lower the test loss by this fraction without losing accuracy;
# L1 has this many times the baseline's near-zero weights.
MIN_GAIN = 2.0
MIN_LOSS_DROP = 0.20
MIN_SPARSITY_RATIO = 3.0


class CheckError(RuntimeError):
    """A run of the check did not finish (diverged, failed, or the process died)."""


@dataclass(frozen=True)
class RunResult:
    """One finished run, as the check needs it. Accuracies in percent."""

    test_acc: float  # the kept model's: the best validation epoch under early stopping, else the last
    test_loss: float
    peak_test_acc: float  # the best epoch's test accuracy, whatever was kept
    last_test_acc: float  # the last epoch trained
    near_zero: float  # fraction of penalized weights below events.NEAR_ZERO, last epoch
    epochs_run: int
    best_epoch: int
    seconds: float  # wall time of the whole run (a CLI process, with the subprocess runner)
    # Share of the wrong-labelled training digits whose wrong label the kept model predicts
    # (a fraction, events.EpochEnd.memorized); None for a run without label noise.
    memorized: float | None = None

    @property
    def peak_minus_final(self) -> float:
        """How far test accuracy fell from its peak by the end: memorization made visible."""
        return self.peak_test_acc - self.last_test_acc


def result_from_lines(lines: Sequence[dict], seconds: float) -> RunResult:
    """A RunResult from `train --json` output: one object per epoch, then the final one."""
    epochs = [line for line in lines if "epoch" in line and "test_acc" in line and "status" not in line]
    final = next((line for line in lines if "status" in line), None)
    if final is None or not epochs or final["status"] not in ("finished", "early_stopped"):
        status = final["status"] if final else "no final line"
        message = final.get("message", "") if final else ""
        raise CheckError(f"run ended {status}" + (f": {message}" if message else ""))
    kept = next((e for e in epochs if e["epoch"] == final["best_epoch"]), epochs[-1])
    return RunResult(
        test_acc=100 * kept["test_acc"], test_loss=kept["test_loss"],
        peak_test_acc=100 * max(e["test_acc"] for e in epochs),
        last_test_acc=100 * epochs[-1]["test_acc"], near_zero=epochs[-1]["near_zero"],
        epochs_run=len(epochs), best_epoch=final["best_epoch"], seconds=seconds, memorized=kept.get("memorized"),
    )


def run_cli(config: RunConfig) -> RunResult:
    """Train `config` as a student would: a whole `python -m regdemo train ... --json` process."""
    command = [sys.executable, "-m", "regdemo", "train", *train_args(config), "--seed", str(config.seed), "--json"]
    # The regdemo this module came from, also when the caller's folder is elsewhere.
    root = str(pathlib.Path(__file__).resolve().parents[3])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - started
    lines = []
    for text in proc.stdout.splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    try:
        return result_from_lines(lines, seconds)
    except CheckError as err:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise CheckError(f"{' '.join(command[2:])}: {err} ({tail[0]})") from None


def run_in_process(config: RunConfig, dataset=None) -> RunResult:
    """Train `config` with engine.fit in this process (tests; no process start in `seconds`)."""
    started = time.perf_counter()
    lines = []
    for event in fit(config, dataset=dataset, progress_per_epoch=1):
        if event.kind == "epoch":
            lines.append(epoch_json(event))
        elif event.kind == "done":
            lines.append({"status": event.status, "best_epoch": event.best_epoch, "message": render(event.message)})
    return result_from_lines(lines, time.perf_counter() - started)


@dataclass(frozen=True)
class LessonResult:
    lesson: Lesson
    seeds: tuple[int, ...]
    baseline: tuple[RunResult, ...]  # per seed
    treated: tuple[RunResult, ...]
    # L1's sparsity lesson: mean near-zero fraction of none, L1 and L2 on the same setup
    near_zero: dict[str, float] | None = None

    @property
    def gains(self) -> list[float]:
        """Treated minus baseline test accuracy, seed by seed (points)."""
        return [t.test_acc - b.test_acc for b, t in zip(self.baseline, self.treated, strict=True)]

    @property
    def loss_changes(self) -> list[float]:
        """(treated - baseline) / baseline test loss, seed by seed."""
        return [(t.test_loss - b.test_loss) / b.test_loss for b, t in zip(self.baseline, self.treated, strict=True)]

    @property
    def memorizes_less(self) -> list[bool] | None:
        """Seed by seed, whether the treated run memorized fewer wrong labels (kept epochs);
        None for a pair without label noise."""
        pairs = list(zip(self.baseline, self.treated, strict=True))
        if any(b.memorized is None or t.memorized is None for b, t in pairs):
            return None
        return [t.memorized < b.memorized for b, t in pairs]

    def stat(self, side: str, attr: str) -> Stats:
        return stats([getattr(r, attr) for r in getattr(self, side)])

    def sparsity_ratio(self) -> float:
        base = self.stat("baseline", "near_zero").mean
        treated = self.stat("treated", "near_zero").mean
        return treated / base if base > 0 else float("inf")

    def proven(self) -> bool:
        """Whether the pair shows the lesson's claim by the bars above."""
        gains = self.gains
        if self.lesson.measure == CONTRAST:
            return True  # nothing claimed: the measured difference is the result, either sign
        if self.lesson.measure == SPARSITY:
            return self.sparsity_ratio() >= MIN_SPARSITY_RATIO
        wins_acc = stats(gains).mean >= MIN_GAIN and min(gains) >= MIN_GAIN
        if self.lesson.measure == LOSS:
            changes = self.loss_changes
            wins_loss = stats(changes).mean <= -MIN_LOSS_DROP and min(gains) >= 0
            return wins_acc or wins_loss
        return wins_acc


def run_check(lessons: Sequence[Lesson], seeds: int,
              runner: Callable[[RunConfig], RunResult] = run_cli,
              on_run: Callable[[RunConfig, RunResult], None] | None = None) -> list[LessonResult]:
    """Train every lesson's pair for seeds 0..seeds-1; a config shared by lessons trains once."""
    done: dict[str, RunResult] = {}

    def result(config: RunConfig) -> RunResult:
        key = config.key()
        if key not in done:
            done[key] = runner(config)
            if on_run is not None:
                on_run(config, done[key])
        return done[key]

    seed_list = tuple(range(seeds))
    out = []
    for lesson in lessons:
        base = tuple(result(lesson.baseline.replace(seed=s)) for s in seed_list)
        treated = tuple(result(lesson.treated.replace(seed=s)) for s in seed_list)
        near_zero = None
        if lesson.measure == SPARSITY:
            # L1's sparsity next to L2's and none's on the same setup; the L2 runs are those of
            # the L2 lesson when it shares the setup (then they are trained once).
            l2 = next((other.treated for other in lessons if other.measure != SPARSITY and other.treated.l2
                       and other.baseline == lesson.baseline), lesson.baseline.replace(l2=1e-2))
            l2_runs = [result(l2.replace(seed=s)) for s in seed_list]
            near_zero = {"none": stats([r.near_zero for r in base]).mean,
                         lesson.name: stats([r.near_zero for r in treated]).mean,
                         "l2": stats([r.near_zero for r in l2_runs]).mean}
        out.append(LessonResult(lesson, seed_list, base, treated, near_zero))
    return out


def _pm(stat: Stats, digits: int = 1) -> str:
    return f"{stat.mean:.{digits}f} ± {stat.std:.{digits}f}"


def table(results: Sequence[LessonResult]) -> str:
    """The check's table: one row per lesson, test numbers over the seeds."""
    header = (f"{'lesson':<15} {'baseline %':>12} {'treated %':>12} {'gain':>12} {'min gain':>8} "
              f"{'base loss':>11} {'treat loss':>11} {'loss Δ':>7} {'base peak-final':>15} "
              f"{'max s':>6} {'base mem':>11} {'treat mem':>11}  claim")
    lines = [header]
    for r in results:
        gains, changes = stats(r.gains), stats(r.loss_changes)
        seconds = max(x.seconds for x in r.baseline + r.treated)
        lines.append(
            f"{r.lesson.name:<15} {_pm(r.stat('baseline', 'test_acc')):>12} {_pm(r.stat('treated', 'test_acc')):>12} "
            f"{_pm(gains):>12} {gains.low:>8.1f} {_pm(r.stat('baseline', 'test_loss'), 3):>11} "
            f"{_pm(r.stat('treated', 'test_loss'), 3):>11} {100 * changes.mean:>6.0f}% "
            f"{_pm(r.stat('baseline', 'peak_minus_final')):>15} {seconds:>6.1f} {_memorized(r, 'baseline'):>11} "
            f"{_memorized(r, 'treated'):>11}  "
            + ("measured" if r.lesson.measure == CONTRAST else "proven" if r.proven() else "NOT PROVEN"))
    for r in results:
        less = r.memorizes_less
        if less is not None and not all(less):
            seeds = ", ".join(str(s) for s, ok in zip(r.seeds, less, strict=True) if not ok)
            lines.append(f"{r.lesson.name}: the treated run memorized NOT less than the baseline in seed(s) {seeds}")
    for r in results:
        if r.near_zero:
            parts = ", ".join(f"{name} {100 * value:.1f} %" for name, value in r.near_zero.items())
            lines.append(f"near-zero weights (|w| < 1e-3), {r.lesson.name} lesson's setup: {parts} "
                         f"({r.sparsity_ratio():.1f}x the baseline's)")
    lines.append("test = the test split, never trained on; mean ± sample std over seeds; gain = treated - baseline, "
                 "seed by seed, in points; loss Δ = relative change of the test loss; "
                 "peak-final = the baseline's best epoch minus its last epoch; max s = longest run; "
                 "mem = share of the wrong-labelled training digits whose wrong label the kept model predicts "
                 "(0-1; - without label noise)")
    return "\n".join(lines)


def _memorized(result: LessonResult, side: str) -> str:
    if result.memorizes_less is None:
        return "-"
    return _pm(result.stat(side, "memorized"), 2)


def _side(runs: Sequence[RunResult]) -> dict:
    def block(attr, digits):
        values = [getattr(r, attr) for r in runs]
        s = stats(values)
        return {"mean": round(s.mean, digits), "std": round(s.std, digits),
                "per_seed": [round(v, digits) for v in values]}

    out = {"test_acc": block("test_acc", 2), "test_loss": block("test_loss", 4),
           "peak_minus_final": block("peak_minus_final", 2), "near_zero": block("near_zero", 4),
           "seconds": block("seconds", 1)}
    if all(r.memorized is not None for r in runs):  # label noise: kept epoch's share memorized
        out["memorized"] = block("memorized", 4)
    return out


def to_json(results: Sequence[LessonResult], command: str = "") -> dict:
    """What --write stores (the shape catalog.measured() documents)."""
    lessons = {}
    for r in results:
        gains, changes = stats(r.gains), stats(r.loss_changes)
        entry = {
            "measure": r.lesson.measure, "seeds": list(r.seeds), "proven": r.proven(),
            "baseline": _side(r.baseline), "treated": _side(r.treated),
            "gain": {"mean": round(gains.mean, 2), "std": round(gains.std, 2), "min": round(gains.low, 2),
                     "per_seed": [round(g, 2) for g in r.gains]},
            "loss_change": {"mean": round(changes.mean, 4), "std": round(changes.std, 4),
                            "per_seed": [round(c, 4) for c in r.loss_changes]},
            "seconds_max": round(max(x.seconds for x in r.baseline + r.treated), 1),
            "baseline_args": train_args(r.lesson.baseline), "treated_args": train_args(r.lesson.treated),
        }
        if r.near_zero:
            entry["near_zero"] = {name: round(v, 4) for name, v in r.near_zero.items()}
        if r.memorizes_less is not None:
            entry["memorizes_less"] = r.memorizes_less
        lessons[r.lesson.name] = entry

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "cpus": os.cpu_count(), "torch": torch.__version__,
        # thread settings change the numbers slightly (float sums in another order) and the
        # seconds a lot on a busy machine: kept with the numbers so a re-run can match them
        "env": {name: os.environ[name] for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY") if name in os.environ},
        "load_average": [round(x, 1) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "seeds": list(results[0].seeds) if results else [], "command": command, "lessons": lessons,
    }


def machine() -> str:
    """The CPU's model name (lscpu's 'Model name'), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_json(data: dict, path=MEASURED_PATH) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of it."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
