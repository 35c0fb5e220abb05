"""RegressionLabel against MMPose (codecs/regression_label.npz).

Tolerance (golden README): labels and decoded keypoints rtol 1e-6 (atol 1e-4 px); weights and scores exact.
"""

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.codecs import RegressionLabel


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_golden(golden_dir, "codecs/regression_label.npz")


@pytest.fixture(scope="module")
def codec(golden):
    return RegressionLabel(input_size=tuple(int(v) for v in golden["input_size"]))


@pytest.mark.golden
def test_encode_labels_and_weights(golden, codec):
    encoded = codec.encode(golden["encode_keypoints"], golden["encode_keypoints_visible"])
    np.testing.assert_allclose(encoded["keypoint_labels"], golden["encode_keypoint_labels"], rtol=1e-6, atol=0)
    np.testing.assert_array_equal(encoded["keypoint_weights"], golden["encode_keypoint_weights"])


@pytest.mark.golden
def test_decode(golden, codec):
    keypoints, scores = codec.decode(golden["decode_input"])
    np.testing.assert_allclose(keypoints, golden["decode_keypoints"], rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(scores, golden["decode_scores"])


@pytest.mark.golden
def test_decode_with_sigma(golden, codec):
    keypoints, scores = codec.decode(golden["decode_sigma_input"])
    np.testing.assert_allclose(keypoints, golden["decode_sigma_keypoints"], rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(scores, golden["decode_sigma_scores"])


@pytest.mark.golden
def test_roundtrip(golden, codec):
    encoded = codec.encode(golden["encode_keypoints"], golden["encode_keypoints_visible"])
    keypoints, _ = codec.decode(encoded["keypoint_labels"])
    np.testing.assert_allclose(keypoints, golden["roundtrip_keypoints"], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(keypoints, golden["encode_keypoints"], rtol=0, atol=1e-4)


def test_encode_boundaries_hand_computed():
    codec = RegressionLabel(input_size=(4, 8))
    keypoints = np.array([[[0, 0], [3, 7], [3.01, 1], [-0.01, 1], [1, 1], [1, 1]]], dtype=np.float32)
    visible = np.array([[1, 1, 1, 1, 0.5, 0.51]], dtype=np.float32)
    encoded = codec.encode(keypoints, visible)
    np.testing.assert_array_equal(encoded["keypoint_weights"], [[1, 1, 0, 0, 0, 1]])
    np.testing.assert_allclose(encoded["keypoint_labels"][0, 1], [0.75, 0.875])


def test_bad_input():
    codec = RegressionLabel(input_size=(192, 256))
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        codec.encode(np.zeros((17, 2)))
    with pytest.raises(ValueError, match="keypoints_visible"):
        codec.encode(np.zeros((1, 17, 2)), np.zeros((1, 16)))
    with pytest.raises(ValueError, match="2 .* or 4"):
        codec.decode(np.zeros((1, 17, 3)))
