"""The Draw page through AppTest: its messages, the train button of an untrained pair, and both
nets' probabilities for an uploaded digit (the canvas is a browser component: tests/browser)."""

from __future__ import annotations

import io
import json
import time

import numpy as np
from PIL import Image
from support import make_run, open_page, page_alone, rerun, texts

from regdemo.i18n import translate
from regdemo.messages import msg, render
from regdemo.runs import inference
from regdemo.teaching.lessons.catalog import LESSONS
from regdemo.training.models import build_model

PAGE = "app_pages/draw.py"
PAIR = LESSONS["dropout"]  # the page's first lesson


def png_of_a_one() -> bytes:
    """A '1' drawn as dark ink on white paper, the way a phone photo of a note would be."""
    picture = np.full((200, 160), 255, dtype=np.uint8)
    picture[30:170, 70:90] = 0
    data = io.BytesIO()
    Image.fromarray(picture).save(data, format="PNG")
    return data.getvalue()


def store_pair(store, weights=True) -> None:
    for config in (PAIR.baseline, PAIR.treated):
        run = make_run(config, epochs=(0.8,) * config.epochs)
        assert store.save(run.view())
        if weights:
            model = build_model(config.model, config.dropout, config.batchnorm)
            assert store.save_weights(run.key, inference.weights_bytes(model))


def upload(at):
    at.get("file_uploader")[0].set_value(("one.png", png_of_a_one(), "image/png"))
    return rerun(at)


def test_an_untrained_pair_offers_a_button_that_trains_it(registry, store):
    at = open_page(PAGE)
    assert render(msg("draw.empty")) in texts(at.info)
    assert translate("draw.untrained") in texts(at.info)
    train = next(b for b in at.button if b.label == translate("draw.train", what="dropout"))
    train.click()
    rerun(at)
    deadline = time.monotonic() + 60
    while not all(store.get(k) for k in (PAIR.baseline.key(), PAIR.treated.key())) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.get(PAIR.baseline.key()) and store.get(PAIR.treated.key())
    # The scripted trainer hands back no model: both runs are stored without weights, and say so.
    upload(rerun(at))
    assert texts(at.warning).count(render(msg("draw.no_weights"))) == 2, texts(at.warning)


def test_both_nets_answer_for_an_uploaded_digit(registry, store):
    store_pair(store)
    at = upload(open_page(PAGE))
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) == 2, [e.type for e in at.main]
    assert not at.warning and not at.error
    assert translate("draw.answered", ms="")[:8] in texts(at.caption)
    assert [i.proto.imgs[0].caption for i in at.get("image")] == [translate("draw.prepared")]
    titles = [json.loads(chart.proto.spec)["title"] for chart in charts]
    assert titles[0].startswith("without: ") and titles[1].startswith("with dropout: "), titles
    assert all(title.endswith(" %)") for title in titles)


def test_the_page_speaks_chinese_and_names_an_older_run(registry, store):
    store_pair(store, weights=False)
    at = page_alone(PAGE, lang="zh")  # the page by itself, as tests/app/test_history_page.py does
    assert render(msg("draw.empty"), "zh") in texts(at.info)
    assert at.title[0].value == translate("draw.title", "zh")
    upload(at)
    assert texts(at.warning).count(render(msg("draw.no_weights"), "zh")) == 2, texts(at.warning)
