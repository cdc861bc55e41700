"""What the pages draw of memorization and of a pair's weights: frames from hand-made events,
the charts' specs, the gallery picture's pixels, the weights' statistics on a hand-made model,
and that the drawing code needs no torch."""

from __future__ import annotations

import base64
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from support import ROOT, epoch

from regdemo.i18n import translate
from regdemo.runs.records import Run
from regdemo.training.config import RunConfig
from regdemo.training.events import Done, Started
from regdemo.viz.memorization import (
    CLEAN,
    MEMORIZED,
    gallery_digits,
    gallery_picture,
    gallery_pixels,
    memorization_chart,
    memorization_frame,
    memorized_counts,
)
from regdemo.viz.weights import pair_weights_chart, pair_weights_frame

COLORS = {"without": "#000000", "with dropout": "#E69F00"}
ZH = lambda key, **values: translate(key, "zh", **values)  # noqa: E731


def noisy_view(shares, gallery=(), config=None, done_best=None, pixels=b""):
    """A noisy run's view: one epoch per (memorized, clean) pair, gallery answers per epoch."""
    run = Run(config or RunConfig(label_noise=0.2, train_size=200, epochs=len(shares)))
    run.apply(Started(device="cpu", train_size=200, test_size=1000, val_size=0, steps_per_epoch=4, parameters=10,
                      gallery_indices=(7, 9, 11), gallery_true=(1, 4, 8), gallery_given=(7, 9, 3),
                      gallery_pixels=base64.b64encode(pixels or bytes(3 * 784)).decode()))
    for n, (memorized, clean) in enumerate(shares, 1):
        answers = gallery[n - 1] if gallery else ()
        run.apply(dataclasses.replace(epoch(n, 0.8), memorized=memorized, train_acc_clean=clean,
                                      gallery_predictions=answers))
    if done_best is not None:
        run.apply(Done("early_stopped", len(shares), done_best, 4 * len(shares), ""))
    return run.view()


def test_the_frame_holds_both_shares_per_run_and_epoch_and_nothing_for_a_clean_run():
    views = {"without": noisy_view([(0.1, 0.8), (0.6, 0.95)]), "with dropout": noisy_view([(0.05, 0.7)]),
             "clean": Run(RunConfig()).view(), "absent": None}
    frame = memorization_frame(views)
    got = sorted(map(tuple, frame[["run", "epoch", "measure", "share"]].values.tolist()))
    assert got == sorted([("without", 1, MEMORIZED, 0.1), ("without", 1, CLEAN, 0.8),
                          ("without", 2, MEMORIZED, 0.6), ("without", 2, CLEAN, 0.95),
                          ("with dropout", 1, MEMORIZED, 0.05), ("with dropout", 1, CLEAN, 0.7)])
    clean = Run(RunConfig(train_size=200, epochs=1))
    clean.apply(epoch(1, 0.9))
    assert memorization_frame({"clean": clean.view()}).empty


def test_the_chart_colours_runs_dashes_the_clean_share_and_marks_the_kept_epoch():
    views = {"without": noisy_view([(0.1, 0.8), (0.6, 0.95), (0.9, 0.99)]),
             "with dropout": noisy_view([(0.05, 0.7), (0.1, 0.8)], config=RunConfig(label_noise=0.2, patience=3),
                                        done_best=1)}
    from webapp.memorization import kept_epochs  # the page's reading of early stopping's kept epoch

    kept = kept_epochs(views)
    assert kept == {"with dropout": 1}
    spec = memorization_chart(memorization_frame(views), COLORS, t=ZH, epochs=20, kept=kept).to_dict()
    lines, rule, text = spec["layer"]
    assert lines["encoding"]["color"]["scale"] == {"domain": list(COLORS), "range": list(COLORS.values())}
    dash = lines["encoding"]["strokeDash"]["scale"]
    assert dash["domain"] == [ZH("memo.chart.memorized"), ZH("memo.chart.clean")] and dash["range"][0] == [1, 0]
    assert lines["encoding"]["x"]["scale"]["domain"] == [1, 20]
    assert lines["encoding"]["y"]["scale"]["domain"] == [0, 1]
    marks = [d for d in spec["datasets"].values() if d and "label" in d[0]]
    assert marks == [[{"run": "with dropout", "epoch": 1, "label": ZH("memo.chart.kept", epoch=1)}]]
    assert rule["mark"]["type"] == "rule" and text["mark"]["type"] == "text"
    # No early stopping: no rule, only the lines.
    assert len(memorization_chart(memorization_frame(views), COLORS, t=ZH).to_dict()["layer"]) == 1


def test_the_gallery_reads_the_pixels_and_each_runs_latest_answers():
    pixels = bytes(range(256)) * 9 + bytes(3 * 784 - 256 * 9)
    base = noisy_view([(0.0, 0.5), (0.5, 0.9)], gallery=[(1, 4, 8), (7, 4, 3)], pixels=pixels)
    treated = noisy_view([(0.0, 0.5)], gallery=[(1, 9, 8)])
    array = gallery_pixels(base.started)
    assert array.shape == (3, 28, 28) and array.dtype == np.uint8 and array.tobytes() == pixels
    digits = gallery_digits(base.started, [base.epochs[-1].gallery_predictions, treated.epochs[-1].gallery_predictions,
                                           ()])
    assert [(d.true, d.given, d.answers) for d in digits] == [(1, 7, (7, 1, None)), (4, 9, (4, 9, None)),
                                                              (8, 3, (3, 8, None))]
    # baseline answers the wrong label of digits 1 and 3; treated of digit 2; the third run has none yet
    assert memorized_counts(digits, 3) == [2, 1, 0]
    assert gallery_pixels(None).shape == (0, 28, 28)


def test_the_gallery_picture_fills_a_box_in_the_runs_colour_only_where_it_memorized():
    pixels = np.zeros((2, 28, 28), dtype=np.uint8)
    pixels[0, 10:18, 10:18] = 255  # a white square: drawn dark on the white tile
    started = Started(device="cpu", train_size=1, test_size=1, val_size=0, steps_per_epoch=1, parameters=1,
                      gallery_indices=(0, 1), gallery_true=(1, 2), gallery_given=(7, 5))
    digits = gallery_digits(started, [(7, 2), (1, 5)])  # run 0 memorized digit 0, run 1 digit 1
    picture = gallery_picture(pixels, digits, ["#000000", "#E69F00"], columns=2, scale=3)
    assert picture.ndim == 3 and picture.shape[2] == 3
    tile_w, tile_h = picture.shape[1] // 2, picture.shape[0]
    orange = np.all(picture == (0xE6, 0x9F, 0x00), axis=2)
    left, right = orange[:, :tile_w], orange[:, tile_w:]
    # an orange outline in both tiles, a filled orange box only in the second (run 1 memorized it)
    assert left.sum() > 0 and right.sum() > 2 * left.sum()
    ink = picture[4:4 + 84, (tile_w - 84) // 2:(tile_w + 84) // 2]
    assert ink[40, 40].tolist() == [0, 0, 0] and ink[5, 5].tolist() == [255, 255, 255]
    assert tile_h > 84


def test_the_pair_weights_frame_and_chart():
    run = Run(RunConfig(l2=0.05, train_size=200, epochs=2))
    for n, norm in ((1, 9.0), (2, 7.5)):
        run.apply(dataclasses.replace(epoch(n, 0.8), l2_norm=norm, near_zero=n / 10))
    frame = pair_weights_frame({"with L2": run.view(), "without": None})
    assert frame.values.tolist() == [["with L2", 1, 9.0, 0.1], ["with L2", 2, 7.5, 0.2]]
    colors = {"without": "#000000", "with L2": "#E69F00"}
    norm = pair_weights_chart(frame, colors, t=ZH, epochs=20).to_dict()
    assert norm["encoding"]["y"]["field"] == "l2_norm" and norm["encoding"]["y"]["title"] == ZH("weights.chart.l2")
    both = pair_weights_chart(frame, colors, t=ZH, epochs=20, near_zero=True).to_dict()
    assert [c["encoding"]["y"]["field"] for c in both["hconcat"]] == ["l2_norm", "near_zero"]


def test_weight_stats_on_a_hand_made_model():
    """The norms and the near-zero share the engine records each epoch, on weights set by hand."""
    torch = pytest.importorskip("torch")
    from regdemo.training.engine import weight_stats
    from regdemo.training.models import penalized_weights

    model = torch.nn.Sequential(torch.nn.Linear(4, 2, bias=False), torch.nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[3.0, 0.0, 0.0005, -0.0005], [0.0, 0.0, 0.0, 4.0]]))
        model[1].weight.copy_(torch.tensor([[0.002, -0.0009]]))
    l1, l2, near_zero, hist = weight_stats(penalized_weights(model, all_params=False))
    assert l1 == pytest.approx(3 + 0.0005 * 2 + 4 + 0.002 + 0.0009)
    assert l2 == pytest.approx((9 + 16 + 2 * 0.0005 ** 2 + 0.002 ** 2 + 0.0009 ** 2) ** 0.5)
    assert near_zero == pytest.approx(7 / 10)  # four zeros, +-0.0005 and -0.0009 are below 1e-3; 0.002 is not
    assert sum(hist) == 10


def test_the_drawing_modules_import_and_draw_without_torch():
    """The server draws memorization and weights from numbers: with torch unimportable, the
    page modules import and the chart, the gallery picture and the weights chart are built."""
    code = (
        "import sys, base64\n"
        "sys.modules['torch'] = None  # any import of torch fails\n"
        "import webapp.memorization, webapp.weights, webapp.lesson_page\n"
        "from regdemo.i18n import translate\n"
        "from regdemo.training.events import Started\n"
        "from regdemo.viz import memorization as m, weights as w\n"
        "import pandas as pd\n"
        "s = Started('cpu', 1, 1, 0, 1, 1, (0,), (1,), (7,), base64.b64encode(bytes(784)).decode())\n"
        "m.gallery_picture(m.gallery_pixels(s), m.gallery_digits(s, [(7,)]), ['#000000'])\n"
        "frame = pd.DataFrame([('a', 1, m.MEMORIZED, 0.5)], columns=['run', 'epoch', 'measure', 'share'])\n"
        "m.memorization_chart(frame, {'a': '#000000'}, t=translate).to_dict()\n"
        "w.pair_weights_chart(pd.DataFrame([('a', 1, 3.0, 0.1)], columns=['run', 'epoch', 'l2_norm', 'near_zero']),\n"
        "                     {'a': '#000000'}, t=translate, near_zero=True).to_dict()\n"
        "assert 'torch' not in [n.split('.')[0] for n, mod in sys.modules.items() if mod is not None]\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr


def test_an_early_stopped_run_shows_the_answers_of_the_epoch_it_kept():
    from webapp.memorization import _answers

    config = RunConfig(label_noise=0.2, patience=1, train_size=200, epochs=3)
    answers = [(1, 4, 8), (7, 9, 3), (7, 9, 8)]
    running = noisy_view([(0.0, 0.5), (0.6, 0.9)], gallery=answers[:2], config=config)
    assert _answers(running) == (7, 9, 3)  # still training: its latest epoch
    stopped = noisy_view([(0.0, 0.5), (0.6, 0.9), (0.7, 0.9)], gallery=answers, config=config, done_best=1)
    assert _answers(stopped) == (1, 4, 8)  # finished: the kept epoch's weights
