"""Memorization of wrong labels: the two shares on a case made by hand, what fit() reports for
noisy and clean runs, the gallery, `train --json`, the CSV export and a stored run."""

import base64
import dataclasses
import json

import numpy as np
import pytest
import torch

from regdemo.cli.parser import main
from regdemo.runs.frames import epochs_frame
from regdemo.runs.records import Run
from regdemo.storage.sqlite import RunStore
from regdemo.training import memorization
from regdemo.training.config import RunConfig
from regdemo.training.data import load_dataset
from regdemo.training.engine import fit, prepare_data, train_eval_split
from webapp.export import csv_bytes

FULL = load_dataset("mnist-sample")
DATA = dataclasses.replace(FULL, test_images=FULL.test_images[:300], test_labels=FULL.test_labels[:300])
NOISY = RunConfig(train_size=400, label_noise=0.25, epochs=2, batch_size=50, device="cpu")
CPU = torch.device("cpu")


def test_the_two_shares_on_a_case_made_by_hand():
    true = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    given = torch.tensor([0, 1, 2, 3, 9, 9, 9, 9])  # the last four are wrong labels
    # right on 3 of the 4 correctly labelled; predicts the wrong label for 1 of the 4
    # wrong-labelled (the real class for another one: neither memorized nor "clean")
    predicted = torch.tensor([0, 1, 2, 8, 9, 5, 0, 0])
    assert memorization.measure(predicted, given, true) == (0.25, 0.75)
    assert memorization.measure(given, given, true) == (1.0, 1.0)  # learnt every label by heart
    assert memorization.measure(true, given, true) == (0.0, 1.0)  # learnt the real classes only
    assert memorization.measure(true, true, true) == (None, 1.0)  # nothing wrong to memorize


def test_the_gallery_is_wrong_labelled_eligible_digits_in_class_order():
    true = torch.arange(100) % 10
    given = true.clone()
    given[::3] = (given[::3] + 1) % 10  # 34 wrong labels
    eligible = torch.ones(100, dtype=torch.bool)
    eligible[:30] = False
    images = torch.arange(100, dtype=torch.uint8).view(100, 1, 1).expand(100, 28, 28)
    gallery = memorization.pick_gallery(images, given, true, torch.arange(100) + 1000, eligible, CPU, size=8)
    picked = gallery.indices - 1000
    assert len(gallery) == 8 and bool((picked >= 30).all()) and bool((given[picked] != true[picked]).all())
    assert gallery.true.tolist() == sorted(gallery.true.tolist())
    assert torch.equal(gallery.images[:, 0, 0], picked.to(torch.uint8))  # each digit's own pixels
    again = memorization.pick_gallery(images, given, true, torch.arange(100) + 1000, eligible, CPU, size=8)
    assert torch.equal(again.indices, gallery.indices)  # the same digits every run
    assert memorization.pick_gallery(images, true, true, torch.arange(100), eligible, CPU) is None


def test_a_noisy_run_reports_memorization_every_epoch_consistent_with_its_accuracy():
    events = list(fit(NOISY, dataset=DATA, progress_per_epoch=1))
    started, epochs = events[0], [e for e in events if e.kind == "epoch"]
    train, test, _ = prepare_data(NOISY, DATA, CPU)
    sample = train_eval_split(train, test)
    n_wrong = int((sample.labels != sample.true_labels).sum())
    n = len(sample)
    assert 0 < n_wrong < n
    for e in epochs:
        assert 0.0 <= e.memorized <= 1.0 and 0.0 <= e.train_acc_clean <= 1.0
        # eval-mode train accuracy counts a digit right when it matches its given label:
        # the clean ones it gets right plus the wrong labels it has memorized
        assert e.train_acc_eval == pytest.approx((e.train_acc_clean * (n - n_wrong) + e.memorized * n_wrong) / n,
                                                 abs=1e-6)
        assert len(e.gallery_predictions) == memorization.GALLERY_SIZE
    # The gallery as the pages get it: wrong labels, the dataset's own pixels
    indices = list(started.gallery_indices)
    assert len(indices) == memorization.GALLERY_SIZE
    assert [int(FULL.train_labels[i]) for i in indices] == list(started.gallery_true)
    assert all(g != t for g, t in zip(started.gallery_given, started.gallery_true, strict=True))
    pixels = np.frombuffer(base64.b64decode(started.gallery_pixels), dtype=np.uint8).reshape(-1, 28, 28)
    assert np.array_equal(pixels, FULL.train_images[indices].numpy())


def test_a_clean_run_has_no_memorization_and_no_gallery():
    events = list(fit(NOISY.replace(label_noise=0.0, epochs=1), dataset=DATA, progress_per_epoch=1))
    started, (e,) = events[0], [e for e in events if e.kind == "epoch"]
    assert e.memorized is None and e.train_acc_clean is None and e.gallery_predictions == ()
    assert started.gallery_indices == () and started.gallery_pixels == ""


def test_early_stopping_and_its_baseline_show_the_same_gallery_digits():
    with_es, _, val = prepare_data(NOISY.replace(patience=2), DATA, CPU)
    without, _, _ = prepare_data(NOISY, DATA, CPU)
    assert torch.equal(with_es.gallery.indices, without.gallery.indices)
    assert len(val) > 0


def test_train_json_carries_the_keys_only_with_label_noise(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    tiny = ["train", "--train-size", "200", "--epochs", "1", "--device", "cpu", "--json"]
    assert main([*tiny, "--label-noise", "0.2"]) == 0
    noisy = json.loads(capsys.readouterr().out.splitlines()[0])
    assert 0.0 <= noisy["memorized"] <= 1.0 and 0.0 <= noisy["train_acc_clean"] <= 1.0
    assert main(tiny) == 0
    clean = json.loads(capsys.readouterr().out.splitlines()[0])
    assert "memorized" not in clean and "train_acc_clean" not in clean and "test_acc" in clean


def noisy_run() -> Run:
    config = NOISY.replace(epochs=1)
    run = Run(config)
    run.mark_running()
    for event in fit(config, dataset=DATA, progress_per_epoch=1):
        run.apply(event)
    return run


def test_csv_export_and_the_sqlite_store_keep_it(tmp_path):
    run = noisy_run()
    e = run.epochs[-1]
    rows = csv_bytes(epochs_frame(run.view())).decode().splitlines()
    header, values = rows[0].split(","), rows[1].split(",")
    assert float(values[header.index("memorized")]) == pytest.approx(e.memorized)
    assert float(values[header.index("train_acc_clean")]) == pytest.approx(e.train_acc_clean)
    store = RunStore(tmp_path / "runs.sqlite")
    assert store.save(run.view(), source="cli")
    back = store.get(run.key)
    assert back.epochs == run.view().epochs and back.started == run.view().started
