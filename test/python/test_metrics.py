"""utils/metrics.py against confusion matrices worked out by hand."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

SRC = Path(os.environ.get("SHEARS_SRC_ROOT", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SRC / "utils"))
import metrics  # noqa: E402


def test_three_classes():
    # Class 0: 2 of 3 right, one taken for 1; class 1: 1 of 2, one taken for
    # 2; class 2: 1 of 1; predictions of 1: two, one right.
    labels = [0, 0, 0, 1, 1, 2]
    predictions = [0, 0, 1, 1, 2, 2]
    m = metrics.classification(labels, predictions, 3)
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    np.testing.assert_allclose(m["per_class"]["precision"], [1, 1 / 2, 1 / 2])
    np.testing.assert_allclose(m["per_class"]["recall"], [2 / 3, 1 / 2, 1])
    f1 = [2 * 1 * (2 / 3) / (1 + 2 / 3), 1 / 2, 2 * 0.5 / 1.5]
    np.testing.assert_allclose(m["per_class"]["f1"], f1)
    assert m["macro_f1"] == pytest.approx(np.mean(f1))
    assert m["macro_precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["support"] == [3, 2, 1]


def test_class_never_predicted_or_present():
    # Class 2 is never predicted (precision 0) and class 1 never present
    # (recall 0); both count in the macro averages.
    m = metrics.classification([0, 2], [0, 1], 3)
    np.testing.assert_allclose(m["per_class"]["precision"], [1, 0, 0])
    np.testing.assert_allclose(m["per_class"]["recall"], [1, 0, 0])
    assert m["macro_f1"] == pytest.approx(1 / 3)


def test_bad_inputs():
    with pytest.raises(ValueError, match="must be in"):
        metrics.classification([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="1-D of one length"):
        metrics.classification([0, 1], [0], 3)


def test_recommender_top_k():
    """utils/recommender.py's recall@k, NDCG@k and hit@k on two users of four
    items. User 0 trained on item 0, holds out items 1 and 3; scores rank
    0 > 3 > 2 > 1, so with item 0 excluded the top 2 are 3, 2: recall 1/2,
    NDCG (1 / log2 2) / (1 + 1 / log2 3), a hit. User 1 trained on item 3,
    holds out item 0, ranked last: nothing."""
    import recommender
    data = {"train": np.array([[0, 0], [1, 3]]), "test": {0: np.array([1, 3]), 1: np.array([0])},
            "users": 2, "items": 4}
    table = np.array([[4.0, 1.0, 2.0, 3.0], [0.0, 3.0, 2.0, 1.0]])
    m = recommender.evaluate(lambda u, i: table[u, i], data, k=2)
    assert m["recall@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["ndcg@2"] == pytest.approx((1 / (1 + 1 / np.log2(3))) / 2)
    assert m["hit@2"] == pytest.approx(0.5)


def test_recommender_data_is_seeded():
    import recommender
    a, b = recommender.make_data(), recommender.make_data()
    np.testing.assert_array_equal(a["train"], b["train"])
    assert len(a["train"]) == recommender.USERS * (recommender.PER_USER - recommender.HELD_OUT)
    assert all(len(set(a["test"][u]) & set(a["train"][a["train"][:, 0] == u, 1])) == 0 for u in range(20))
