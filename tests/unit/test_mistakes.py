import pytest
import torch

from regdemo.teaching import mistakes
from regdemo.teaching.mistakes import Mistake

LABELS = [0, 1, 2, 3, 3, 9, 9, 7]
PREDS = [0, 7, 2, 5, 3, 4, 9, 1]


def test_confusion_matrix_counts_true_rows_predicted_columns():
    m = mistakes.confusion_matrix(LABELS, PREDS)
    assert len(m) == 10 and all(len(row) == 10 for row in m)
    assert m[1][7] == 1 and m[7][1] == 1 and m[3][5] == 1 and m[3][3] == 1 and m[9][4] == 1
    assert sum(map(sum, m)) == len(LABELS)
    assert sum(m[i][i] for i in range(10)) == sum(t == p for t, p in zip(LABELS, PREDS, strict=True))
    # rows sum to the number of digits of that true class
    assert [sum(row) for row in m][3] == 2 and sum(m[9]) == 2


def test_accepts_tensors_like_dataset_test_labels():
    m = mistakes.confusion_matrix(torch.tensor(LABELS), tuple(PREDS))
    assert m == mistakes.confusion_matrix(LABELS, PREDS)


def test_misclassified_indices_in_test_order():
    assert mistakes.misclassified(LABELS, PREDS) == [
        Mistake(1, 1, 7), Mistake(3, 3, 5), Mistake(5, 9, 4), Mistake(7, 7, 1)]
    assert mistakes.misclassified(LABELS, LABELS) == []


def test_per_class_accuracy_and_accuracy():
    acc = mistakes.per_class_accuracy(LABELS, PREDS)
    assert acc[0] == 1.0 and acc[1] == 0.0 and acc[3] == 0.5 and acc[9] == 0.5
    assert acc[4] is None  # no test digit of class 4
    assert mistakes.accuracy(LABELS, PREDS) == pytest.approx(4 / 8)


def test_most_confused_orders_by_count_then_class():
    labels = [3, 3, 3, 8, 8, 1]
    preds = [5, 5, 8, 3, 3, 7]
    m = mistakes.confusion_matrix(labels, preds)
    assert mistakes.most_confused(m, k=2) == [(3, 5, 2), (8, 3, 2)]
    assert mistakes.most_confused(m) == [(3, 5, 2), (8, 3, 2), (1, 7, 1), (3, 8, 1)]


def test_disagreement_splits_digits_by_which_run_is_right():
    labels = [0, 1, 2, 3, 4]
    a = [0, 1, 9, 9, 4]  # wrong on 2 and 3
    b = [0, 7, 2, 8, 4]  # wrong on 1 and 3
    d = mistakes.disagreement(labels, a, b)
    assert d.only_a == (Mistake(1, 1, 7),)  # A right, B said 7
    assert d.only_b == (Mistake(2, 2, 9),)  # B right, A said 9
    assert d.both_wrong == 1 and d.both_right == 2
    swapped = mistakes.disagreement(labels, b, a)
    assert swapped.only_a == d.only_b and swapped.only_b == d.only_a


def test_mismatched_lengths_and_bad_classes_are_errors():
    with pytest.raises(ValueError, match="3 predictions for 2 test labels"):
        mistakes.confusion_matrix([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="prediction 10"):
        mistakes.misclassified([1], [10])
    with pytest.raises(ValueError, match="test labels"):
        mistakes.disagreement([1, 2], [1, 2], [1])


def test_mistakes_page_shows_matrix_grid_and_two_run_comparison(tmp_path, monkeypatch):
    """Two stored runs on the embedded sample; the page opens them in English and Chinese."""
    import pathlib

    from streamlit.testing.v1 import AppTest

    from regdemo.runs.registry import Registry
    from regdemo.training.config import RunConfig
    from regdemo.training.data import load_dataset
    from regdemo.training.events import FINISHED, Done, EpochEnd
    from webapp import state

    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    labels = load_dataset("mnist-sample").test_labels.tolist()
    a = list(labels)
    b = list(labels)
    for i in (0, 1, 2):  # A wrong on 0, 1, 2; B wrong on 2, 3
        a[i] = (labels[i] + 1) % 10
    for i in (2, 3):
        b[i] = (labels[i] + 2) % 10

    def train(config, stop=None):
        preds = a if config.dropout == 0 else b
        acc = sum(p == t for p, t in zip(preds, labels, strict=True)) / len(labels)
        yield EpochEnd(epoch=1, train_loss=0.1, train_acc=0.9, train_loss_eval=0.1, train_acc_eval=1.0,
                       test_loss=0.1, test_acc=acc, val_loss=None, val_acc=None, l1_norm=0.0, l2_norm=0.0,
                       near_zero=0.0, weight_hist=(), best_epoch=1, seconds=0.0, step=1)
        yield Done(FINISHED, 1, 1, 1, test_predictions=tuple(preds))

    registry = Registry(workers=1, train=train)
    monkeypatch.setattr(state, "override", registry)
    page = str(pathlib.Path(__file__).resolve().parents[2] / "app_pages" / "mistakes.py")
    try:
        for config in (RunConfig(epochs=1), RunConfig(epochs=1, dropout=0.5)):
            assert registry.get_or_start(config).wait(30)
        for lang, summary in (("en", "3 of 1,000 test digits wrong"), ("zh", "1,000 张测试数字中错了 3 张")):
            at = AppTest.from_file(page, default_timeout=30)
            at.session_state["lang"] = lang
            at.session_state["mistakes_a"] = RunConfig(epochs=1).key()
            at.run()
            assert not at.exception, at.exception
            assert any(summary in s.value for s in at.subheader), [s.value for s in at.subheader]
            # A's three mistakes; then digit 3 (A right, B wrong) and digits 0, 1 (B right, A wrong)
            assert [len(img.value) for img in at.image] == [3, 1, 2]
            assert at.image[0].captions[0] == f"{labels[0]} → {(labels[0] + 1) % 10}"
            metrics = [m.value for m in at.metric]
            assert metrics == ["1", "2", "1", "-1"], metrics
    finally:
        registry.shutdown()
