"""What each `python -m regdemo` command does and prints; cli.py parses the arguments.

A handler takes the parsed arguments and returns the exit code. A user error raises
UserError (or ConfigError), which cli.main prints as one line and exits 2.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time

from regdemo import settings
from regdemo.cli.output import TABLE_HEADER, epoch_json, table_row
from regdemo.messages import encode, msg, render
from regdemo.runs import cluster, inference
from regdemo.runs.cpus import threads_per_worker
from regdemo.runs.records import Run
from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import RunStore, StoreUnavailable
from regdemo.storage.stores import open_store
from regdemo.teaching import sweep
from regdemo.teaching.lessons import catalog, check, curves
from regdemo.training.checkpoint import save_checkpoint
from regdemo.training.config import ConfigError, RunConfig, knobs, preset
from regdemo.training.engine import fit
from regdemo.training.events import FINAL_STATUSES

FOLLOW_POLL_S = 0.2  # train on a cluster: how often the store is read for new events


class UserError(Exception):
    """Exit 2 with this one-line message."""


def config_from_args(args) -> RunConfig:
    """The run the flags describe (add_run_arguments: one flag per Knob), validated here, where
    it enters; a flag left out keeps the preset's or the default value."""
    base = preset(args.preset) if args.preset else RunConfig()
    changes = {name: getattr(args, name) for name in knobs() if getattr(args, name, None) is not None}
    return base.replace(**changes).validate()


# -- train ----------------------------------------------------------------------------------------

def cmd_train(args) -> int:
    config = config_from_args(args)
    out = sys.stdout
    if not args.local and _broker_url():
        return train_through_queue(config, args, out)  # REGDEMO_BROKER_URL: train on the workers
    stop = threading.Event()
    last_epoch = None
    done = None
    record = Run(config)  # the same record the app keeps, for the run store
    record.mark_running()
    if not args.json:
        # label() names the dataset unless it is the default sample
        where = " on mnist-sample" if config.dataset == "mnist-sample" else ""
        print(f"training {config.label()}{where} (key {config.key()})", file=out)
    try:
        for event in fit(config, stop=stop):
            record.apply(event)
            if event.kind == "started" and not args.json:
                print(f"device {event.device}: {event.train_size} train / {event.test_size} test digits"
                      + (f" / {event.val_size} validation" if event.val_size else "")
                      + f", {event.parameters:,} parameters", file=out)
                print(TABLE_HEADER, file=out)
            elif event.kind == "epoch":
                last_epoch = event
                if args.json:
                    print(json.dumps(epoch_json(event)), file=out, flush=True)
                else:
                    print(table_row(event), file=out, flush=True)
            elif event.kind == "done":
                done = event
    except KeyboardInterrupt:
        stop.set()
        print("interrupted", file=sys.stderr)
        return 130
    final = {"status": done.status, "epochs_run": done.epochs_run, "best_epoch": done.best_epoch,
             "step": done.step, "message": render(done.message), "key": config.key()}
    if last_epoch is not None:
        final.update(train_acc_eval=last_epoch.train_acc_eval, test_acc=last_epoch.test_acc)
    # Into the app's run store (source "cli"): precomputed runs show at once in the app.
    store = RunStore()
    for warning in store.warnings:
        print(f"warning: {render(warning)}", file=sys.stderr)
    if store.save(record.view(), source="cli"):
        if done.model is not None and done.status in inference.KEEPS_WEIGHTS:
            store.save_weights(config.key(), inference.weights_bytes(done.model))  # the Draw page reads them
        if not args.json:
            print(f"stored in {store.path}", file=out)
    if args.json:
        print(json.dumps(final), file=out)
    else:
        print(f"{done.status}" + (f": {render(done.message)}" if done.message else ""), file=out)
    if args.save and done.model is not None:
        path = save_checkpoint(done.model, config, args.save)
        if not args.json:
            print(f"saved {path}", file=out)
    return 0 if done.status in ("finished", "early_stopped") else 1


def _broker_url() -> str:
    """REGDEMO_BROKER_URL, checked ("" when unset); a malformed one is a UserError."""
    try:
        return cluster.broker_url()
    except ValueError as err:
        raise UserError(str(err)) from None


def train_through_queue(config: RunConfig, args, out) -> int:
    """Submit one run to the workers and print its table (or JSON lines) as its events reach
    the store: what `python -m regdemo train` does when REGDEMO_BROKER_URL is set. A run
    of this config already queued or training (by the app, or another teacher) is followed,
    not trained twice."""
    if getattr(args, "save", None):
        print("error: --save needs the trained model in this process: add --local", file=sys.stderr)
        return 2
    try:
        store = open_store()
    except StoreUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    dispatcher = cluster.RQDispatcher(cluster.broker_url(), store, source="cli")
    try:
        reason = dispatcher.capacity()
        if reason:
            print(f"error: {render(reason)}", file=sys.stderr)
            return 1
        key = config.key()
        row = store.live(key)
        if row is not None and row.status in FINAL_STATUSES:
            store.delete_live(key, finished_only=True)  # a leftover of an earlier attempt
        if store.create_live(key, config, "cli"):
            dispatcher.submit(key, config)
            how = "queued"
        else:
            how = "already queued or training elsewhere: following it"
        if not args.json:
            where = " on mnist-sample" if config.dataset == "mnist-sample" else ""
            print(f"training {config.label()}{where} (key {key}) on the workers: {how}", file=out, flush=True)
        seen = {"seq": 0, "done": None, "epoch": None}

        def show_new_events():
            for n, event in store.events_since(key, seen["seq"]):
                seen["seq"] = n
                if event.kind == "started" and not args.json:
                    print(f"device {event.device}: {event.train_size} train / {event.test_size} test digits"
                          + (f" / {event.val_size} validation" if event.val_size else "")
                          + f", {event.parameters:,} parameters", file=out)
                    print(TABLE_HEADER, file=out, flush=True)
                elif event.kind == "epoch":
                    seen["epoch"] = event
                    print(json.dumps(epoch_json(event)) if args.json else table_row(event), file=out, flush=True)
                elif event.kind == "done":
                    seen["done"] = event

        position = None
        while True:
            show_new_events()
            row = store.live(key)
            if row is not None and row.status == "queued" and not args.json:
                queued = [r.key for r in store.live_keys(("queued",))]
                now = queued.index(key) + 1 if key in queued else None
                if now is not None and now != position:
                    print(f"waiting in the queue: position {now}", file=out, flush=True)
                position = now
            if row is None or row.status in FINAL_STATUSES:
                break
            dispatcher.check_stale()
            time.sleep(FOLLOW_POLL_S)
        show_new_events()  # the last batch, written before the final status
        done, last_epoch = seen["done"], seen["epoch"]
        status = row.status if row is not None else (done.status if done else "failed")
        message = row.message if row is not None else (done.message if done else encode(msg("run.dropped")))
        if row is not None:
            store.delete_live(key, finished_only=True)
    except KeyboardInterrupt:
        store.request_stop(config.key(), encode(msg("run.stopped_from_cli")))
        print("interrupted: asked the worker to stop the run", file=sys.stderr)
        return 130
    finally:
        dispatcher.close()
        if hasattr(store, "close"):
            store.close()
    final = {"status": status, "epochs_run": done.epochs_run if done else 0,
             "best_epoch": done.best_epoch if done else 0, "step": done.step if done else 0,
             "message": render(message), "key": key}
    if last_epoch is not None:
        final.update(train_acc_eval=last_epoch.train_acc_eval, test_acc=last_epoch.test_acc)
    if args.json:
        print(json.dumps(final), file=out)
    else:
        print(f"{status}" + (f": {render(message)}" if message else ""), file=out)
        print(f"stored in {getattr(store, 'path', '')}", file=out)
    return 0 if status in ("finished", "early_stopped") else 1


# -- lessons --------------------------------------------------------------------------------------

def cmd_lessons(args) -> int:
    """List the lessons (--json: one object per line), or --check them by training every pair."""
    names = args.only.split(",") if args.only else list(catalog.LESSONS)
    unknown = [n for n in names if n not in catalog.LESSONS]
    if unknown:
        raise UserError(f"unknown lesson {unknown[0]!r}; lessons are {', '.join(catalog.LESSONS)}")
    lessons = [catalog.LESSONS[n] for n in names]
    out = sys.stdout
    if not args.check:
        if args.seeds is not None or args.write is not None:
            raise UserError("--seeds and --write go with --check")
        for lesson in lessons:
            baseline, treated = catalog.train_args(lesson.baseline), catalog.train_args(lesson.treated)
            if args.json:
                print(json.dumps({"lesson": lesson.name, "topic": lesson.topic, "claim": lesson.claim["en"],
                                  "baseline": baseline, "treated": treated}, ensure_ascii=False), file=out)
            else:
                print(f"{lesson.name} ({lesson.topic} page): {lesson.claim['en']}", file=out)
                print(f"  baseline: python -m regdemo train {shlex.join(baseline)}", file=out)
                print(f"  treated:  python -m regdemo train {shlex.join(treated)}", file=out)
        return 0
    if args.json:
        raise UserError("--json lists the lessons; --check prints a table (and --write stores it as JSON)")
    seeds = 3 if args.seeds is None else args.seeds
    if not 1 <= seeds <= 20:
        raise UserError(f"--seeds must be between 1 and 20, got {seeds}")
    print(f"checking {len(lessons)} lesson(s) over seeds 0..{seeds - 1}: each run is a whole "
          "`python -m regdemo train` process; a config shared by lessons trains once per seed", file=out, flush=True)

    def report(config, result):
        # label() names a seed other than 0 itself
        print(f"  {config.label()}{' · seed 0' if config.seed == 0 else ''}: test {result.test_acc:.1f} % (kept epoch "
              f"{result.best_epoch}/{result.epochs_run}), peak {result.peak_test_acc:.1f} %, "
              f"{result.seconds:.1f} s" + ("" if result.memorized is None else f", memorized {result.memorized:.2f}"),
              file=out, flush=True)

    try:
        results = check.run_check(lessons, seeds, on_run=report)
    except check.CheckError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(check.table(results), file=out)
    if args.write is not None:
        command = f"python -m regdemo lessons --check --seeds {seeds}" + (f" --only {args.only}" if args.only else "")
        data = check.to_json(results, command)
        check.write_json(data, args.write)
        folder = curves.folder_for(args.write)  # the pages' measured curves, from the same runs
        curves.write_curves(results, folder, command=command, date=data["date"])
        print(f"wrote {args.write} and {len(results)} curve file(s) in {folder}", file=out)
    return 0 if all(r.proven() for r in results) else 1


# -- runs -----------------------------------------------------------------------------------------

def cmd_runs(args) -> int:
    store = RunStore(args.store)
    for warning in store.warnings:
        print(f"warning: {render(warning)}", file=sys.stderr)
    runs = store.list(args.limit)
    out = sys.stdout
    if args.json:
        for item in runs:
            print(json.dumps(item.to_json(), allow_nan=False), file=out)
        return 0
    if not runs:
        print(f"no stored runs in {store.path}", file=out)
        return 0
    print(f"{'key':12}  {'status':13}  {'test %':>6}  {'epochs':>6}  {'source':6}  {'saved':16}  config",
          file=out)
    for item in runs:
        acc = "     -" if item.test_acc is None else f"{100 * item.test_acc:6.2f}"
        saved = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.saved_at))
        print(f"{item.key:12}  {item.status:13}  {acc}  {item.epochs_run:>6}  {item.source:6}  {saved:16}  "
              f"{item.label}", file=out)
    return 0


# -- sweep ----------------------------------------------------------------------------------------

def cmd_sweep(args) -> int:
    if getattr(args, args.param, None) is not None:
        raise ConfigError(f"--{args.param.replace('_', '-')} is the swept parameter; give its values with --values")
    values = sweep.parse_values(args.param, args.values) if args.values else sweep.DEFAULT_VALUES[args.param]
    base = config_from_args(args)
    specs = sweep.sweep_configs(base, args.param, values, args.seeds)
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    out = sys.stdout
    if not args.json:
        print(f"sweeping {args.param} over {', '.join(sweep.format_value(v) for v in values)} "
              f"x {args.seeds} seed(s) on {base.label()}", file=out, flush=True)

    def report(point: sweep.SweepPoint) -> None:
        if args.json:
            print(json.dumps(point.to_json()), file=out, flush=True)
        else:
            acc = "-" if point.test_acc is None else f"test {100 * point.test_acc:.2f}%  gap {100 * point.gap:.2f}"
            cached = f"  (stored, from {point.source})" if point.source else ""
            print(f"  {args.param}={sweep.format_value(point.value)} seed {point.seed}: {point.status}  {acc}{cached}",
                  file=out, flush=True)

    registry = make_registry(args.workers)
    try:
        points = sweep.run_points(registry, specs, report)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        registry.shutdown()
    if not args.json:
        print(sweep.summary_table(args.param, sweep.summarize(points, values)), file=out)
    return 0 if all(p.ok for p in points) else 1


def make_registry(workers: int | None = None):
    """A registry backed by the app's run store: points trained before are read back,
    new ones are saved (source "sweep") and show up in the app."""
    registry = Registry(workers=workers, source="sweep")
    for warning in registry.warnings:
        print(f"warning: {render(warning)}", file=sys.stderr)
    return registry


# -- worker ---------------------------------------------------------------------------------------

def cmd_worker(args) -> int:
    """python -m regdemo worker: N RQ workers on this machine until SIGTERM."""
    try:
        url = cluster.broker_url()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not url:
        print(f"error: {cluster.BROKER_VARIABLE} is not set: a worker takes runs from a Redis queue, "
              "e.g. REGDEMO_BROKER_URL=redis://queue-host:6379/0", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        store = open_store()  # fail now, in one line, not in every run
    except StoreUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    where = getattr(store, "path", "")
    if hasattr(store, "close"):
        store.close()
    if not settings.read().database_url:
        print(f"warning: REGDEMO_DATABASE_URL is not set: runs go to {where}, which only app servers "
              "on this machine can read", file=sys.stderr)
    threads = args.threads or threads_per_worker(args.concurrency)
    if args.concurrency == 1:
        try:
            return cluster.work(url, threads, answerer=args.answerer)
        except Exception as err:  # noqa: BLE001 -- e.g. Redis down at start: one line
            print(f"error: the worker stopped: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
    return cluster.supervise(args.concurrency, threads, answerer=args.answerer)
