"""python -m regdemo train | lessons | bench | sweep | runs | worker

Every command's arguments are here; what a command does and prints is commands.py (one
handler per command, args -> exit code). `bench` is the exception: a forward to
`python -m tools.bench` (tools/ is a dev tool found only in a checkout, never imported here).
A user error prints one line and exits 2; no traceback for anything a user typed.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import subprocess
import sys

from regdemo.cli.commands import UserError, cmd_lessons, cmd_runs, cmd_sweep, cmd_train, cmd_worker, config_from_args
from regdemo.settings import SettingError
from regdemo.storage.sqlite import default_path
from regdemo.teaching.lessons.catalog import MEASURED_PATH
from regdemo.teaching.sweep import PARAMS
from regdemo.training.config import PRESETS, ConfigError, RunConfig, knobs
from regdemo.training.data import DataError

__all__ = ["UserError", "add_run_arguments", "build_parser", "config_from_args", "main"]

# command -> (module, help): dev tools in a checkout, run as `python -m <module>` (not imported)
EXTERNAL_COMMANDS = {
    "bench": ("tools.bench", "benchmark the engine against the article's pipeline and bare compute"),
}
CHECKOUT = pathlib.Path(__file__).resolve().parents[2]  # the folder holding regdemo/ (and tools/ in a checkout)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too)
        raise UserError(f"{self.prog}: {message}")


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """A flag for every RunConfig choice, from its Knob (config.py); None means "the preset's or
    default value"."""
    p.add_argument("--preset", help=f"start from one of: {', '.join(PRESETS)}")
    defaults = RunConfig()
    for name, knob in knobs().items():
        default = getattr(defaults, name)
        if isinstance(default, bool):
            p.add_argument(knob.flag, dest=name, action=argparse.BooleanOptionalAction, default=None,
                           help=knob.cli_help)
        elif knob.choices:
            p.add_argument(knob.flag, dest=name, choices=knob.choices, help=knob.cli_help)
        else:
            kind = type(default) if isinstance(default, (int, float)) else str
            p.add_argument(knob.flag, dest=name, type=kind, metavar=knob.metavar, help=knob.cli_help)


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
    lessons = sub.add_parser("lessons", help="each lesson's claim and its pair of runs; --check trains them")
    lessons.add_argument("--json", action="store_true", help="one JSON object per lesson")
    lessons.add_argument("--check", action="store_true",
                         help="train every pair over seeds and print test accuracy, loss and gain")
    lessons.add_argument("--seeds", type=int, metavar="N", help="with --check: seeds 0..N-1 (default 3)")
    lessons.add_argument("--only", metavar="NAMES", help="comma-separated lessons (default: all)")
    lessons.add_argument("--write", nargs="?", const=str(MEASURED_PATH), metavar="PATH",
                         help=f"with --check: store the numbers as JSON (default path {MEASURED_PATH.name} "
                              "beside the catalog, which the pages read)")
    lessons.set_defaults(handler=cmd_lessons)
    _external_commands(sub)
    sweep = sub.add_parser("sweep", help="sweep one regularizer's strength over seeds")
    _sweep_arguments(sweep)
    sweep.set_defaults(handler=cmd_sweep)
    runs = sub.add_parser("runs", help="list the runs in the run store")
    _runs_arguments(runs)
    runs.set_defaults(handler=cmd_runs)
    worker = sub.add_parser("worker", help="take runs from the task queue at REGDEMO_BROKER_URL (a cluster's worker)")
    _worker_arguments(worker)
    worker.set_defaults(handler=cmd_worker)
    return parser


def _external_commands(sub) -> None:
    for name, (module, help_text) in EXTERNAL_COMMANDS.items():
        # Every argument after the name is the tool's own, --help included: prefix "+" keeps
        # argparse from reading any of them here.
        p = sub.add_parser(name, help=help_text, prefix_chars="+", add_help=False)
        p.add_argument("forwarded", nargs="*")
        p.set_defaults(handler=lambda args, name=name, module=module: _forward(name, module, args.forwarded))


def _forward(name: str, module: str, argv: list[str]) -> int:
    """`python -m regdemo bench ...` is `python -m tools.bench ...` from the checkout."""
    if not (CHECKOUT / pathlib.Path(*module.split("."))).with_suffix(".py").exists():
        return _missing(name, module)
    sys.stdout.flush()
    return subprocess.call([sys.executable, "-m", module, *argv], cwd=CHECKOUT)


def _sweep_arguments(parser) -> None:
    parser.add_argument("--param", required=True, choices=PARAMS, help="the strength to vary")
    parser.add_argument("--values", help="comma-separated values, e.g. 0,1e-4,1e-3 "
                        "(default: the Sweep page's values for --param)")
    parser.add_argument("--seeds", type=int, default=1, metavar="K",
                        help="seeds per value: --seed, --seed+1, ... (default 1)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per (value, seed) as it finishes")
    parser.add_argument("--workers", type=int, metavar="N", help="points trained at once")
    add_run_arguments(parser)


def _runs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    parser.add_argument("--limit", type=int, default=200, help="newest N runs (default 200)")
    parser.add_argument("--store", metavar="PATH", help=f"store file (default {default_path()})")


def _worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="worker processes on this machine, one run each at a time (default 1)")
    parser.add_argument("--threads", type=int, default=0, metavar="T",
                        help="torch threads per run (default: usable cores / N)")
    parser.add_argument("--answerer", action=argparse.BooleanOptionalAction, default=True,
                        help="answer the Draw page's questions in one process beside the N workers (default: on)")


def _missing(name: str, module: str) -> int:
    print(f"regdemo {name}: not available here ({module} is a tool of the repository; run it from "
          "a checkout)", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        for name, knob in knobs().items():
            value = getattr(args, name, None)
            if isinstance(value, float) and not math.isfinite(value):
                raise UserError(f"{knob.flag} must be a finite number")
        return args.handler(args)
    except (UserError, ConfigError, SettingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `... | head`
        return 0
