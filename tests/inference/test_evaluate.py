"""The scorer behind the quality numbers: one-to-one matching, hard objects, confusions, AP."""

from __future__ import annotations

import pytest

from edge_agent.inference.detection import Detection
from edge_agent.inference.evaluate import TruthObject, score_image


def det(label: str, score: float, box: tuple[float, float, float, float]) -> Detection:
    return Detection(*box, score=score, class_id=0, label=label)


TRUTH = [
    TruthObject(("horse",), (0, 0, 100, 100), near=("cow",)),
    TruthObject(("person",), (200, 0, 240, 100)),
    TruthObject(("person",), (300, 0, 340, 100), hard=True),
]


def test_matching_counts() -> None:
    s = score_image(
        [
            det("horse", 0.9, (0, 0, 100, 100)),
            det("horse", 0.8, (2, 0, 100, 100)),  # a duplicate: the object is already taken -> false
            det("cow", 0.7, (0, 0, 100, 100)),  # a confusion, not absurd
            det("person", 0.6, (300, 0, 340, 100)),  # the hard one: found_hard, left out of AP
            det("car", 0.5, (500, 500, 600, 600)),  # on nothing: absurd
        ],
        TRUTH,
    )
    assert (s.found, s.missed, s.found_hard, s.false, s.confused) == (1, 1, 1, 3, 2)
    assert [d.label for d in s.absurd] == ["car"]
    assert s.recall == 0.5 and s.precision == pytest.approx(2 / 5)
    # ranked: TP 0.9, FP 0.8, FP 0.7, FP 0.5; 2 positives -> recall reaches 0.5 at precision 1
    assert s.average_precision() == pytest.approx(0.5)


def test_average_precision_takes_the_best_precision_to_the_right() -> None:
    s = score_image(
        [
            det("car", 0.95, (500, 500, 600, 600)),
            det("horse", 0.9, (0, 0, 100, 100)),
            det("person", 0.8, (200, 0, 240, 100)),
        ],
        TRUTH,
    )
    # FP, TP (r 0.5, p 0.5), TP (r 1.0, p 0.667): AP = 0.5 * 0.667 + 0.5 * 0.667
    assert s.average_precision() == pytest.approx(2 / 3)
