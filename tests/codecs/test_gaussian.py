"""Tests of the Gaussian heatmap drawing and DARK/UDP decoding helpers (hfpose.codecs.gaussian).

Hand-computed cases pin the conventions (integer pixel centres, trunc(u + 0.5) rounding, 13x13 window, skip rules);
golden cases compare with MMPose 1.3.2 (`codecs/udp_heatmap.npz`, blur step) and MMPose 0.29
(`bottomup029/*.npz`, `post_dark_udp` with kernel 3, the variant used by the bottom-up parser).
"""

import numpy as np
import pytest
from golden_utils import load_golden

from hfpose.codecs.gaussian import (
    gaussian_blur_heatmaps,
    generate_msra_heatmaps,
    generate_udp_heatmaps,
    get_heatmap_maximum,
    log_heatmaps,
    newton_refine_keypoints,
    refine_keypoints_dark_udp,
)

SIGMA = 2.0
OFFSETS = np.arange(-6, 7)
WINDOW_SUM = np.exp(-(OFFSETS**2) / 8.0).sum() ** 2  # sum of the full 13x13 MSRA window, sigma 2


def _one(x, y, visible=1.0):
    return np.array([[[x, y]]], dtype=np.float32), np.array([[visible]], dtype=np.float32)


# ---------------------------------------------------------------------------------------------------------------- MSRA


def test_msra_single_keypoint_is_centred_on_rounded_pixel():
    heatmaps, weights = generate_msra_heatmaps((32, 40), *_one(10.3, 20.6), sigma=SIGMA)
    assert heatmaps.shape == (1, 40, 32) and heatmaps.dtype == np.float32
    assert weights.tolist() == [[1.0]]
    # m = trunc((10.3, 20.6) + 0.5) = (10, 21); array element [y, x].
    assert heatmaps[0, 21, 10] == pytest.approx(1.0, abs=1e-7)
    assert heatmaps[0, 21, 16] == pytest.approx(np.exp(-36 / 8), rel=1e-6)  # window edge, |dx| = 6
    assert heatmaps[0, 15, 4] == pytest.approx(np.exp(-72 / 8), rel=1e-6)  # window corner
    assert heatmaps[0, 21, 17] == 0 and heatmaps[0, 14, 10] == 0  # |dx| = 7 / |dy| = 7: outside the window
    assert heatmaps[0, 22, 11] == pytest.approx(np.exp(-2 / 8), rel=1e-6)
    assert heatmaps.sum() == pytest.approx(WINDOW_SUM, rel=1e-6)
    assert np.count_nonzero(heatmaps) == 13 * 13


def test_msra_rounding_truncates_toward_zero():
    # u = -0.75: u + 0.5 = -0.25 truncates to 0 (floor would give -1).
    heatmaps, _ = generate_msra_heatmaps((16, 16), *_one(-0.75, 5.0))
    assert heatmaps[0, 5, 0] == pytest.approx(1.0)
    assert heatmaps[0, 5, 6] == pytest.approx(np.exp(-36 / 8), rel=1e-6) and heatmaps[0, 5, 7] == 0


def test_msra_skip_rules_and_weights():
    keypoints = np.array([[[5, 5], [5, 5], [69.6, 5], [69.4, 5], [-8.6, 5], [-7.6, 5]]], dtype=np.float32)
    visible = np.array([[0.49, 0.5, 1, 1, 1, 0.7]], dtype=np.float32)
    heatmaps, weights = generate_msra_heatmaps((64, 16), keypoints, visible)
    # vis < 0.5 is skipped but keeps its weight; 0.5 is drawn.
    assert not heatmaps[0].any() and weights[0, 0] == np.float32(0.49)
    assert heatmaps[1, 5, 5] == pytest.approx(1.0) and weights[0, 1] == 0.5
    # m = 70: m - 6 = 64 >= W, the window misses the map -> weight 0, nothing drawn.
    assert not heatmaps[2].any() and weights[0, 2] == 0
    # m = 69: only column 63 (dx = -6) is inside.
    assert np.flatnonzero(heatmaps[3].any(axis=0)).tolist() == [63]
    assert heatmaps[3, 5, 63] == pytest.approx(np.exp(-36 / 8), rel=1e-6) and weights[0, 3] == 1
    # m = trunc(-8.1) = -8: m + 7 < 0 -> miss.  m = trunc(-7.1) = -7: m + 7 = 0 is not a miss, although the
    # window [-13, 0] draws nothing (the reference's exclusive right edge), so the weight stays.
    assert not heatmaps[4].any() and weights[0, 4] == 0
    assert not heatmaps[5].any() and weights[0, 5] == np.float32(0.7)


def test_msra_channels_take_max_over_instances():
    keypoints = np.array([[[4, 4]], [[6, 4]]], dtype=np.float32)
    heatmaps, weights = generate_msra_heatmaps((16, 8), keypoints, np.ones((2, 1)))
    assert weights.shape == (2, 1)
    assert heatmaps[0, 4, 4] == pytest.approx(1.0) and heatmaps[0, 4, 6] == pytest.approx(1.0)
    assert heatmaps[0, 4, 5] == pytest.approx(np.exp(-1 / 8), rel=1e-6)  # max(exp(-1/8), exp(-1/8))
    assert heatmaps[0, 4, 11] == pytest.approx(np.exp(-25 / 8), rel=1e-6)  # dx = 5 from instance 1 only
    assert heatmaps[0, 4, 12] == pytest.approx(np.exp(-36 / 8), rel=1e-6)


# ----------------------------------------------------------------------------------------------------------------- UDP


def test_udp_single_keypoint_subpixel_gaussian_in_rounded_window():
    heatmaps, weights = generate_udp_heatmaps((32, 40), *_one(10.3, 20.6, visible=0.8), sigma=SIGMA)
    assert weights.tolist() == [[np.float32(0.8)]]
    assert heatmaps[0, 21, 10] == pytest.approx(np.exp(-(0.3**2 + 0.4**2) / 8), rel=1e-6)
    assert heatmaps[0, 21, 11] == pytest.approx(np.exp(-(0.7**2 + 0.4**2) / 8), rel=1e-6)
    assert heatmaps[0, 21, 16] == pytest.approx(np.exp(-(5.7**2 + 0.4**2) / 8), rel=1e-6)
    # The window is anchored on the rounded pixel (10, 21): columns 4..16, rows 15..27.
    assert heatmaps[0, 21, 17] == 0 and heatmaps[0, 21, 4] > 0 and heatmaps[0, 21, 3] == 0
    assert np.count_nonzero(heatmaps) == 13 * 13
    assert heatmaps.max() <= 1.0


def test_udp_integer_keypoint_equals_msra():
    keypoints, visible = _one(7.0, 9.0)
    udp, _ = generate_udp_heatmaps((20, 20), keypoints, visible)
    msra, _ = generate_msra_heatmaps((20, 20), keypoints, visible)
    np.testing.assert_allclose(udp, msra, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------------------------------------------------- decoding


def test_get_heatmap_maximum_first_argmax_and_nonpositive():
    heatmaps = np.zeros((3, 4, 5), dtype=np.float32)
    heatmaps[0, 1, 3] = heatmaps[0, 2, 0] = 0.7  # tie: row-major first is (x=3, y=1)
    heatmaps[1] = -1.0
    heatmaps[1, 3, 4] = -0.5  # maximum <= 0 -> (-1, -1)
    locations, values = get_heatmap_maximum(heatmaps)
    assert locations.dtype == np.float32
    assert locations.tolist() == [[3, 1], [-1, -1], [-1, -1]]
    np.testing.assert_array_equal(values, np.array([0.7, -0.5, 0.0], dtype=np.float32))
    batched_locations, batched_values = get_heatmap_maximum(np.stack([heatmaps, heatmaps[::-1]]))
    assert batched_locations.shape == (2, 3, 2) and batched_values.shape == (2, 3)
    assert batched_locations[1].tolist() == [[-1, -1], [-1, -1], [3, 1]]


def test_blur_kernel_3_reflect_is_binomial():
    heatmaps = np.zeros((1, 7, 7), dtype=np.float32)
    heatmaps[0, 3, 3] = 16.0
    blurred = gaussian_blur_heatmaps(heatmaps, 3, border="reflect_101", keep_max=False)
    expected = np.zeros((7, 7))
    expected[2:5, 2:5] = np.outer([1, 2, 1], [1, 2, 1])
    np.testing.assert_allclose(blurred[0], expected, atol=1e-6)
    # Reflect-101 at the border: an impulse at the corner sees its mirror image (gfedcb|abcdefgh).
    corner = np.zeros((1, 4, 4), dtype=np.float32)
    corner[0, 0, 0] = 16.0
    out = gaussian_blur_heatmaps(corner, 3, border="reflect_101", keep_max=False)[0]
    assert out[0, 0] == pytest.approx(4.0) and out[0, 1] == pytest.approx(2.0) and out[1, 1] == pytest.approx(1.0)


def _separable_zero_padded_blur(channel, sigma, radius):
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * sigma**2))
    taps /= taps.sum()
    padded = np.pad(channel.astype(np.float64), radius)
    rows = sum(taps[i] * padded[i : i + channel.shape[0], :] for i in range(2 * radius + 1))
    return sum(taps[i] * rows[:, i : i + channel.shape[1]] for i in range(2 * radius + 1))


def test_blur_kernel_11_zero_border_matches_float64_sigma_2():
    rng = np.random.default_rng(1)
    heatmaps = rng.random((2, 9, 13)).astype(np.float32)
    original = heatmaps.copy()
    blurred = gaussian_blur_heatmaps(heatmaps, 11, keep_max=False)
    np.testing.assert_array_equal(heatmaps, original)  # input untouched
    for k in range(2):
        np.testing.assert_allclose(blurred[k], _separable_zero_padded_blur(heatmaps[k], 2.0, 5), atol=1e-7)
    rescaled = gaussian_blur_heatmaps(heatmaps, 11)
    np.testing.assert_allclose(rescaled.max(axis=(1, 2)), heatmaps.max(axis=(1, 2)), rtol=1e-6)


def test_blur_all_zero_channel_becomes_nan_only_with_keep_max():
    heatmaps = np.zeros((2, 6, 6), dtype=np.float32)
    heatmaps[1, 2, 2] = 1
    with_max = gaussian_blur_heatmaps(heatmaps, 11)
    assert np.isnan(with_max[0]).all() and np.isfinite(with_max[1]).all()
    assert not np.isnan(gaussian_blur_heatmaps(heatmaps, 11, keep_max=False)).any()


def test_log_heatmaps_clips():
    out = log_heatmaps(np.array([0.0, 1e-4, 1.0, 100.0, np.nan], dtype=np.float32))
    np.testing.assert_allclose(out[:4], np.log([1e-3, 1e-3, 1.0, 50.0]), rtol=1e-6)
    assert np.isnan(out[4]) and out.dtype == np.float32


@pytest.mark.parametrize("centre", [(6.3, 4.8), (5.0, 5.0), (7.45, 3.55)])
def test_newton_step_is_exact_on_a_quadratic_log_map(centre):
    # L = -0.5 (p - c)^T A (p - c): central differences and the dxy stencil are exact on quadratics, so one Newton
    # step from any integer pixel lands on c (up to the 1.2e-7 damping and float32 rounding).
    a = np.array([[0.30, 0.08], [0.08, 0.20]])
    ys, xs = np.mgrid[0:10, 0:12]
    d = np.stack([xs - centre[0], ys - centre[1]], axis=-1)
    log_map = (-0.5 * np.einsum("...i,ij,...j->...", d, a, d)).astype(np.float32)[None]
    start = np.array([[[round(centre[0]), round(centre[1])]], [[4.0, 6.0]]], dtype=np.float32)
    refined = newton_refine_keypoints(start, log_map)
    assert refined.dtype == np.float32 and refined.shape == (2, 1, 2)
    np.testing.assert_allclose(refined, np.broadcast_to(np.array(centre), (2, 1, 2)), atol=2e-4)


def test_newton_step_nan_channel_gives_nan():
    log_map = np.zeros((2, 5, 5), dtype=np.float32)
    log_map[0] = np.nan
    refined = newton_refine_keypoints(np.array([[[-1, -1], [2, 2]]], dtype=np.float32), log_map)
    assert np.isnan(refined[0, 0]).all()
    np.testing.assert_allclose(refined[0, 1], [2, 2])  # flat log map: zero gradient, no move


def test_refine_does_not_modify_inputs():
    heatmaps, _ = generate_udp_heatmaps((16, 16), *_one(7.3, 8.6))
    keypoints = np.array([[[7, 9]]], dtype=np.float32)
    before_h, before_k = heatmaps.copy(), keypoints.copy()
    refined = refine_keypoints_dark_udp(keypoints, heatmaps, 11)
    np.testing.assert_array_equal(heatmaps, before_h)
    np.testing.assert_array_equal(keypoints, before_k)
    np.testing.assert_allclose(refined[0, 0], [7.3, 8.6], atol=2e-3)


# -------------------------------------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(heatmap_size=(0, 8)), ValueError, "heatmap_size"),
        (dict(heatmap_size=(8,)), TypeError, "heatmap_size"),
        (dict(keypoints=np.zeros((1, 2))), ValueError, "keypoints must have shape"),
        (dict(keypoints=np.full((1, 2, 2), np.nan)), ValueError, r"keypoint \[0, 0\]"),
        (dict(keypoints_visible=np.ones((2, 1))), ValueError, "keypoints_visible"),
        (dict(sigma=0.0), ValueError, "sigma"),
        (dict(sigma="2"), TypeError, "sigma"),
    ],
)
@pytest.mark.parametrize("draw", [generate_msra_heatmaps, generate_udp_heatmaps])
def test_drawing_rejects_bad_input(draw, kwargs, error, match):
    args = dict(heatmap_size=(8, 8), keypoints=np.ones((1, 2, 2)), keypoints_visible=None, sigma=2.0)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        draw(**args)


def test_decoding_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="heatmaps"):
        get_heatmap_maximum(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="kernel_size"):
        gaussian_blur_heatmaps(np.zeros((1, 4, 4)), 4)
    with pytest.raises(TypeError, match="kernel_size"):
        gaussian_blur_heatmaps(np.zeros((1, 4, 4)), 3.0)
    with pytest.raises(ValueError, match="border"):
        gaussian_blur_heatmaps(np.zeros((1, 4, 4)), 3, border="reflect")
    with pytest.raises(ValueError, match=r"keypoints must have shape \(N, 2, 2\)"):
        newton_refine_keypoints(np.zeros((1, 3, 2)), np.zeros((2, 4, 4)))


# ------------------------------------------------------------------------------------------------------------- golden


@pytest.mark.golden
@pytest.mark.parametrize("variant", ["in192x256", "in256x256"])
def test_golden_blur_step(golden_dir, variant):
    z = load_golden(golden_dir, "codecs/udp_heatmap.npz")
    blurred = gaussian_blur_heatmaps(z[f"{variant}_blur_input"], 11)
    np.testing.assert_allclose(blurred, z[f"{variant}_blur_output"], rtol=0, atol=1e-6)


@pytest.mark.golden
@pytest.mark.parametrize("model", ["hrnet_w32", "higherhrnet_w32"])
def test_golden_post_dark_udp_029_kernel_3(golden_dir, model):
    """MMPose 0.29 `post_dark_udp` (kernel 3, reflect-101 border, no rescale) on the parser's grouped keypoints."""
    z = load_golden(golden_dir, f"bottomup029/{model}.npz")
    cases = [("img0_test_gpu_", "img0_agg_heatmaps"), ("img1_test_gpu_", "img1_agg_heatmaps")]
    cases += [("syn0_gpu_", "syn0_heatmaps"), ("syn1_gpu_", "syn1_heatmaps")]
    for prefix, heatmap_key in cases:
        grouped = z[f"{prefix}grouped"]
        refined = refine_keypoints_dark_udp(
            grouped[..., :2], z[heatmap_key][0], 3, border="reflect_101", keep_max=False
        )
        np.testing.assert_allclose(refined, z[f"{prefix}dark_xy_out"], rtol=0, atol=1e-4, err_msg=prefix)
