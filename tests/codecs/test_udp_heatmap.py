"""Tests of UDPHeatmap: hand-computed encode/decode cases, MMPose quirks 1/2/4, a round-trip property, and equivalence
with MMPose 1.3.2 on `codecs/udp_heatmap.npz` (both variants: encode, argmax, blur, decode, noisy decode)."""

import json

import numpy as np
import pytest
from golden_utils import load_golden
from hypothesis import given, settings
from hypothesis import strategies as st

from hfpose.codecs import UDPHeatmap, get_heatmap_maximum

VARIANTS = ["in192x256", "in256x256"]


@pytest.fixture(scope="module")
def codec():
    return UDPHeatmap(input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0, blur_kernel_size=11)


def test_scale_factor_is_udp(codec):
    np.testing.assert_allclose(codec.scale_factor, [191 / 47, 255 / 63], rtol=1e-7)
    assert codec.scale_factor.dtype == np.float32


def test_encode_corners_land_on_corner_pixels(codec):
    keypoints = np.array([[[0, 0], [191, 255], [95.5, 127.5]]], np.float32)
    encoded = codec.encode(keypoints, np.ones((1, 3)))
    heatmaps = encoded["heatmaps"]
    assert heatmaps.shape == (3, 64, 48) and heatmaps.dtype == np.float32
    assert heatmaps[0, 0, 0] == pytest.approx(1.0) and heatmaps[1, 63, 47] == pytest.approx(1.0)
    # (95.5, 127.5) / s = (23.5, 31.5): m = (24, 32); the four surrounding pixels are equal, not normalized.
    expected = np.exp(-(0.25 + 0.25) / 8)
    np.testing.assert_allclose(heatmaps[2, 31:33, 23:25], np.full((2, 2), expected), rtol=1e-5)
    assert heatmaps[2, 32, 30] > 0 and heatmaps[2, 32, 31] == 0 and heatmaps[2, 32, 18] > 0 and heatmaps[2, 32, 17] == 0


def test_weights_are_raw_visibility(codec):
    """Quirk 2: weights copy the visibility (0.49 stays 0.49 although nothing is drawn); 0 only if the window misses."""
    keypoints = np.array([[[50, 50], [50, 50], [50, 50], [-60, 20], [-6, 128], [195, 259]]], np.float32)
    visible = np.array([[0.5, 0.49, 0.0, 1.0, 1.0, 0.8]], np.float32)
    encoded = codec.encode(keypoints, visible)
    np.testing.assert_array_equal(encoded["keypoint_weights"], np.array([[0.5, 0.49, 0.0, 0.0, 1.0, 0.8]], np.float32))
    drawn = encoded["heatmaps"].reshape(6, -1).any(axis=1)
    assert drawn.tolist() == [True, False, False, False, True, True]


def test_decode_is_x_times_w_over_w_minus_1(codec):
    """Quirk 1: encode divides by (w-1)/(W-1), decode multiplies by w/(W-1)."""
    keypoints = np.array([[[60.3, 100.7], [120.0, 200.25]]], np.float32)
    heatmaps = codec.encode(keypoints)["heatmaps"]
    before = heatmaps.copy()
    decoded, scores = codec.decode(heatmaps)
    np.testing.assert_array_equal(heatmaps, before)  # decode must not modify its input
    assert decoded.shape == (1, 2, 2) and decoded.dtype == np.float64 and scores.shape == (1, 2)
    np.testing.assert_allclose(decoded, keypoints * np.array([192 / 191, 256 / 255]), atol=2e-4)
    locations, values = get_heatmap_maximum(heatmaps)
    np.testing.assert_array_equal(scores[0], values)


def test_empty_channel_decodes_to_nan_with_zero_score(codec):
    """Quirk 4: an all-zero channel gives NaN (0/0 in the blur rescale) and score 0; other channels are unaffected."""
    encoded = codec.encode(np.array([[[80, 90], [80, 90]]], np.float32), np.array([[1.0, 0.0]], np.float32))
    decoded, scores = codec.decode(encoded["heatmaps"])
    assert np.isnan(decoded[0, 1]).all() and scores[0, 1] == 0
    assert np.isfinite(decoded[0, 0]).all() and scores[0, 0] > 0.9


def test_bad_input(codec):
    with pytest.raises(ValueError, match=r"encoded must have shape \(K, 64, 48\)"):
        codec.decode(np.zeros((17, 48, 64), np.float32))
    with pytest.raises(ValueError, match="encoded"):
        codec.decode(np.zeros((1, 17, 64, 48), np.float32))
    with pytest.raises(ValueError, match="keypoints must have shape"):
        codec.encode(np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match="blur_kernel_size"):
        UDPHeatmap((192, 256), (48, 64), blur_kernel_size=10)
    # MMPose's UDPHeatmap.encode rejects N > 1 (top-down: one person per crop); so does ours, in one line.
    with pytest.raises(ValueError, match="one instance .* got 2 instances") as raised:
        codec.encode(np.full((2, 3, 2), 50.0, np.float32))
    assert "\n" not in str(raised.value)
    with pytest.raises(ValueError, match="got 0 instances"):
        codec.encode(np.zeros((0, 3, 2), np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        UDPHeatmap((192, 256), (1, 64))
    with pytest.raises(TypeError, match="input_size"):
        UDPHeatmap("192x256", (48, 64))


@settings(max_examples=60, deadline=None)
@given(
    variant=st.sampled_from([((192, 256), (48, 64)), ((256, 256), (64, 64)), ((288, 384), (72, 96))]),
    fractions=st.lists(
        st.tuples(st.floats(0, 1, allow_nan=False), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=4
    ),
    hidden=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_round_trip_property(variant, fractions, hidden):
    """decode(encode(x)) = x * w / (w - 1) within 2e-4 px for keypoints >= 7 heatmap px from the border (README);
    NaN exactly for the channels left empty (invisible keypoints)."""
    input_size, heatmap_size = variant
    codec = UDPHeatmap(input_size, heatmap_size)
    width, height = heatmap_size
    u = np.array([[7 + fx * (width - 15), 7 + fy * (height - 15)] for fx, fy in fractions])  # heatmap px in [7, W-8]
    keypoints = (u * codec.scale_factor).astype(np.float32)[None]
    visible = np.array([[0.0 if hide else 1.0 for hide in hidden[: len(fractions)]]], np.float32)
    decoded, scores = codec.decode(codec.encode(keypoints, visible)["heatmaps"])
    shown = visible[0] > 0
    assert np.isnan(decoded[0, ~shown]).all() and (scores[0, ~shown] == 0).all()
    assert np.isfinite(decoded[0, shown]).all()
    expected = keypoints[0].astype(np.float64) * np.array(input_size) / (np.array(input_size) - 1)
    np.testing.assert_allclose(decoded[0, shown], expected[shown], rtol=0, atol=2e-4)


# ------------------------------------------------------------------------------------------------------------- golden


def _golden(golden_dir, variant):
    z = load_golden(golden_dir, "codecs/udp_heatmap.npz")
    params = json.loads(str(z["params_json"]))["variants"][variant]
    assert params["heatmap_type"] == "gaussian"
    codec = UDPHeatmap(params["input_size"], params["heatmap_size"], params["sigma"], params["blur_kernel_size"])
    np.testing.assert_allclose(codec.scale_factor, params["scale_factor"], rtol=1e-7)
    return codec, (lambda key: z[f"{variant}_{key}"])


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
def test_golden_encode(golden_dir, variant):
    codec, g = _golden(golden_dir, variant)
    for case in range(g("encode_keypoints").shape[0]):
        encoded = codec.encode(g("encode_keypoints")[case], g("encode_keypoints_visible")[case])
        np.testing.assert_allclose(encoded["heatmaps"], g("encode_heatmaps")[case], rtol=0, atol=1e-6)
        np.testing.assert_array_equal(encoded["keypoint_weights"], g("encode_keypoint_weights")[case])


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("prefix", ["", "noisy_"], ids=["clean", "noisy"])
def test_golden_decode(golden_dir, variant, prefix):
    codec, g = _golden(golden_dir, variant)
    maps = g("encode_heatmaps") if prefix == "" else g("noisy_heatmaps")
    for case in range(maps.shape[0]):
        locations, values = get_heatmap_maximum(maps[case])
        np.testing.assert_array_equal(locations, g(f"{prefix}decode_argmax_locs")[case])
        np.testing.assert_array_equal(values, g(f"{prefix}decode_argmax_vals")[case])
        keypoints, scores = codec.decode(maps[case])
        expected = g(f"{prefix}decode_keypoints")[case]
        assert keypoints.dtype == np.float64
        np.testing.assert_array_equal(np.isnan(keypoints), np.isnan(expected))  # NaN exactly where MMPose has NaN
        np.testing.assert_allclose(keypoints, expected, rtol=0, atol=1e-3, equal_nan=True)
        np.testing.assert_array_equal(scores, g(f"{prefix}decode_scores")[case])
