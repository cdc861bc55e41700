"""AppTest: every lesson pair's measured curves show the moment its page opens, on a fresh
REGDEMO_HOME and with no worker able to start (issue 18: a hosted demo shows every lesson's
result before anything trains)."""

from __future__ import annotations

import sys

import pyarrow as pa
from support import open_page, rerun, texts

from regdemo.i18n import translate
from regdemo.teaching.lessons import catalog, curves

PAGES = {
    "dropout": "app_pages/dropout.py", "l1": "app_pages/l1_l2.py", "l2": "app_pages/l2.py",
    "early_stopping": "app_pages/early_stopping.py", "augmentation": "app_pages/augmentation.py",
    "more_data": "app_pages/augmentation.py", "batchnorm": "app_pages/batchnorm.py", "adamw": "app_pages/l2.py",
}


def _measured_rows(at, what: str) -> dict[str, list[dict]]:
    """Chart alt text -> the data rows of the measured charts whose treated line is `with {what}`."""
    found = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    out = {}
    for chart in found:
        rows = [row for dataset in chart.proto.datasets
                for row in pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()]
        if f"with {what} (measured)" in {row.get("label") for row in rows}:
            out[chart.proto.alt] = rows
    return out


def test_every_lesson_page_shows_its_measured_curves_before_any_run(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))  # fresh: no run store, no runs
    # The server's own registry, whose worker processes cannot start: /bin/false is their Python.
    monkeypatch.setattr(sys, "executable", "/bin/false")
    assert set(PAGES) == set(catalog.LESSONS)
    at = open_page(PAGES["dropout"])
    for name, page in PAGES.items():
        at.switch_page(page)
        rerun(at)
        data = curves.load(name)
        assert data is not None, name
        caption = texts(at.caption)
        assert "**Measured** before this page opened" in caption and "1,000 test digits" in caption, name
        what = translate(f"pair.what.{name}", "en")
        charts = _measured_rows(at, what)
        assert len(charts) == 2 and all("Measured" in title for title in charts), f"{name}: accuracy and loss"
        for rows in charts.values():
            baseline = translate(f"pair.baseline.{name}", "en") if name == "adamw" else translate("pair.baseline", "en")
            for side, label in (("baseline", f"{baseline} (measured)"), ("treated", f"with {what} (measured)")):
                epochs = len(curves.mean_curve(data, side, "test_acc"))
                drawn = {r["epoch"] for r in rows if r["label"] == label and r.get("split") == "test"}
                assert drawn == set(range(1, epochs + 1)), (name, side)  # every measured epoch
