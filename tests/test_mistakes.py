import pytest
import torch

from regdemo import mistakes
from regdemo.mistakes import Mistake

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
