"""`python -m tools.measure_sweep`: train the noisy L2 sweep the Sweep page opens with and write
regdemo/teaching/lessons/measured_sweep.json.

The base is the lessons' noisy setup (the L2 pair's baseline: the wide net, 2,000 digits, a
fifth of the labels wrong, 20 epochs); λ takes each value for each seed. Runs go through the
app's registry and run store (REGDEMO_HOME), so a point trained before is read back, and the
page's "Run sweep" on the same setup finds these runs. About 10 runs of ~15 s on 2 quiet cores.

    nice -n 5 python -m tools.measure_sweep [--values 0,0.01,0.05,0.1,0.3] [--seeds 2] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys

import torch

from regdemo.runs.registry import Registry
from regdemo.teaching import sweep
from regdemo.teaching.lessons.catalog import LESSONS
from regdemo.teaching.lessons.check import machine
from regdemo.teaching.lessons.measured_sweep import MEASURED_SWEEP_PATH, to_json

PARAM = "l2"
VALUES = "0,0.01,0.05,0.1,0.3"  # docs/sweep_noise.md: too little, just right, too much
SEEDS = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", default=VALUES)
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path, default=MEASURED_SWEEP_PATH)
    args = parser.parse_args(argv)
    base = LESSONS["l2"].baseline
    values = sweep.parse_values(PARAM, args.values)
    specs = sweep.sweep_configs(base, PARAM, values, args.seeds)
    registry = Registry(workers=args.workers, source="sweep")
    try:
        points = sweep.run_points(registry, specs, lambda p: print(
            f"{PARAM}={sweep.format_value(p.value)} seed {p.seed}: {p.status} "
            f"test {100 * (p.test_acc or 0):.2f} %", flush=True))
    finally:
        registry.shutdown()
    print(sweep.summary_table(PARAM, sweep.summarize(points, values)))
    about = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "machine": machine(), "cpus": os.cpu_count(), "torch": torch.__version__,
             "command": f"python -m tools.measure_sweep --values {args.values} --seeds {args.seeds}"}
    data = to_json(base, PARAM, values, args.seeds, points, about)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if all(p.ok for p in points) else 1


if __name__ == "__main__":
    sys.exit(main())
