"""Greedy IoU / OKS track matching (MMPose's rule) on hand-computed inputs."""

import math

import numpy as np
import pytest

from hfpose.video.tracking import PoseTracker, box_iou, pose_oks


def test_box_iou_by_hand():
    iou = box_iou([[0, 0, 2, 2], [10, 10, 1, 1]], [[1, 1, 2, 2], [0, 0, 2, 2], [0, 0, 0, 0]])
    np.testing.assert_allclose(iou, [[1 / 7, 1.0, 0.0], [0.0, 0.0, 0.0]], rtol=1e-12)


def test_pose_oks_by_hand():
    # K = 1, sigma 0.5 -> kappa = 1; d^2 = 2; s^2 = (1 + 3) / 2 = 2 -> exp(-2 / (2 * 1 * 2)) = exp(-0.5)
    oks = pose_oks([[[0.0, 0.0]]], [1.0], [[[1.0, 1.0]], [[0.0, 0.0]]], [3.0, 5.0], [0.5])
    np.testing.assert_allclose(oks, [[math.exp(-0.5), 1.0]], rtol=1e-9)
    with pytest.raises(ValueError, match="K = len\\(sigmas\\) = 2"):
        pose_oks(np.zeros((1, 3, 2)), [1.0], np.zeros((1, 3, 2)), [1.0], [0.1, 0.1])


def _frame(boxes):
    boxes = np.asarray(boxes, dtype=np.float64)
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    keypoints = np.repeat(centres[:, None], 4, axis=1) + np.arange(4)[None, :, None]
    return boxes, keypoints, np.ones((len(boxes), 4))


@pytest.mark.parametrize("method", ["iou", "oks"])
def test_ids_follow_people_in_any_order_and_new_people_get_new_ids(method):
    tracker = PoseTracker(method=method, sigmas=[0.1] * 4 if method == "oks" else None)
    a, b = [0, 0, 40, 80], [100, 0, 40, 80]
    assert tracker.update(*_frame([a, b])).tolist() == [0, 1]
    a2, b2 = [4, 2, 40, 80], [96, 1, 40, 80]
    assert tracker.update(*_frame([b2, a2])).tolist() == [1, 0]  # order swapped, ids kept
    far = [300, 300, 40, 80]
    assert tracker.update(*_frame([a2, far])).tolist() == [0, 2]  # b left; a newcomer gets the next id
    assert tracker.update(*_frame([b2])).tolist() == [3]  # b only looked up in the previous frame: a new id
    assert tracker.next_id == 4


def test_a_previous_person_is_used_up_by_the_first_match():
    tracker = PoseTracker(threshold=0.3)
    tracker.update(*_frame([[0, 0, 40, 80]]))
    # both overlap the previous box (IoU 1 and 0.82); the first in order takes id 0, the second starts id 1
    ids = tracker.update(*_frame([[0, 0, 40, 80], [0, 0, 40, 66]]))
    assert ids.tolist() == [0, 1]


def test_a_frame_without_people_ends_every_track():
    tracker = PoseTracker()
    assert tracker.update(*_frame([[0, 0, 40, 80]])).tolist() == [0]
    assert tracker.update(np.zeros((0, 4)), np.zeros((0, 4, 2)), np.zeros((0, 4))).tolist() == []
    assert tracker.update(*_frame([[0, 0, 40, 80]])).tolist() == [1]


def test_threshold_and_min_keypoints():
    tracker = PoseTracker(threshold=0.5, min_keypoints=3)
    tracker.update(*_frame([[0, 0, 40, 80]]))
    # IoU of [0,0,40,80] and [20,0,40,80] = 1600 / 4800 = 1/3 < 0.5: a new id
    assert tracker.update(*_frame([[20, 0, 40, 80]])).tolist() == [1]
    boxes, keypoints, scores = _frame([[500, 500, 40, 80]])
    scores[0, :2] = 0.0  # 2 keypoints with a positive score: too few for a new track
    assert tracker.update(boxes, keypoints, scores).tolist() == [-1]
    scores[0, 2] = 0.0
    keypoints[0, 3] = np.nan
    assert tracker.update(boxes, keypoints, scores).tolist() == [-1]


def test_bad_options_and_inputs():
    with pytest.raises(ValueError, match="'iou' or 'oks'"):
        PoseTracker(method="hungarian")
    with pytest.raises(ValueError, match="needs the keypoints' OKS sigmas"):
        PoseTracker(method="oks")
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\]"):
        PoseTracker(threshold=2)
    with pytest.raises(ValueError, match=r"for N = 2 boxes; got \(1, 4, 2\) and \(2, 4\)"):
        PoseTracker().update(np.zeros((2, 4)), np.zeros((1, 4, 2)), np.zeros((2, 4)))
