"""The screenshots' manifest follows measured.json: a shot taken from other numbers is stale."""

from __future__ import annotations

import json

from tools import screenshot_manifest


def test_a_manifest_goes_stale_when_measured_json_changes(tmp_path):
    measured = tmp_path / "measured.json"
    measured.write_text('{"lessons": {}}')
    out = tmp_path / "shots"
    (out / "zh").mkdir(parents=True)
    shots = [out / "dropout.png", out / "zh" / "dropout-zh.png"]
    path = screenshot_manifest.write(out, shots, measured)
    manifest = json.loads(path.read_text())
    assert set(manifest["shots"]) == {"dropout.png", "zh/dropout-zh.png"}
    assert manifest["commit"]  # this checkout's commit
    assert screenshot_manifest.stale(path, measured) == []
    measured.write_text('{"lessons": {"dropout": {}}}')  # new numbers, shots not retaken
    assert screenshot_manifest.stale(path, measured) == ["dropout.png", "zh/dropout-zh.png"]
    # Retaking one page records it at the new hash; the other stays stale.
    screenshot_manifest.write(out, [out / "dropout.png"], measured)
    assert screenshot_manifest.stale(path, measured) == ["zh/dropout-zh.png"]


def test_docs_screenshots_were_taken_from_the_current_measured_json():
    assert screenshot_manifest.DEFAULT.exists(), "no manifest: `python -m tools.screenshots --lang both` writes it"
    assert screenshot_manifest.stale() == [], "measured.json changed: retake these shots"
    # Every shot the manifest names is in the repository, and every PNG of the folder is named.
    shots = set(json.loads(screenshot_manifest.DEFAULT.read_text())["shots"])
    folder = screenshot_manifest.DEFAULT.parent
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*.png")} >= shots
