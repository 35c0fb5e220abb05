"""Tests of IntegralRegressionLabel: hand-computed MSRA/normalization cases, quirk 2 weights, MMPose 1.3.2 golden."""

import json

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.codecs import IntegralRegressionLabel

OFFSETS = np.arange(-6, 7)
WINDOW_SUM = np.exp(-(OFFSETS**2) / 8.0).sum() ** 2  # full 13x13 MSRA window, sigma 2


@pytest.fixture(scope="module")
def codec():
    return IntegralRegressionLabel(input_size=(256, 256), heatmap_size=(64, 64), sigma=2.0, normalize=True)


def test_single_keypoint_normalized_heatmap(codec):
    encoded = codec.encode(np.array([[[128.0, 64.0]]]), np.ones((1, 1)))
    heatmaps = encoded["heatmaps"]
    assert heatmaps.shape == (1, 64, 64) and heatmaps.dtype == np.float32
    assert heatmaps.sum() == pytest.approx(1.0, rel=1e-6)
    # u = (32, 16) heatmap px; array element [y, x].
    assert np.unravel_index(heatmaps.argmax(), heatmaps.shape) == (0, 16, 32)
    assert heatmaps[0, 16, 32] == pytest.approx(1 / WINDOW_SUM, rel=1e-6)
    assert heatmaps[0, 16, 38] == pytest.approx(np.exp(-36 / 8) / WINDOW_SUM, rel=1e-6)
    assert heatmaps[0, 16, 39] == 0
    np.testing.assert_allclose(encoded["keypoint_labels"], [[[0.5, 0.25]]], rtol=1e-7)
    assert encoded["keypoint_weights"].tolist() == [[1.0]]


def test_unnormalized_peak_is_one():
    codec = IntegralRegressionLabel((256, 256), (64, 64), 2.0, normalize=False)
    heatmaps = codec.encode(np.array([[[130.0, 66.0]]]))["heatmaps"]  # u = (32.5, 16.5) -> m = (33, 17)
    assert heatmaps[0, 17, 33] == pytest.approx(1.0)
    assert heatmaps.sum() == pytest.approx(WINDOW_SUM, rel=1e-6)


def test_weights_follow_regression_rule_not_heatmap(codec):
    """Quirk 2: weights need 0 <= x <= w-1, 0 <= y <= h-1 and vis > 0.5; drawing needs vis >= 0.5 only."""
    keypoints = np.array([[[-1, 100], [100, 100], [100, 100], [100, 100], [255.4, 10], [-200, 50]]], np.float32)
    visible = np.array([[1, 0.5, 0.49, 0.51, 1, 1]], np.float32)
    encoded = codec.encode(keypoints, visible)
    heatmaps, weights = encoded["heatmaps"], encoded["keypoint_weights"]
    sums = heatmaps.sum(axis=(1, 2))
    # k0 just outside the input: drawn (u = -0.25 -> m = 0, a cut window renormalized to 1) but weight 0.
    assert sums[0] == pytest.approx(1.0, rel=1e-6) and heatmaps[0, 25, 0] == heatmaps[0].max()
    assert weights[0, 0] == 0
    # vis 0.5: drawn, weight 0.  vis 0.49: not drawn, weight 0.  vis 0.51: drawn, weight 1.
    assert sums[1] == pytest.approx(1.0, rel=1e-6) and weights[0, 1] == 0
    assert sums[2] == 0 and weights[0, 2] == 0
    assert sums[3] == pytest.approx(1.0, rel=1e-6) and weights[0, 3] == 1
    # x = 255.4 > w - 1: drawn (m = 64 -> window still overlaps) but weight 0.
    assert sums[4] == pytest.approx(1.0, rel=1e-6) and weights[0, 4] == 0
    # Far outside: the channel stays all zero (no NaN from the 1e-24 guard).
    assert not heatmaps[5].any() and weights[0, 5] == 0
    assert np.isfinite(heatmaps).all()


def test_default_visibility_and_decode(codec):
    keypoints = np.array([[[10.5, 20.25], [300.0, -4.0]]], np.float32)
    encoded = codec.encode(keypoints)
    assert encoded["keypoint_weights"].tolist() == [[1.0, 0.0]]
    decoded, scores = codec.decode(encoded["keypoint_labels"])
    assert decoded.dtype == np.float64 and scores.dtype == np.float32
    np.testing.assert_allclose(decoded, keypoints, atol=1e-4)
    assert scores.tolist() == [[1.0, 1.0]]


def test_bad_input(codec):
    with pytest.raises(ValueError, match="keypoints must have shape"):
        codec.encode(np.zeros((17, 2)))
    with pytest.raises(ValueError, match="keypoints_visible"):
        codec.encode(np.zeros((1, 17, 2)), np.ones((1, 16)))
    with pytest.raises(ValueError, match="encoded"):
        codec.decode(np.zeros((1, 17, 4)))
    with pytest.raises(ValueError, match="heatmap_size"):
        IntegralRegressionLabel((256, 256), (64, -1))
    with pytest.raises(ValueError, match="sigma"):
        IntegralRegressionLabel((256, 256), (64, 64), sigma=-2.0)


def _golden_codec(z):
    params = json.loads(str(z["params_json"]))
    assert params["unbiased"] is False and params["blur_kernel_size"] == 11  # the only mode implemented
    return IntegralRegressionLabel(params["input_size"], params["heatmap_size"], params["sigma"], params["normalize"])


@pytest.mark.golden
def test_golden_encode(golden_dir):
    z = load_golden(golden_dir, "codecs/integral_regression_label.npz")
    codec = _golden_codec(z)
    for case in range(z["encode_keypoints"].shape[0]):
        encoded = codec.encode(z["encode_keypoints"][case], z["encode_keypoints_visible"][case])
        np.testing.assert_allclose(encoded["heatmaps"], z["encode_heatmaps"][case], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(encoded["keypoint_labels"], z["encode_keypoint_labels"][case], rtol=1e-6)
        np.testing.assert_array_equal(encoded["keypoint_weights"], z["encode_keypoint_weights"][case])


@pytest.mark.golden
def test_golden_decode(golden_dir):
    z = load_golden(golden_dir, "codecs/integral_regression_label.npz")
    codec = _golden_codec(z)
    keypoints, scores = codec.decode(z["decode_input"])
    assert keypoints.dtype == np.float64
    np.testing.assert_allclose(keypoints, z["decode_keypoints"], rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(scores, z["decode_scores"])
