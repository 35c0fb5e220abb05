"""PCK of the box size, AUC and EPE on hand-computed inputs."""

import numpy as np
import pytest

from hfpose.evaluation.pck import (
    keypoint_auc,
    keypoint_epe,
    keypoint_pck_accuracy,
    match_predictions_to_annotations,
    pck_metrics,
)


@pytest.fixture
def case():
    # two persons, three keypoints; errors: person 0 keypoint 0 is 5 px off (3-4-5), person 1 keypoint 1 is 50 px
    gt = np.zeros((2, 3, 2))
    pred = gt.copy()
    pred[0, 0] = [3, 4]
    pred[1, 1] = [30, 40]
    mask = np.ones((2, 3), dtype=bool)
    mask[1, 2] = False
    return pred, gt, mask


def test_pck_by_hand(case):
    pred, gt, mask = case
    # normalized distances: 5 / 20 = 0.25 (> 0.2, wrong), 50 / 100 = 0.5 (wrong), the rest 0
    accuracy, mean, count = keypoint_pck_accuracy(pred, gt, mask, 0.2, np.array([20.0, 100.0]))
    np.testing.assert_allclose(accuracy, [0.5, 0.5, 1.0])
    assert mean == pytest.approx(2 / 3) and count == 3
    accuracy, mean, _ = keypoint_pck_accuracy(pred, gt, mask, 0.3, np.array([20.0, 100.0]))
    np.testing.assert_allclose(accuracy, [1.0, 0.5, 1.0])


def test_invisible_keypoints_and_empty_boxes_are_ignored(case):
    pred, gt, mask = case
    mask[:, 0] = False
    accuracy, mean, count = keypoint_pck_accuracy(pred, gt, mask, 0.2, np.array([0.0, 100.0]))  # person 0 ignored
    np.testing.assert_allclose(accuracy, [-1.0, 0.0, -1.0])
    assert mean == 0.0 and count == 1


def test_auc_and_epe_by_hand(case):
    pred, gt, mask = case
    # distances / 30 px: 1/6 and 5/3; thresholds 0, 0.05, ..., 0.95: 0 at thr 0, 2/3 for 0.05-0.15, 5/6 from 0.2 on
    assert keypoint_auc(pred, gt, mask) == pytest.approx((0 + 3 * 2 / 3 + 16 * 5 / 6) / 20)
    assert keypoint_epe(pred, gt, mask) == pytest.approx((5 + 50) / 5)


def test_pck_metrics_use_the_larger_box_side(case):
    pred, gt, mask = case
    metrics = pck_metrics(pred, gt, mask, [[0, 0, 20, 10], [5, 5, 50, 100]])
    assert metrics["PCK@0.2"] == pytest.approx(2 / 3) and metrics["EPE"] == pytest.approx(11.0)


def test_matching_by_annotation_id_and_shape_errors():
    annotations = [
        {"id": 7, "image_id": 1, "bbox": [0, 0, 10, 20], "keypoints": [1, 1, 2, 5, 5, 0]},
        {"id": 8, "image_id": 1, "bbox": [0, 0, 10, 20], "keypoints": [2, 2, 2, 3, 3, 1]},
    ]
    predictions = [{"id": 8, "keypoints": [[2, 3], [3, 3]]}]
    pred, gt, mask, boxes = match_predictions_to_annotations(predictions, annotations)
    assert pred.shape == (1, 2, 2) and mask.tolist() == [[True, True]] and boxes.tolist() == [[0, 0, 10, 20]]
    with pytest.raises(ValueError, match="ground-truth boxes"):
        match_predictions_to_annotations([{"id": 99, "keypoints": [[0, 0], [0, 0]]}], annotations)
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        keypoint_epe(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), np.ones((1, 2)))
