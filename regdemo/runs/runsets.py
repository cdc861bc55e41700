"""Sets of runs trained together: which ones (the L1 vs L2 trio, the train-size ladder), and
how a set is started within the registry's limits and stopped.

A session may have only so many runs going (jobs.Registry's session limit) and the
queue only so many waiting. A set larger than that finishes in turns: each call of
start_within_limit starts or joins the set's runs in order until the registry refuses
one; the rest wait for the next call (a page's next redraw). Pages, the Sweep page and
the sweep command all start their sets this way.
"""

from __future__ import annotations

from collections.abc import Iterable

from regdemo.runs.records import Run, RunLimitError
from regdemo.training.config import DATASET_TRAIN_SIZES, ConfigError, RunConfig


def start_within_limit(registry, configs: Iterable[RunConfig],
                       session: str | None = None) -> tuple[list[Run], RunLimitError | ConfigError | None]:
    """Start or join the run of each config, in order, until the registry refuses one.

    Returns the runs of the configs before the refusal, and the refusal (its message
    is for the student), or None when every config has its run.
    """
    runs = []
    for config in configs:
        try:
            runs.append(registry.get_or_start(config, session=session))
        except (RunLimitError, ConfigError) as err:
            return runs, err
    return runs, None


def stop_own(registry, keys: Iterable[str], session: str) -> list[str]:
    """Stop the runs of `keys` that `session` started and that still train or wait: a run a
    classmate started is theirs to stop. Returns the keys stopped."""
    stopped = []
    for key in keys:
        run = registry.get(key)
        if run is not None and not run.finished and run.owner == session:
            registry.stop(key)
            stopped.append(key)
    return stopped


# --- L1 vs L2: the same setup three times ------------------------------------------------

# Strengths of the lesson's L1 and L2 runs (unless the sidebar sets its own):
# measured with `python -m regdemo train --json` on the embedded sample, see
# penalty_configs.
L1_STRENGTH = 3e-4
L2_STRENGTH = 3e-3


def penalty_configs(config: RunConfig) -> dict[str, RunConfig]:
    """The lesson's three runs: `config` with no penalty, with L1 only, with L2 only.

    The sidebar's own L1 / L2 strength is used when it sets one, else the
    lesson's. Everything else (model, dropout, train size, epochs...) is the
    sidebar's, so the three runs differ in the penalty alone.
    """
    base = config.replace(l1=0.0, l2=0.0)
    return {
        "none": base,
        "L1": base.replace(l1=config.l1 or L1_STRENGTH),
        "L2": base.replace(l2=config.l2 or L2_STRENGTH),
    }


# --- data size: the same setup on fewer and more digits -------------------------------------

SIZE_MAX_EPOCHS = 50  # the most epochs a small training set is given (the sidebar's maximum)


def train_sizes(dataset: str) -> tuple[int, ...]:
    """Training-set sizes of the data-size experiment: from scarce to the whole split."""
    full = DATASET_TRAIN_SIZES[dataset]
    if full <= 4000:
        return tuple(n for n in (250, 500, 1000, 2000) if n < full) + (full,)
    return (1000, 5000, 20000, full)


def size_configs(config: RunConfig) -> list[RunConfig]:
    """`config` at each of train_sizes(); the whole split is train_size 0, as the sidebar says it.

    Every size gets about as many optimizer steps as `config` takes on the
    whole split (more epochs for fewer digits, at most SIZE_MAX_EPOCHS): with
    equal epochs a small set would get a handful of steps and look
    undertrained, not overfitted.
    """
    full = DATASET_TRAIN_SIZES[config.dataset]
    configs = []
    for n in train_sizes(config.dataset):
        epochs = max(config.epochs, min(SIZE_MAX_EPOCHS, round(config.epochs * full / n)))
        configs.append(config.replace(train_size=0 if n >= full else n, epochs=epochs))
    return configs
