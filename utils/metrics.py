"""Classification metrics: a confusion matrix and per-class and macro
precision, recall and F1, from labels and predictions (numpy only).

    m = metrics.classification(labels, predictions, classes=10)
    m["accuracy"], m["macro_f1"], m["per_class"]["recall"][3], m["confusion"][i][j]

confusion[i][j] counts the samples of class i predicted as j. A class never
predicted has precision 0, one never present recall 0 (sklearn's
zero_division=0), and both count in the macro averages.
"""
import numpy as np


def confusion_matrix(labels, predictions, classes):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} must be "
                         "1-D of one length")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= classes):
            raise ValueError(f"{name} must be in [0, {classes})")
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def classification(labels, predictions, classes):
    """{accuracy, macro_precision, macro_recall, macro_f1, per_class:
    {precision, recall, f1, support}, confusion} (lists, JSON-ready)."""
    matrix = confusion_matrix(labels, predictions, classes)
    hits = np.diag(matrix).astype(np.float64)
    predicted, present = matrix.sum(0), matrix.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        recall = np.where(present > 0, hits / present, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    total = matrix.sum()
    return {
        "accuracy": float(hits.sum() / total) if total else 0.0,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": {"precision": precision.tolist(), "recall": recall.tolist(),
                      "f1": f1.tolist(), "support": present.tolist()},
        "confusion": matrix.tolist(),
    }
