"""Which test digits a run gets wrong, and which one run gets right that another does not.

Pure functions over two sequences in test order: the true labels
(`data.load_dataset(...).test_labels`) and a run's predictions
(`events.Done.test_predictions`, the kept model's argmax per test digit).
Plain lists of ints in and out, so the page, the CLI and the tests share them
without pandas or torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NUM_CLASSES = 10


@dataclass(frozen=True)
class Mistake:
    index: int  # position in the test split
    true: int
    predicted: int


@dataclass(frozen=True)
class Disagreement:
    """Test digits exactly one of two runs classifies correctly."""

    only_a: tuple[Mistake, ...]  # A right, B wrong (`predicted` is B's wrong answer)
    only_b: tuple[Mistake, ...]  # B right, A wrong (`predicted` is A's wrong answer)
    both_wrong: int
    both_right: int


def _ints(xs) -> list[int]:
    # Accepts tuples, lists and torch tensors (test_labels) alike.
    return [int(x) for x in (xs.tolist() if hasattr(xs, "tolist") else xs)]


def _checked(labels, predictions, num_classes: int) -> tuple[list[int], list[int]]:
    labels, predictions = _ints(labels), _ints(predictions)
    if len(labels) != len(predictions):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} test labels: "
                         "the run was trained on another test split")
    for name, xs in (("label", labels), ("prediction", predictions)):
        bad = next((x for x in xs if not 0 <= x < num_classes), None)
        if bad is not None:
            raise ValueError(f"{name} {bad} is outside 0..{num_classes - 1}")
    return labels, predictions


def confusion_matrix(labels, predictions, num_classes: int = NUM_CLASSES) -> list[list[int]]:
    """matrix[true][predicted] = how many test digits of class `true` got `predicted`."""
    labels, predictions = _checked(labels, predictions, num_classes)
    matrix = [[0] * num_classes for _ in range(num_classes)]
    for t, p in zip(labels, predictions, strict=True):
        matrix[t][p] += 1
    return matrix


def accuracy(labels, predictions, num_classes: int = NUM_CLASSES) -> float:
    labels, predictions = _checked(labels, predictions, num_classes)
    if not labels:
        return 0.0
    return sum(t == p for t, p in zip(labels, predictions, strict=True)) / len(labels)


def per_class_accuracy(labels, predictions, num_classes: int = NUM_CLASSES) -> list[float | None]:
    """Recall of each true class; None for a class with no test digits."""
    matrix = confusion_matrix(labels, predictions, num_classes)
    out = []
    for c, row in enumerate(matrix):
        total = sum(row)
        out.append(row[c] / total if total else None)
    return out


def misclassified(labels, predictions, num_classes: int = NUM_CLASSES) -> list[Mistake]:
    """Every wrongly classified test digit, in test order."""
    labels, predictions = _checked(labels, predictions, num_classes)
    return [Mistake(i, t, p) for i, (t, p) in enumerate(zip(labels, predictions, strict=True)) if t != p]


def most_confused(matrix: Sequence[Sequence[int]], k: int = 5) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count), largest first.

    Ties go to the smaller (true, predicted) so the order is stable.
    """
    cells = [(count, t, p) for t, row in enumerate(matrix) for p, count in enumerate(row) if t != p and count]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(t, p, count) for count, t, p in cells[:k]]


def disagreement(labels, predictions_a, predictions_b, num_classes: int = NUM_CLASSES) -> Disagreement:
    """Split the test digits by which of two runs (on the same test split) gets them right."""
    labels, a = _checked(labels, predictions_a, num_classes)
    _, b = _checked(labels, predictions_b, num_classes)
    only_a, only_b = [], []
    both_wrong = both_right = 0
    for i, (t, pa, pb) in enumerate(zip(labels, a, b, strict=True)):
        if pa == t and pb == t:
            both_right += 1
        elif pa == t:
            only_a.append(Mistake(i, t, pb))
        elif pb == t:
            only_b.append(Mistake(i, t, pa))
        else:
            both_wrong += 1
    return Disagreement(tuple(only_a), tuple(only_b), both_wrong, both_right)
