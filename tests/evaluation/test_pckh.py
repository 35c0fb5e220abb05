"""MPII PCKh: equivalence with MMPose MpiiPCKAccuracy (golden, exact), hand-computed cases, bad input."""

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.evaluation.pckh import (
    PCKH_STAT_NAMES,
    compute_pckh,
    head_sizes_from_headboxes,
    load_mpii_ground_truth,
    load_mpii_headboxes,
    pckh_per_joint,
    synthetic_head_boxes,
)


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_golden(golden_dir, "metrics/pckh.npz")


@pytest.fixture(scope="module")
def ground_truth(mpii_mini):
    return load_mpii_ground_truth(mpii_mini / "annotations" / "mpii_sample.json")


@pytest.mark.golden
def test_ground_truth_and_synthetic_head_sizes_match_golden(golden, ground_truth):
    assert ground_truth["image_names"] == [str(name) for name in golden["image_names"]]
    np.testing.assert_array_equal(ground_truth["keypoints"], golden["gt_keypoints"])
    np.testing.assert_array_equal(ground_truth["keypoints_visible"], golden["gt_keypoints_visible"])
    np.testing.assert_array_equal(ground_truth["headboxes"], golden["headboxes"])
    np.testing.assert_array_equal(ground_truth["head_size"], golden["head_size"])
    np.testing.assert_array_equal(head_sizes_from_headboxes(golden["headboxes"]), golden["head_size"])


@pytest.mark.golden
@pytest.mark.parametrize("thr, suffix", [(0.5, "0_5"), (0.1, "0_1")])
def test_per_joint_matches_golden(golden, ground_truth, thr, suffix):
    result = pckh_per_joint(
        golden["pred_keypoints"], ground_truth["keypoints"], ground_truth["keypoints_visible"],
        ground_truth["head_size"], thr,
    )  # fmt: skip
    assert result["normalized_distances"].dtype == np.float32
    np.testing.assert_array_equal(result["normalized_distances"], golden["normalized_distances"])
    np.testing.assert_array_equal(result["joint_count"], golden["joint_count"])
    np.testing.assert_array_equal(result["accuracy"], golden[f"per_joint_pckh_{suffix}"])
    assert result["mean_accuracy"] == float(golden[f"mean_pckh_{suffix}_all_joints"])


@pytest.mark.golden
@pytest.mark.parametrize("thr, key", [(0.5, "stats_thr0_5"), (0.1, "stats_thr0_1")])
def test_stats_match_golden_exactly(golden, ground_truth, thr, key):
    stats = compute_pckh(
        golden["pred_keypoints"], ground_truth["keypoints"], ground_truth["keypoints_visible"],
        ground_truth["head_size"], thresholds=(thr, 0.1),
    )  # fmt: skip
    assert tuple(stats) == tuple(str(name) for name in golden["stat_names"]) == PCKH_STAT_NAMES
    np.testing.assert_array_equal(np.array(list(stats.values())), golden[key])


@pytest.mark.golden
def test_official_mat_layout_round_trip(golden, mpii_mini, tmp_path):
    from scipy.io import savemat

    path = tmp_path / "mpii_gt_val.mat"
    savemat(path, {"headboxes_src": np.transpose(golden["headboxes"], (1, 2, 0))})  # (2, 2, N)
    np.testing.assert_array_equal(load_mpii_headboxes(path), golden["headboxes"])
    loaded = load_mpii_ground_truth(mpii_mini / "annotations" / "mpii_sample.json", headbox_file=path)
    np.testing.assert_array_equal(loaded["head_size"], golden["head_size"])


def test_hand_computed_pckh():
    """One person, head size 10, GT at 0. The prediction of joint j is placed so that ||pred + 1 - gt|| = d_j."""
    distances = np.array([0.0, 0.4, 0.5, 0.7, 0.05, 0.6, 0.0, 0.0, 0.3, 0.45, 0.2, 0.55, 0.1, 0.09, 0.3, 0.49])
    head_size = 10.0
    gt = np.zeros((1, 16, 2))
    pred = np.stack([distances * head_size - 1.0, np.full(16, -1.0)], axis=-1)[None]
    visible = np.ones((1, 16))
    visible[0, 15] = 0  # l_wrist invisible: excluded from counts
    stats = compute_pckh(pred, gt, visible, [head_size])
    hit = distances < 0.5  # strict: 0.5 itself misses
    assert stats["Head PCK"] == 100.0  # joint 9: 0.45
    assert stats["Shoulder PCK"] == 100.0  # 12: 0.1, 13: 0.09
    assert stats["Elbow PCK"] == 50.0  # 11: 0.55 miss, 14: 0.3 hit
    assert stats["Wrist PCK"] == 0.5 * (100.0 + -100.0)  # 10 hit; 15 has no visible instance -> MMPose's -1
    assert stats["Hip PCK"] == 0.0  # 2: exactly 0.5 misses (strict <), 3: 0.7 misses
    assert stats["Knee PCK"] == 100.0  # 1: 0.4, 4: 0.05
    assert stats["Ankle PCK"] == 50.0  # 0: 0.0 hit, 5: 0.6 miss
    counted = [j for j in range(15) if j not in (6, 7)]  # joint 15 invisible, pelvis/thorax excluded
    np.testing.assert_allclose(stats["PCK"], 100.0 * hit[counted].mean(), rtol=1e-12)
    np.testing.assert_allclose(stats["PCK@0.1"], 100.0 * (distances[counted] < 0.1).mean(), rtol=1e-6)


def test_plus_one_shift_and_zero_head_size():
    gt = np.zeros((2, 16, 2))
    visible = np.ones((2, 16))
    # a prediction equal to the GT is off by (1, 1) px after MMPose's +1: distance sqrt(2)/head_size
    result = pckh_per_joint(gt, gt, visible, [10.0, 0.0], thr=0.5)
    np.testing.assert_allclose(result["normalized_distances"][0], np.sqrt(2) / 10, rtol=1e-6)
    np.testing.assert_array_equal(result["normalized_distances"][1], -1)  # head size 0: instance ignored
    np.testing.assert_array_equal(result["accuracy"], 1.0)
    stats = compute_pckh(gt - 1.0, gt, visible, [10.0, 10.0])  # exact after the shift
    assert stats["PCK"] == 100.0 and stats["PCK@0.1"] == 100.0


def test_synthetic_head_boxes_hand_computed():
    boxes = synthetic_head_boxes([[10.0, 0.0]], [[10.0, 8.0]])  # L = 8, centre (10, 4)
    np.testing.assert_array_equal(boxes, [[[6.0, 0.0], [14.0, 8.0]]])
    np.testing.assert_allclose(head_sizes_from_headboxes(boxes), [0.6 * np.sqrt(2) * 8], rtol=1e-15)


def test_invisible_nan_is_allowed_visible_nan_is_not():
    gt = np.zeros((1, 16, 2))
    pred = gt.copy()
    pred[0, 3] = np.nan
    visible = np.ones((1, 16))
    with pytest.raises(ValueError, match=r"pred\[0, 3\] of a visible joint is not finite"):
        compute_pckh(pred, gt, visible, [10.0])
    visible[0, 3] = 0
    assert np.isfinite(compute_pckh(pred, gt, visible, [10.0])["PCK"])


@pytest.mark.parametrize(
    "pred, gt, visible, head_size, match",
    [
        (np.zeros((1, 16, 3)), np.zeros((1, 16, 3)), np.ones((1, 16)), [1.0], r"pred must have shape \(N, K, 2\)"),
        (np.zeros((1, 16, 2)), np.zeros((2, 16, 2)), np.ones((1, 16)), [1.0], "gt must have the shape"),
        (np.zeros((1, 16, 2)), np.zeros((1, 16, 2)), np.ones((1, 17)), [1.0], "visible must have shape"),
        (np.zeros((1, 16, 2)), np.zeros((1, 16, 2)), np.ones((1, 16)), [1.0, 2.0], "head_size must have shape"),
        (np.zeros((1, 16, 2)), np.zeros((1, 16, 2)), np.ones((1, 16)), [np.inf], r"head_size\[0\] is not finite"),
        (np.zeros((1, 17, 2)), np.zeros((1, 17, 2)), np.ones((1, 17)), [1.0], "16 MPII joints"),
    ],
)
def test_compute_pckh_bad_input(pred, gt, visible, head_size, match):
    with pytest.raises(ValueError, match=match):
        compute_pckh(pred, gt, visible, head_size)


def test_headbox_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(N, 2, 2\)"):
        head_sizes_from_headboxes(np.zeros((3, 4)))
    with pytest.raises(FileNotFoundError):
        load_mpii_headboxes(tmp_path / "missing.mat")
    from scipy.io import savemat

    savemat(tmp_path / "bad.mat", {"other": np.zeros(3)})
    with pytest.raises(ValueError, match="no 'headboxes_src'"):
        load_mpii_headboxes(tmp_path / "bad.mat")
