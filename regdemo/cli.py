"""python -m regdemo train | lessons | bench | sweep | runs

`train` and `lessons` are here; the other commands live beside what they drive (bench.py,
sweep.py, store.py), each with add_arguments(parser) and run(args) -> exit code.
A user error prints one line and exits 2; no traceback for anything a user typed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import threading

from regdemo.config import (
    AUGMENT_LEVELS,
    DATASETS,
    DEVICES,
    MODELS,
    OPTIMIZERS,
    PRESETS,
    ConfigError,
    RunConfig,
    preset,
)
from regdemo.messages import render

# command -> (module, help)
EXTERNAL_COMMANDS = {
    "bench": ("regdemo.bench", "benchmark the engine against the article's pipeline and bare compute"),
    "sweep": ("regdemo.sweep", "sweep one regularizer's strength over seeds"),
    "runs": ("regdemo.store", "list the runs in the run store"),
    "worker": ("regdemo.cluster", "take runs from the task queue at REGDEMO_BROKER_URL (a cluster's worker)"),
}


class UserError(Exception):
    """Exit 2 with this one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too)
        raise UserError(f"{self.prog}: {message}")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Flags for every RunConfig choice; None means "the preset's or default value"."""
    p.add_argument("--preset", help=f"start from one of: {', '.join(PRESETS)}")
    p.add_argument("--dataset", choices=DATASETS)
    p.add_argument("--data-dir", help="folder with the four IDX files (raw or .gz)")
    p.add_argument("--model", choices=MODELS)
    p.add_argument("--dropout", type=float, metavar="P")
    p.add_argument("--l1", type=float, metavar="LAMBDA")
    p.add_argument("--l2", type=float, metavar="LAMBDA")
    p.add_argument("--penalize-all", action=argparse.BooleanOptionalAction, default=None,
                   help="L1/L2 on every parameter, biases and batch norm too (the article's way)")
    p.add_argument("--augment", choices=AUGMENT_LEVELS)
    p.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--early-stopping", dest="patience", type=int, metavar="PATIENCE")
    p.add_argument("--train-size", type=int, metavar="N")
    p.add_argument("--label-noise", type=float, metavar="F",
                   help="fraction of training digits given a wrong label (0-0.8; the same digits every run)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", choices=DEVICES)


def config_from_args(args) -> RunConfig:
    base = preset(args.preset) if args.preset else RunConfig()
    changes = {}
    for name in ("dataset", "model", "dropout", "l1", "l2", "penalize_all", "augment", "batchnorm",
                 "patience", "train_size", "label_noise", "epochs", "batch_size", "optimizer", "lr", "momentum",
                 "seed", "device"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "data_dir", None):
        changes["data_dir"] = args.data_dir
    return base.replace(**changes).validate()


def _pct(x):
    return "    -" if x is None else f"{100 * x:5.2f}"


TABLE_HEADER = (
    f"{'epoch':>5}  {'train loss':>10}  {'train %':>7}  {'train % (eval)':>14}  "
    f"{'test loss':>9}  {'test %':>6}  {'gap':>5}  {'sec':>5}"
)


def table_row(ev) -> str:
    gap = 100 * (ev.train_acc_eval - ev.test_acc)
    return (
        f"{ev.epoch:>5}  {ev.train_loss:>10.4f}  {_pct(ev.train_acc):>7}  {_pct(ev.train_acc_eval):>14}  "
        f"{ev.test_loss:>9.4f}  {_pct(ev.test_acc):>6}  {gap:>5.2f}  {ev.seconds:>5.2f}"
    )


def epoch_json(ev) -> dict:
    return {
        "epoch": ev.epoch, "train_loss": ev.train_loss, "train_acc": ev.train_acc,
        "train_acc_eval": ev.train_acc_eval, "train_loss_eval": ev.train_loss_eval,
        "test_loss": ev.test_loss, "test_acc": ev.test_acc,
        "val_loss": ev.val_loss, "val_acc": ev.val_acc,
        "l1_norm": ev.l1_norm, "l2_norm": ev.l2_norm, "near_zero": ev.near_zero,
        "best_epoch": ev.best_epoch, "seconds": ev.seconds,
    }


def cmd_train(args) -> int:
    from regdemo.checkpoint import save_checkpoint
    from regdemo.engine import fit
    from regdemo.records import Run
    from regdemo.store import RunStore

    config = config_from_args(args)
    out = sys.stdout
    if not args.local and _broker_url():
        from regdemo.cluster import train_through_queue  # REGDEMO_BROKER_URL: train on the workers

        return train_through_queue(config, args, out)
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
                      + (f" / {event.val_size} held out" if event.val_size else "")
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
    if store.save(record.view(), source="cli") and not args.json:
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


def cmd_lessons(args) -> int:
    """List the lessons (--json: one object per line), or --check them by training every pair."""
    import shlex

    from regdemo.lessons import catalog

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
    from regdemo.lessons import check

    seeds = 3 if args.seeds is None else args.seeds
    if not 1 <= seeds <= 20:
        raise UserError(f"--seeds must be between 1 and 20, got {seeds}")
    print(f"checking {len(lessons)} lesson(s) over seeds 0..{seeds - 1}: each run is a whole "
          "`python -m regdemo train` process; a config shared by lessons trains once per seed", file=out, flush=True)

    def report(config, result):
        # label() names a seed other than 0 itself
        print(f"  {config.label()}{' · seed 0' if config.seed == 0 else ''}: test {result.test_acc:.1f} % (kept epoch "
              f"{result.best_epoch}/{result.epochs_run}), peak {result.peak_test_acc:.1f} %, "
              f"{result.seconds:.1f} s", file=out, flush=True)

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
        check.write_json(check.to_json(results, command), args.write)
        print(f"wrote {args.write}", file=out)
    return 0 if all(r.proven() for r in results) else 1


def _broker_url() -> str:
    """REGDEMO_BROKER_URL, checked ("" when unset); a malformed one is a UserError."""
    from regdemo.cluster import broker_url

    try:
        return broker_url()
    except ValueError as err:
        raise UserError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m regdemo", description="Regularization Lab from the command line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser("train", help="train one config and print a table per epoch")
    add_run_arguments(train)
    train.add_argument("--json", action="store_true", help="one JSON object per line")
    train.add_argument("--save", metavar="PATH", help="write a checkpoint (config and weights)")
    train.add_argument("--local", action="store_true",
                       help="train in this process even when REGDEMO_BROKER_URL names a task queue")
    train.set_defaults(handler=cmd_train)
    from regdemo.lessons.catalog import MEASURED_PATH

    lessons = sub.add_parser("lessons", help="each lesson's claim and its pair of runs; --check trains them")
    lessons.add_argument("--json", action="store_true", help="one JSON object per lesson")
    lessons.add_argument("--check", action="store_true",
                         help="train every pair over seeds and print held-out accuracy, loss and gain")
    lessons.add_argument("--seeds", type=int, metavar="N", help="with --check: seeds 0..N-1 (default 3)")
    lessons.add_argument("--only", metavar="NAMES", help="comma-separated lessons (default: all)")
    lessons.add_argument("--write", nargs="?", const=str(MEASURED_PATH), metavar="PATH",
                         help=f"with --check: store the numbers as JSON (default path {MEASURED_PATH.name} "
                              "beside the catalog, which the pages read)")
    lessons.set_defaults(handler=cmd_lessons)
    for name, (module, help_text) in EXTERNAL_COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            p.set_defaults(handler=lambda args, name=name: _missing(name))
            continue
        mod.add_arguments(p)
        p.set_defaults(handler=mod.run)
    return parser


def _missing(name) -> int:
    print(f"regdemo {name}: this command is not available in this version", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    from regdemo.data import DataError

    try:
        args = build_parser().parse_args(argv)
        for name in ("dropout", "l1", "l2", "lr", "momentum"):
            value = getattr(args, name, None)
            if value is not None and not math.isfinite(value):
                raise UserError(f"--{name} must be a finite number")
        return args.handler(args)
    except (UserError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `... | head`
        return 0
