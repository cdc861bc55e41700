"""What tracking memorization costs a noisy run (issue 20: under 5 % of an epoch).

With label noise the engine does three things a clean run does not: picks the gallery once
(memorization.pick_gallery), and after every epoch reads the two shares from the eval pass's
predictions (memorization.measure) and runs the gallery's 24 digits through the net. This
script trains the same noisy setups with tracking on and off, interleaved (on, off, on, off...)
in one process, so both sides see the same machine load:

  whole runs   wall time per run, on vs off: the ratio of the medians and the worst pair
  pieces       the tracking code timed inside the "on" runs, per epoch, against that epoch's
               wall time: the mean share and the worst epoch

"Off" replaces pick_gallery and measure with functions that return nothing, which is what a
clean run's path does; nothing else in the run changes.

    nice -n 5 python -m tools.measure_memorization [--pairs 3] [--epochs 6]

Measured 2026-12-04 21:45 UTC, `--pairs 8 --epochs 20`, 2-core VM shared with other jobs
(load average 1.6 when it started), torch 2.13.0+cpu:
  n=2000: runs on/off 1.005 (medians 4.85 / 4.82 s), pairs 0.942-1.062; tracking code
          0.53 % of an epoch on average, worst epoch 0.80 %
  n=500:  runs on/off 1.000 (1.55 / 1.55 s), pairs 0.989-1.072; tracking code 1.50 %,
          worst epoch 1.89 %
The whole-run pairs scatter both ways by more than the tracking costs (other jobs' load);
the timed code is the tighter figure.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager

from regdemo.training import engine, memorization
from regdemo.training.config import RunConfig
from regdemo.training.data import load_dataset
from regdemo.training.events import EpochEnd

# The lessons' noisy setup (catalog.NOISY), and more_data's baseline: its 500 digits make the
# shortest epochs, where the gallery's fixed cost weighs the most.
SETUPS = {
    "noisy n=2000": RunConfig(train_size=2000, label_noise=0.2, optimizer="sgd", lr=0.02, momentum=0.9,
                              batch_size=64),
    "noisy n=500": RunConfig(train_size=500, label_noise=0.2, optimizer="sgd", lr=0.02, momentum=0.9,
                             batch_size=64),
}


class Timer:
    """Seconds spent in the tracking code since the last reset."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


@contextmanager
def tracking(on: bool, timer: Timer):
    """The engine with memorization tracking timed (on) or left out (off)."""
    real_pick, real_measure, real_evaluate = memorization.pick_gallery, memorization.measure, engine.evaluate

    def evaluate(model, split, **kwargs):  # the gallery's pass is part of the tracking
        if isinstance(split, memorization.Gallery):
            return timer.wrap(real_evaluate)(model, split, **kwargs)
        return real_evaluate(model, split, **kwargs)

    if on:
        memorization.pick_gallery, memorization.measure = timer.wrap(real_pick), timer.wrap(real_measure)
        engine.evaluate = evaluate
    else:
        memorization.pick_gallery = lambda *args, **kwargs: None
        memorization.measure = lambda *args, **kwargs: (None, None)
    try:
        yield
    finally:
        memorization.pick_gallery, memorization.measure, engine.evaluate = real_pick, real_measure, real_evaluate


def one_run(config: RunConfig, dataset, on: bool) -> tuple[float, list[tuple[int, float]]]:
    """(wall seconds of the run, (epoch, the tracking's share of it) per epoch; empty when off).
    Epoch 1 counts from the run's start: it carries the gallery's one pick."""
    timer = Timer()
    shares = []
    with tracking(on, timer):
        start = last = time.perf_counter()
        for event in engine.fit(config, dataset=dataset):
            if isinstance(event, EpochEnd):
                now = time.perf_counter()
                assert (event.memorized is not None) == on, "tracking did not switch"
                if on:
                    shares.append((event.epoch, timer.seconds / (now - last)))
                timer.seconds, last = 0.0, now
    return time.perf_counter() - start, shares


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=3, help="on/off pairs per setup")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args(argv)
    dataset = load_dataset("mnist-sample")
    one_run(SETUPS["noisy n=500"].replace(epochs=1).validate(), dataset, True)  # warm-up: first-call costs
    for name, setup in SETUPS.items():
        config = setup.replace(epochs=args.epochs).validate()
        on, off, shares = [], [], []
        for i in range(args.pairs):
            # alternate which side goes first, so a trend in the load does not favour one
            for side in ((True, False) if i % 2 == 0 else (False, True)):
                seconds, epoch_shares = one_run(config, dataset, side)
                (on if side else off).append(seconds)
                shares += epoch_shares
        ratios = [a / b for a, b in zip(on, off, strict=True)]
        median_on, median_off = statistics.median(on), statistics.median(off)
        print(f"{name}, {args.epochs} epochs, {args.pairs} pairs: runs on {median_on:.2f} s, "
              f"off {median_off:.2f} s (medians); on/off {median_on / median_off:.3f}, "
              f"pairs {', '.join(f'{r:.3f}' for r in ratios)}, worst {max(ratios):.3f}")
        later = [share for epoch, share in shares if epoch > 1]
        first = [share for epoch, share in shares if epoch == 1]
        print(f"  tracking code per epoch: mean {100 * statistics.mean(later):.2f} %, worst "
              f"{100 * max(later):.2f} % of the epoch (epochs 2-{args.epochs}, {len(later)} epochs); epoch 1 with "
              f"the gallery's pick: mean {100 * statistics.mean(first):.2f} %, worst {100 * max(first):.2f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
