"""OKS and OKS-NMS: hand-computed cases, MMPose precision, bad input."""

import math

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.evaluation.coco import rescore_instances
from hfpose.evaluation.nms import oks_iou, oks_matrix, oks_nms
from hfpose.keypoints import COCO_KEYPOINTS


def test_oks_hand_computed():
    # sigmas (0.5, 0.25) -> (2 sigma)^2 = (1, 0.25); mean area 2; displacements 1 px along x, then along y.
    # e = d^2 / var / area / 2 -> (0.25, 1.0); OKS = (exp(-0.25) + exp(-1)) / 2.
    sigmas = [0.5, 0.25]
    a = np.zeros((2, 2))
    b = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    expected = (math.exp(-0.25) + math.exp(-1.0)) / 2
    value = oks_iou(a, 2.0, b, [2.0], sigmas=sigmas)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, [expected], rtol=1e-6)
    # areas 1 and 3 have the same mean as 2 and 2
    np.testing.assert_allclose(oks_iou(a, 1.0, b, [3.0], sigmas=sigmas), [expected], rtol=1e-6)


def test_oks_score_threshold_uses_common_keypoints():
    sigmas = [0.5, 0.25]
    a = np.zeros((2, 2))
    b = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    # only keypoint 0 has a score above 0.5 in both -> OKS = exp(-0.25)
    value = oks_iou(a, 2.0, b, [2.0], sigmas, keypoint_scores=[0.9, 0.9], other_keypoint_scores=[[0.9, 0.1]],
                    score_thr=0.5)  # fmt: skip
    np.testing.assert_allclose(value, [math.exp(-0.25)], rtol=1e-6)
    none = oks_iou(a, 2.0, b, [2.0], sigmas, keypoint_scores=[0.1, 0.1], other_keypoint_scores=[[0.9, 0.9]],
                   score_thr=0.5)  # fmt: skip
    assert none[0] == 0.0


def test_oks_matrix_symmetric_unit_diagonal():
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 100, size=(5, 17, 2))
    matrix = oks_matrix(keypoints, rng.uniform(500, 5000, size=5))
    np.testing.assert_array_equal(np.diag(matrix), np.ones(5, np.float32))
    np.testing.assert_array_equal(matrix, matrix.T)
    assert ((matrix >= 0) & (matrix <= 1)).all()


def _mmpose_style_oks(g, d, a_g, a_d, sigmas):
    """Per-row loop in MMPose's dtypes (float32 inputs, np.spacing(1) promotion), the oracle for the vectorized path."""
    variances = (sigmas * 2) ** 2
    out = np.zeros(len(d), dtype=np.float32)
    for n in range(len(d)):
        dx = d[n, :, 0] - g[:, 0]
        dy = d[n, :, 1] - g[:, 1]
        e = (dx**2 + dy**2) / variances / ((a_g + a_d[n]) / 2 + np.spacing(1)) / 2
        out[n] = np.sum(np.exp(-e)) / len(e)
    return out


def test_oks_matches_mmpose_dtype_path():
    rng = np.random.default_rng(1)
    keypoints = rng.normal(100, 5, size=(6, 17, 2)).astype(np.float32)
    areas = rng.uniform(1000, 3000, size=6).astype(np.float32)
    sigmas = np.asarray(COCO_KEYPOINTS.sigmas, dtype=np.float32)
    matrix = oks_matrix(keypoints, areas, sigmas)
    for i in range(6):
        np.testing.assert_array_equal(matrix[i], _mmpose_style_oks(keypoints[i], keypoints, areas[i], areas, sigmas))


def test_oks_nms_hand_case():
    base = np.tile(np.arange(17, dtype=np.float32)[:, None] * 10, (1, 2))
    keypoints = np.stack([base, base + 0.5, base + 300.0])  # 0 and 1 overlap, 2 is far away
    areas = np.full(3, 10000.0)
    keep = oks_nms(keypoints, np.array([0.9, 0.95, 0.5]), areas, thr=0.9)
    assert keep.dtype == np.int64
    assert keep.tolist() == [1, 2]
    # nothing suppressed when the threshold is 1
    assert oks_nms(keypoints, np.array([0.9, 0.95, 0.5]), areas, thr=1.0).tolist() == [1, 0, 2]


def test_oks_nms_threshold_is_inclusive():
    # identical instances have OKS exactly 1: kept for thr = 1 (MMPose keeps oks <= thr), suppressed below.
    keypoints = np.ones((2, 17, 2))
    assert oks_nms(keypoints, [0.5, 0.6], [100.0, 100.0], thr=1.0).tolist() == [1, 0]
    assert oks_nms(keypoints, [0.5, 0.6], [100.0, 100.0], thr=0.999).tolist() == [1]


def test_oks_nms_empty():
    assert oks_nms(np.zeros((0, 17, 2)), np.zeros(0), np.zeros(0)).shape == (0,)


@pytest.mark.golden
def test_oks_nms_golden_kept_mask(golden_dir):
    z = load_golden(golden_dir, "metrics/coco_keypoints.npz")
    image_ids = z["pred_image_id"]
    kept = np.zeros(len(image_ids), dtype=bool)
    # NMS runs on the bbox_keypoint scores (their equivalence with MMPose is tested in test_coco).
    scores = rescore_instances(z["pred_keypoint_scores"], z["pred_bbox_score"], "bbox_keypoint", 0.2)
    for image_id in np.unique(image_ids):
        rows = np.flatnonzero(image_ids == image_id)
        keep = oks_nms(z["pred_keypoints"][rows], scores[rows], z["pred_area"][rows], 0.9, z["sigmas"])
        kept[rows[keep]] = True
    np.testing.assert_array_equal(kept, z["mmpose_topdown_kept"])


@pytest.mark.parametrize(
    "keypoints, scores, areas, match",
    [
        (np.zeros((2, 16, 2)), [1, 1], [1, 1], "16 keypoints but sigmas has 17"),
        (np.zeros((2, 17)), [1, 1], [1, 1], r"shape \(N, K, 2\)"),
        (np.zeros((2, 17, 2)), [1], [1, 1], r"scores must have shape \(2,\)"),
        (np.zeros((2, 17, 2)), [1, 1], [1, np.nan], r"areas\[1\] is not finite"),
    ],
)
def test_oks_nms_bad_input(keypoints, scores, areas, match):
    with pytest.raises(ValueError, match=match):
        oks_nms(keypoints, scores, areas)


def test_oks_nms_nan_keypoints_named():
    keypoints = np.zeros((3, 17, 2))
    keypoints[2, 4, 1] = np.nan
    with pytest.raises(ValueError, match=r"keypoints\[2\] has a non-finite"):
        oks_nms(keypoints, [1, 2, 3], [1, 1, 1])
