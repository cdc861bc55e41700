"""docs/screenshots/manifest.json: what the screenshots were taken from -- the sha256 of
measured.json (the numbers the lesson pages show) and the commit -- so a test can tell when
the shots fall behind the numbers. tools/screenshots.py writes it after every run.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import subprocess

from tools.lessons_figure import measured_hash

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAME = "manifest.json"
DEFAULT = ROOT / "docs" / "screenshots" / NAME


def commit(root: pathlib.Path = ROOT) -> str:
    """The checkout's commit, "+dirty" when tracked files differ from it; "" outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+dirty" if dirty else "")


def write(out: pathlib.Path, shots: list[pathlib.Path], measured: pathlib.Path | None = None) -> pathlib.Path:
    """Record `shots` (paths under `out`) with the current measured.json hash and commit; shots
    of earlier runs stay listed, each with the hash it was taken at."""
    path = out / NAME
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    digest = measured_hash(measured) if measured else measured_hash()
    entries = dict(old.get("shots") or {})
    for shot in shots:
        entries[shot.relative_to(out).as_posix()] = digest
    manifest = {"measured_sha256": digest, "commit": commit(),
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "shots": dict(sorted(entries.items()))}
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return path


def stale(path: pathlib.Path = DEFAULT, measured: pathlib.Path | None = None) -> list[str]:
    """The shots of the manifest at `path` taken from another measured.json than today's
    (all of them when the manifest's own hash differs)."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    digest = measured_hash(measured) if measured else measured_hash()
    shots = manifest.get("shots") or {}
    if manifest.get("measured_sha256") != digest:
        return sorted(shots) or ["(every shot)"]
    return sorted(name for name, taken in shots.items() if taken != digest)
