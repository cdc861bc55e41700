"""Early stopping where it should not help: the catalog's early-stopping pair without label noise.

    python -m tools.check_clean_early_stopping [SEEDS]

Same runs as `python -m regdemo lessons --check` (whole `python -m regdemo train` processes), same
table; docs/lessons.md quotes its output.
"""

import sys

from regdemo.teaching.lessons import check
from regdemo.teaching.lessons.catalog import LESSONS, Lesson


def main(seeds: int = 3) -> int:
    es = LESSONS["early_stopping"]
    clean = Lesson("es_clean", "early_stopping", es.claim, es.baseline.replace(label_noise=0.0),
                   es.treated.replace(label_noise=0.0))

    def report(config, result):
        print(" ", config.label(), config.seed, f"{result.test_acc:.1f}", result.best_epoch, result.epochs_run,
              f"{result.seconds:.1f}", flush=True)

    print(check.table(check.run_check([clean], seeds, on_run=report)))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
