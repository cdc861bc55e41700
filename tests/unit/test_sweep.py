import json
import pathlib
import threading

import pytest
from support import use_registry

from regdemo.cli import commands
from regdemo.cli import parser as cli
from regdemo.runs.registry import Registry
from regdemo.teaching import sweep
from regdemo.teaching.sweep import SweepPoint, SweepSpec
from regdemo.training.config import ConfigError, RunConfig
from regdemo.training.events import DIVERGED, EARLY_STOPPED, FINISHED, Done, EpochEnd

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))


def epoch(n, test_acc, train_acc_eval, train_acc=0.5):
    return EpochEnd(
        epoch=n, train_loss=1.0, train_acc=train_acc, train_loss_eval=1.0, train_acc_eval=train_acc_eval,
        test_loss=1.0, test_acc=test_acc, val_loss=None, val_acc=None, l1_norm=0.0, l2_norm=0.0,
        near_zero=0.0, weight_hist=(), best_epoch=n, seconds=0.0, step=n,
    )


def fake_train(calls):
    """A stand-in for engine.fit: test accuracy peaks at l2=1e-3, gap shrinks with l2."""

    def train(config, stop=None):
        calls.append(config)
        if config.l2 >= 10:
            yield Done(DIVERGED, 0, 0, 1, "too strong")
            return
        test = 0.9 - abs(config.l2 - 1e-3) * 10 + config.seed * 0.01
        yield epoch(1, test - 0.1, 0.8)
        yield epoch(2, test, 1.0 - config.l2)
        yield Done(FINISHED, 2, 2, 2, test_predictions=(1, 2))

    return train


def test_parse_values_reads_each_kind():
    assert sweep.parse_values("l2", "0, 1e-4,1e-3") == (0.0, 1e-4, 1e-3)
    assert sweep.parse_values("train_size", "100,200") == (100, 200)
    assert sweep.parse_values("augment", "off,strong") == ("off", "strong")
    for param, text, message in [("l2", "", "at least one"), ("l2", "1e-3,abc", "numbers"),
                                 ("l2", "nan", "finite"), ("train_size", "1.5", "whole"),
                                 ("l2", "1,1", "twice"), ("momentum", "1", "--param")]:
        with pytest.raises(ConfigError, match=message):
            sweep.parse_values(param, text)


def test_sweep_configs_is_value_major_with_consecutive_seeds():
    base = RunConfig(epochs=3, seed=5)
    specs = sweep.sweep_configs(base, "dropout", (0.0, 0.5), 2)
    assert [(s.value, s.seed) for s in specs] == [(0.0, 5), (0.0, 6), (0.5, 5), (0.5, 6)]
    assert all(s.config.epochs == 3 and s.config.dropout == s.value and s.config.seed == s.seed for s in specs)
    assert len({s.config.key() for s in specs}) == 4


def test_sweep_configs_rejects_bad_values_before_training():
    with pytest.raises(ConfigError, match="train_size=9000"):
        sweep.sweep_configs(RunConfig(), "train_size", (100, 9000), 1)
    with pytest.raises(ConfigError, match="augment=wild"):
        sweep.sweep_configs(RunConfig(), "augment", ("wild",), 1)
    with pytest.raises(ConfigError, match="seeds"):
        sweep.sweep_configs(RunConfig(), "l2", (0.0,), 0)


class View:
    def __init__(self, status, epochs, best):
        self.status, self.epochs = status, tuple(epochs)
        self.done = Done(status, len(epochs), best, 1)


def test_point_takes_the_kept_epoch():
    spec = SweepSpec(1e-3, 0, RunConfig(l2=1e-3))
    finished = sweep.point_from_view(spec, View(FINISHED, [epoch(1, 0.7, 0.8), epoch(2, 0.9, 0.95)], 2))
    assert finished.test_acc == 0.9 and finished.train_acc_eval == 0.95
    assert finished.gap == pytest.approx(0.05)
    # early stopping keeps the best held-out epoch's weights, so its numbers
    early = sweep.point_from_view(spec, View(EARLY_STOPPED, [epoch(1, 0.8, 0.85), epoch(2, 0.7, 0.99)], 1))
    assert early.test_acc == 0.8 and early.status == EARLY_STOPPED
    diverged = sweep.point_from_view(spec, View(DIVERGED, [], 0))
    assert not diverged.ok and diverged.gap is None
    assert json.loads(json.dumps(diverged.to_json()))["test_acc"] is None


def point(value, seed, test, train=1.0):
    return SweepPoint(value, seed, "k", FINISHED, test, train, 0.9, 2)


def test_summarize_mean_std_min_max_per_value():
    points = [point(0.0, 0, 0.80), point(0.0, 1, 0.84, 0.98), point(1e-3, 0, 0.90),
              SweepPoint(1e-3, 1, "k", DIVERGED, None, None, None, 0)]
    rows = sweep.summarize(points, values=(0.0, 1e-3, 1e-2))
    assert [r.value for r in rows] == [0.0, 1e-3, 1e-2]
    zero, mid, empty = rows
    assert zero.runs == 2 and zero.test_acc.mean == pytest.approx(0.82)
    assert zero.test_acc.std == pytest.approx(0.0282843, rel=1e-4)  # sample std of 0.80, 0.84
    assert (zero.test_acc.low, zero.test_acc.high) == (0.80, 0.84)
    assert zero.gap.mean == pytest.approx((0.20 + 0.14) / 2)
    assert mid.runs == 1 and mid.failed == 1 and mid.test_acc.std == 0.0
    assert empty.runs == 0 and empty.test_acc is None
    assert sweep.best_value(rows) == 1e-3
    table = sweep.summary_table("l2", rows)
    assert "82.00 ± 2.83" in table and "80.00-84.00" in table and "1+1!" in table


def test_run_points_goes_through_the_registry_once_per_config():
    calls = []
    registry = Registry(workers=1, train=fake_train(calls))
    try:
        specs = sweep.sweep_configs(RunConfig(), "l2", (0.0, 1e-3, 20.0), 2)
        seen = []
        points = sweep.run_points(registry, specs, seen.append, poll=0.01)
        assert len(calls) == 6 and len(seen) == 6
        assert [(p.value, p.seed) for p in points] == [(s.value, s.seed) for s in specs]
        assert points[2].test_acc == pytest.approx(0.9) and points[3].test_acc == pytest.approx(0.91)
        assert not points[4].ok and points[4].status == DIVERGED
        # The same points again are cached by the registry: nothing trains.
        again = sweep.run_points(registry, specs[:4], poll=0.01)
        assert len(calls) == 6 and again == points[:4]
    finally:
        registry.shutdown()


def test_cli_json_prints_one_object_per_point(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(commands, "make_registry", lambda workers=None: Registry(workers=1, train=fake_train(calls)))
    code = cli.main(["sweep", "--param", "l2", "--values", "0,1e-3", "--seeds", "2", "--epochs", "2", "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((o["value"], o["seed"]) for o in lines) == [(0.0, 0), (0.0, 1), (0.001, 0), (0.001, 1)]
    for o in lines:
        assert {"value", "seed", "test_acc", "train_acc_eval", "gap"} <= set(o)
        assert o["gap"] == pytest.approx(o["train_acc_eval"] - o["test_acc"])
    assert all(c.epochs == 2 for c in calls)


def test_cli_table_has_a_row_per_value_and_marks_the_best(monkeypatch, capsys):
    monkeypatch.setattr(commands, "make_registry", lambda workers=None: Registry(workers=1, train=fake_train([])))
    assert cli.main(["sweep", "--param", "l2", "--values", "0,1e-3,1e-1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip().startswith(("0 ", "0.001", "0.1"))]
    assert len(rows) == 3 and "best" in rows[1] and "best" not in rows[0] + rows[2]


def test_cli_user_errors_exit_2(capsys):
    assert cli.main(["sweep", "--param", "l2", "--l2", "0.1", "--values", "1"]) == 2
    assert "swept parameter" in capsys.readouterr().err
    assert cli.main(["sweep", "--param", "dropout", "--values", "0.2,1.5"]) == 2
    assert "dropout=1.5" in capsys.readouterr().err
    assert cli.main(["sweep", "--param", "l3", "--values", "1"]) == 2


def test_real_tiny_sweep_trains_through_the_engine(capsys):
    code = cli.main(["sweep", "--param", "dropout", "--values", "0,0.5", "--train-size", "40",
                     "--epochs", "1", "--batch-size", "20", "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and all(0.0 <= o["test_acc"] <= 1.0 and o["status"] == FINISHED for o in lines)


def test_run_points_keeps_at_most_window_points_queued():
    seen_queue = []
    calls = []
    inner = fake_train(calls)

    def train(config, stop=None):
        seen_queue.append(registry.queue_length())
        yield from inner(config, stop)

    registry = Registry(workers=1, train=train, store=None)
    try:
        specs = sweep.sweep_configs(RunConfig(), "l2", (0.0, 1e-4, 1e-3, 1e-2, 1e-1), 2)
        points = sweep.run_points(registry, specs, poll=0.01, window=2)
        assert len(calls) == 10 and all(p.ok for p in points)
        assert max(seen_queue) <= 1  # one training, at most one waiting
    finally:
        registry.shutdown()


def test_advance_starts_what_the_session_limit_allows_and_a_stopped_sweep_only_looks():
    gate = threading.Event()
    quick = fake_train([])

    def gated(config, stop=None):
        gate.wait(30)
        yield from quick(config, stop)

    registry = Registry(workers=1, train=gated, store=None, session_limit=2)
    try:
        specs = sweep.sweep_configs(RunConfig(), "l2", (0.0, 1e-3, 1e-2), 1)
        points = {}
        step = sweep.advance(registry, specs, points, "me")
        assert (step.waiting, step.going, points) == (1, 2, {}) and "limit is 2" in str(step.refused)
        gate.set()
        assert all(registry.get(s.config.key()).wait(30) for s in specs[:2])
        step = sweep.advance(registry, specs, points, "me")  # two done, the third starts
        assert len(points) == 2 and (step.waiting, step.going, step.refused) == (0, 1, None)
        assert registry.get(specs[2].config.key()).wait(30)
        assert sweep.advance(registry, specs, points, "me") == sweep.Advance(0, 0, None) and len(points) == 3
        # Stopped: the points never started are not started now.
        others = sweep.sweep_configs(RunConfig(), "l2", (0.1,), 1)
        assert sweep.advance(registry, others, {}, "me", stopped=True) == sweep.Advance(1, 0, None)
        assert registry.get(others[0].config.key()) is None
    finally:
        registry.shutdown()


def test_cli_second_sweep_reads_every_point_from_the_store(monkeypatch, capsys):
    from regdemo.storage.sqlite import RunStore

    calls = []
    monkeypatch.setattr(commands, "make_registry",
                        lambda workers=None: Registry(workers=1, train=fake_train(calls), source="sweep"))
    argv = ["sweep", "--param", "l2", "--values", "0,1e-3", "--seeds", "2", "--json"]
    assert cli.main(argv) == 0
    first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(calls) == 4 and not any(o["cached"] for o in first)
    assert {row.source for row in RunStore().list()} == {"sweep"}
    # A new process (a new registry) with the same store trains nothing.
    assert cli.main(argv) == 0
    second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(calls) == 4 and all(o["cached"] for o in second)
    key = lambda o: (o["value"], o["seed"])
    assert [o["test_acc"] for o in sorted(first, key=key)] == [o["test_acc"] for o in sorted(second, key=key)]


def test_x_positions_put_zero_a_decade_below_on_log_axes():
    assert sweep.x_positions("l2", (0.0, 1e-4, 1e-2)) == {0.0: 1e-5, 1e-4: 1e-4, 1e-2: 1e-2}
    assert sweep.x_positions("l1", (0.0,)) == {0.0: 1e-6}
    assert sweep.x_positions("dropout", (0.0, 0.5)) == {0.0: 0.0, 0.5: 0.5}
    assert sweep.x_positions("augment", ("off", "light")) == {"off": "off", "light": "light"}


def test_chart_rows_are_percent_and_skip_unmeasured_values():
    points = [point(0.0, 0, 0.80), point(0.0, 1, 0.84), point(1e-3, 0, 0.90)]
    rows = sweep.summarize(points, values=(0.0, 1e-3, 1e-2))
    chart = sweep.chart_rows("l2", rows)
    assert [c["value"] for c in chart] == ["0", "0.001"]
    assert chart[0]["x"] == pytest.approx(1e-4)
    assert chart[0]["test_mean"] == pytest.approx(82.0) and chart[0]["test_low"] == pytest.approx(80.0)
    assert chart[1]["gap_mean"] == pytest.approx(10.0)
    dots = sweep.seed_rows("l2", points, (0.0, 1e-3, 1e-2))
    assert [(d["value"], d["seed"], round(d["test"], 6)) for d in dots] == [("0", 0, 80.0), ("0", 1, 84.0),
                                                                           ("0.001", 0, 90.0)]


def test_sweep_page_draws_stored_points_in_both_languages(monkeypatch):
    """The page with every point already in the store: nothing trains, the charts and table appear."""
    from streamlit.testing.v1 import AppTest

    from webapp import state

    calls = []
    registry = Registry(workers=1, train=fake_train(calls), source="sweep")
    try:
        sweep.run_points(registry, sweep.sweep_configs(RunConfig(), "l2", (0.0, 1e-3), 2), poll=0.01)
    finally:
        registry.shutdown()
    assert len(calls) == 4
    # A fresh server's registry on the same store (REGDEMO_HOME): every point is read back.
    page_registry = Registry(workers=1, train=fake_train(calls))
    monkeypatch.setattr(state, "override", page_registry)
    try:
        for lang, start, done in (("en", "Run sweep", "All 4 points done."), ("zh", "开始扫描", "全部 4 个点已完成。")):
            at = AppTest.from_file(str(ROOT / "app_pages" / "sweep.py"), default_timeout=30)
            at.session_state["lang"] = lang
            at.run()
            assert not at.exception
            at.text_input(key="sweep_values").set_value("0,1e-3")
            at.number_input(key="sweep_seeds").set_value(2)
            next(b for b in at.button if b.label == start).click()
            at.run()
            assert not at.exception, at.exception
            assert any(done in s.value for s in at.success), [s.value for s in at.success]
            assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 2
            assert len(calls) == 4  # every point came from the store
    finally:
        page_registry.shutdown()


def test_sweep_page_trains_missing_points_within_the_session_limit(monkeypatch):
    """Six new points, a limit of four runs per session: the page starts what it may and finishes on later redraws."""
    import time

    from streamlit.testing.v1 import AppTest

    from webapp import state

    calls = []
    gate = threading.Event()  # training waits here, so no point can finish during the first draw
    quick = fake_train(calls)

    def gated(config, stop=None):
        gate.wait(30)
        yield from quick(config, stop)

    monkeypatch.setenv("REGDEMO_SESSION_RUNS", "4")
    reg = use_registry(monkeypatch, Registry(train=gated, store=None))  # in-process pool: the gate lives here
    try:
        at = AppTest.from_file(str(ROOT / "app_pages" / "sweep.py"), default_timeout=30)
        at.run()
        at.text_input(key="sweep_values").set_value("0,1e-3,1e-2")
        at.number_input(key="sweep_seeds").set_value(2)
        next(b for b in at.button if b.label == "Run sweep").click()
        at.run()
        assert not at.exception, at.exception
        # With nothing finished yet, the page started exactly as many points as the session may run.
        assert len([r for r in state.registry().runs() if not r.finished]) == 4
        gate.set()
        for _ in range(50):
            if any("All 6 points done." in s.value for s in at.success):
                break
            time.sleep(0.1)
            at.run()
        assert any("All 6 points done." in s.value for s in at.success)
        assert len(calls) == 6
        assert len(at.dataframe[0].value) == 3
    finally:
        reg.shutdown()
