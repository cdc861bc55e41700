"""regdemo.runs.runsets: which runs a lesson trains together, and how a set starts within the limits."""

from __future__ import annotations

from regdemo.runs import runsets
from regdemo.runs.records import RunLimitError
from regdemo.runs.registry import Registry
from regdemo.training.config import RunConfig
from regdemo.training.events import STOPPED, Done


def until_stopped(config, stop):
    """A run that trains until it is stopped (and draws nothing)."""
    stop.wait(30)
    yield Done(STOPPED, 0, 0, 0, "Stopped by the user.")


def test_a_set_starts_in_order_until_the_limit_refuses_and_stop_spares_a_classmates_run():
    reg = Registry(workers=1, train=until_stopped, store=None, session_limit=2)
    try:
        configs = [RunConfig(epochs=1, seed=seed) for seed in range(4)]
        theirs = reg.get_or_start(configs[3], session="classmate")
        runs, refused = runsets.start_within_limit(reg, configs, "me")
        # Two of mine, then the limit; the classmate's run was never reached (the rest wait).
        assert [run.key for run in runs] == [c.key() for c in configs[:2]]
        assert isinstance(refused, RunLimitError) and "limit is 2" in str(refused)
        again, refused = runsets.start_within_limit(reg, configs[:2], "me")  # joining is free
        assert [run.key for run in again] == [run.key for run in runs] and refused is None
        keys = [c.key() for c in configs]
        assert runsets.stop_own(reg, keys, "me") == keys[:2]
        assert all(run.wait(10) for run in runs)
        assert not theirs.finished  # theirs to stop
        assert runsets.stop_own(reg, keys, "me") == []  # nothing of mine still going
    finally:
        reg.shutdown()


def test_penalty_configs_differ_in_the_penalty_alone():
    base = RunConfig(model="article", dropout=0.25, l2=1e-3, epochs=3)
    runs = runsets.penalty_configs(base)
    assert (runs["none"].l1, runs["none"].l2) == (0.0, 0.0)
    assert (runs["L1"].l1, runs["L1"].l2) == (runsets.L1_STRENGTH, 0.0)
    assert (runs["L2"].l1, runs["L2"].l2) == (0.0, 1e-3)  # the sidebar's own L2 is kept
    for config in runs.values():
        assert (config.model, config.dropout, config.epochs) == ("article", 0.25, 3)
    assert len({config.key() for config in runs.values()}) == 3


def test_size_configs_give_small_sets_about_as_many_steps():
    configs = runsets.size_configs(RunConfig(epochs=3, dropout=0.5))
    assert [c.effective_train_size for c in configs] == [250, 500, 1000, 2000, 4000]
    assert configs[-1].train_size == 0  # the whole split, as the sidebar names it
    assert all(c.dropout == 0.5 for c in configs)
    # About the same number of steps each: 3 epochs of 4,000 digits = 48 epochs of 250.
    assert [c.epochs for c in configs] == [48, 24, 12, 6, 3]
    assert [c.epochs for c in runsets.size_configs(RunConfig(epochs=10))] == [50, 50, 40, 20, 10]
    assert runsets.train_sizes("mnist")[-1] == 60000
