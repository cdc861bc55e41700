"""The shipped strength sweep: the noisy L2 sweep measured once and stored beside measured.json,
so the Sweep page opens with its U-shape before anyone presses a button.

`python -m tools.measure_sweep` trains it (through the app's registry, so its runs are
ordinary stored runs) and writes measured_sweep.json; `read()` gives it back as the
regdemo.sweep pieces the page draws. The page's "Run sweep" with the same base setup,
values and seeds trains exactly these configs again (same keys), which is how a student
reproduces it.
"""

from __future__ import annotations

import json
import logging
import pathlib
from dataclasses import dataclass

from regdemo.teaching.lessons.catalog import changes
from regdemo.teaching.sweep import SweepPoint
from regdemo.training.config import RunConfig

log = logging.getLogger(__name__)

MEASURED_SWEEP_PATH = pathlib.Path(__file__).resolve().parent / "measured_sweep.json"


@dataclass(frozen=True)
class MeasuredSweep:
    base: RunConfig  # the setup every point shares, but for `param`
    param: str
    values: tuple
    seeds: int
    points: tuple[SweepPoint, ...]
    about: dict  # date, machine, cpus, torch, command


def to_json(base: RunConfig, param: str, values, seeds: int, points, about: dict) -> dict:
    return {**about, "base": changes(base), "param": param, "values": list(values), "seeds": seeds,
            "points": [{k: v for k, v in p.to_json().items() if k not in ("gap", "cached")} for p in points]}


def read(path: pathlib.Path | str | None = None) -> MeasuredSweep | None:
    """The stored sweep, or None when there is none or it cannot be read (logged): the page then
    opens empty, as it did before a sweep was shipped."""
    path = pathlib.Path(path) if path is not None else MEASURED_SWEEP_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        base = RunConfig(**data["base"]).validate()
        points = tuple(SweepPoint(**point) for point in data["points"])
        about = {k: data[k] for k in ("date", "machine", "cpus", "torch", "command") if k in data}
        return MeasuredSweep(base, data["param"], tuple(data["values"]), int(data["seeds"]), points, about)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("cannot read %s: %s", path, err)
        return None
