"""The Streamlit server never imports torch: its workers train, it draws numbers and uint8 arrays.

A fresh Python process plays the server: it opens every page of the app through
AppTest with the server's own registry (real worker processes, which do import
torch), trains a small run from the Playground to the end, opens every page
again with that run finished, and then reports what its own sys.modules holds.
A separate process because this pytest process imported torch long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT

SERVER = r'''
import json, re, sys
from regdemo.training.config import RunConfig, to_query_params
from regdemo.training.events import FINISHED
from tests.support import app, open_page, rerun
import webapp.state

pages = sorted(set(re.findall(r'"(app_pages/[a-z0-9_]+\.py)"', open("streamlit_app.py").read())))
config = RunConfig(train_size=200, epochs=1)
opened = []
for p in pages:
    open_page(p, config)
    opened.append(p)
at = app(to_query_params(config))
at.button(key="pg_train").click()
rerun(at)
run = webapp.state.registry().get(config.key())
finished = run.wait(240) and run.status == FINISHED
rerun(at)
for p in pages:
    open_page(p, config)
webapp.state.registry.clear()
print(json.dumps({"pages": opened, "status": run.status, "finished": finished,
                  "torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))[:5]}))
'''


@pytest.mark.subprocess
@pytest.mark.slow
def test_server_process_has_no_torch_after_every_page_and_a_finished_run(tmp_path):
    env = dict(os.environ, REGDEMO_HOME=str(tmp_path), REGDEMO_WORKERS="1", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", SERVER], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["pages"]) >= 12, report["pages"]
    assert report["finished"], report["status"]
    assert report["torch"] == [], f"the server imported {report['torch']}"
