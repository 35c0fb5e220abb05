"""Property-based bad-input tests of the codecs (`hfpose.codecs`, associative embedding excepted).

Invariants checked on every generated case (issue 7): a call returns finite targets / decoded keypoints with scores
in ``[0, 1]`` and the documented round trip, or raises `ValueError` / `TypeError` naming the argument and index.

One documented exception, kept for MMPose fidelity (golden ``codecs/udp_heatmap.npz``, quirk 4): `UDPHeatmap.decode`
of an all-zero channel gives NaN coordinates with score 0; the property asserts NaN appears exactly there. Its scores
are the raw channel maxima (MMPose), so they lie in ``[0, 1]`` exactly when the heatmaps do.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import reliability_tally as tally
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfpose.codecs import (
    IntegralRegressionLabel,
    RegressionLabel,
    UDPHeatmap,
    flip_bbox,
    flip_coordinates,
    flip_heatmaps,
    flip_keypoints,
    generate_msra_heatmaps,
    generate_udp_heatmaps,
)

SETTINGS = settings(
    max_examples=tally.EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
SPECIAL = [math.nan, math.inf, -math.inf, 1e30, -1e30, 3.4e38, 1e39, -0.0, 1e-45]
KEYPOINT_ERROR = r"(keypoint \[\d+, \d+\]|keypoints_visible\[\d+, \d+\])"


@st.composite
def keypoint_sets(draw, extent: float = 80.0, max_n: int = 3, max_k: int = 5, min_n: int = 0):
    """``(keypoints (N, K, 2), visible (N, K))`` with occasional special values."""
    n, k = draw(st.integers(min_n, max_n)), draw(st.integers(1, max_k))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    keypoints = rng.uniform(-0.5 * extent, 1.5 * extent, (n, k, 2))
    visible = rng.choice([0.0, 0.3, 0.49, 0.5, 0.51, 1.0, 2.0], size=(n, k))
    for _ in range(draw(st.integers(0, 2))):
        if n:
            target = draw(st.sampled_from(["keypoints", "visible"]))
            array = keypoints if target == "keypoints" else visible
            array.flat[draw(st.integers(0, array.size - 1))] = draw(st.sampled_from(SPECIAL + [-1.0]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return keypoints.astype(dtype), visible.astype(np.float32)


def _finite32(keypoints) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.isfinite(np.asarray(keypoints).astype(np.float32))


def _inputs_valid(keypoints, visible) -> bool:
    return bool(_finite32(keypoints).all() and np.isfinite(visible).all() and (visible >= 0).all())


# ------------------------------------------------------------------------------------------------ RegressionLabel


@SETTINGS
@given(data=st.data(), width=st.integers(1, 300), height=st.integers(1, 300))
def test_regression_label_encode(data, width, height):
    keypoints, visible = data.draw(keypoint_sets(extent=max(width, height)))
    codec = RegressionLabel((width, height))
    result, error = tally.call("codecs.RegressionLabel.encode", codec.encode, keypoints, visible, names=KEYPOINT_ERROR)
    if error is not None:
        assert not _inputs_valid(keypoints, visible), f"valid input rejected: {error}"
        return
    assert _inputs_valid(keypoints, visible)
    labels, weights = result["keypoint_labels"], result["keypoint_weights"]
    assert np.isfinite(labels).all() and labels.dtype == np.float32
    np.testing.assert_allclose(
        labels * np.array([width, height], np.float32), keypoints.astype(np.float32), rtol=1e-6, atol=1e-6
    )
    kp = keypoints.astype(np.float32)
    inside = (kp[..., 0] >= 0) & (kp[..., 0] <= width - 1) & (kp[..., 1] >= 0) & (kp[..., 1] <= height - 1)
    np.testing.assert_array_equal(weights, (inside & (visible > 0.5)).astype(np.float32))


@SETTINGS
@given(data=st.data(), channels=st.sampled_from([2, 4]), use_torch=st.booleans())
def test_regression_label_decode(data, channels, use_torch):
    n, k = data.draw(st.integers(0, 3)), data.draw(st.integers(1, 5))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    encoded = rng.uniform(-0.5, 1.5, (n, k, channels)).astype(np.float32)
    if channels == 4:
        encoded[..., 2:] = rng.random((n, k, 2))
    if n and data.draw(st.booleans()):
        encoded.flat[data.draw(st.integers(0, encoded.size - 1))] = data.draw(st.sampled_from(SPECIAL + [-0.5, 1.5]))
    codec = RegressionLabel((192, 256))
    argument = torch.from_numpy(encoded) if use_torch else encoded
    result, error = tally.call("codecs.RegressionLabel.decode", codec.decode, argument, names=r"encoded\[\d+, \d+\]")
    valid = np.isfinite(encoded[..., :2]).all() and (
        channels == 2 or bool(((encoded[..., 2:] >= 0) & (encoded[..., 2:] <= 1)).all())
    )
    if error is not None:
        assert not valid, f"valid input rejected: {error}"
        return
    assert valid, "invalid encoded values accepted"
    keypoints, scores = result
    assert np.isfinite(keypoints).all() and keypoints.shape == (n, k, 2)
    assert ((scores >= 0) & (scores <= 1)).all() and scores.shape == (n, k)
    np.testing.assert_allclose(keypoints, encoded[..., :2].astype(np.float64) * [192, 256], rtol=1e-6)


# ------------------------------------------------------------------------------------------ IntegralRegressionLabel


@SETTINGS
@given(
    data=st.data(),
    heatmap=st.tuples(st.integers(1, 24), st.integers(1, 24)),
    factor=st.sampled_from([1, 2, 4]),
    sigma=st.sampled_from([0.5, 1.0, 2.0, 3.3, 50.0, 1e4]),
)
def test_integral_regression_label_encode(data, heatmap, factor, sigma):
    input_size = (heatmap[0] * factor, heatmap[1] * factor)
    keypoints, visible = data.draw(keypoint_sets(extent=max(input_size)))
    codec = IntegralRegressionLabel(input_size, heatmap, sigma=sigma, normalize=True)
    result, error = tally.call(
        "codecs.IntegralRegressionLabel.encode", codec.encode, keypoints, visible, names=KEYPOINT_ERROR
    )
    if error is not None:
        assert not _inputs_valid(keypoints, visible), f"valid input rejected: {error}"
        return
    assert _inputs_valid(keypoints, visible)
    heatmaps = result["heatmaps"]
    assert heatmaps.shape == (keypoints.shape[1], heatmap[1], heatmap[0])
    assert np.isfinite(heatmaps).all() and heatmaps.min() >= 0 and heatmaps.max() <= 1
    sums = heatmaps.sum(axis=(1, 2))
    assert np.all((np.abs(sums - 1) < 1e-4) | (sums == 0))  # a probability map, or empty
    assert np.isfinite(result["keypoint_labels"]).all()
    assert set(np.unique(result["keypoint_weights"]).tolist()) <= {0.0, 1.0}


# ------------------------------------------------------------------------------------------------------ UDPHeatmap


@SETTINGS
@given(
    data=st.data(), heatmap=st.tuples(st.integers(2, 32), st.integers(2, 32)), sigma=st.sampled_from([1.0, 2.0, 3.0])
)
def test_udp_heatmap_encode_decode(data, heatmap, sigma):
    input_size = (heatmap[0] * 4, heatmap[1] * 4)
    codec = UDPHeatmap(input_size, heatmap, sigma=sigma, blur_kernel_size=11)
    keypoints, visible = data.draw(keypoint_sets(extent=max(input_size), max_n=1, min_n=1))
    result, error = tally.call("codecs.UDPHeatmap.encode", codec.encode, keypoints, visible, names=KEYPOINT_ERROR)
    if error is not None:
        assert not _inputs_valid(keypoints, visible), f"valid input rejected: {error}"
        return
    heatmaps, weights = result["heatmaps"], result["keypoint_weights"]
    assert np.isfinite(heatmaps).all() and heatmaps.min() >= 0 and heatmaps.max() <= 1
    assert np.all((weights == 0) | (weights == visible))  # raw visibility, 0 where the window misses the map
    (decoded, scores), error = tally.call("codecs.UDPHeatmap.decode(encode round trip)", codec.decode, heatmaps)
    assert error is None
    empty = heatmaps.reshape(len(heatmaps), -1).max(axis=1) == 0
    assert np.isnan(decoded[0, empty]).all() and (scores[0, empty] == 0).all()  # MMPose quirk 4, documented
    assert np.isfinite(decoded[0, ~empty]).all()
    assert ((scores >= 0) & (scores <= 1)).all()
    # Round trip (documented MMPose factor w / (w - 1)) for points drawn well inside the map.
    scale = (np.array(input_size) - 1) / (np.array(heatmap) - 1)
    u = keypoints[0].astype(np.float32) / scale.astype(np.float32)
    # DARK is exact only for untruncated Gaussians: keep points 3 sigma + 2 px (window and blur) from the border.
    margin = 3 * sigma + 2
    interior = (~empty) & np.all((u >= margin) & (u <= np.array(heatmap) - 1 - margin), axis=-1)
    expected = keypoints[0].astype(np.float64) * np.array(input_size) / (np.array(input_size) - 1)
    np.testing.assert_allclose(decoded[0, interior], expected[interior], atol=0.1 * scale.max())  # 0.1 heatmap px


@SETTINGS
@given(data=st.data(), heatmap=st.tuples(st.integers(2, 16), st.integers(2, 16)))
def test_udp_heatmap_decode_arbitrary_maps(data, heatmap):
    """Decoding any map (negative, zero, spiky, tiny, NaN) gives finite keypoints or names the bad channel."""
    k = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    kind = data.draw(st.sampled_from(["noise", "signed", "zero", "spike", "tiny", "special"]))
    maps = {
        "noise": lambda: rng.random((k, heatmap[1], heatmap[0])),
        "signed": lambda: rng.normal(size=(k, heatmap[1], heatmap[0])),
        "zero": lambda: np.zeros((k, heatmap[1], heatmap[0])),
        "spike": lambda: (rng.random((k, heatmap[1], heatmap[0])) > 0.97) * 1.0,
        "tiny": lambda: rng.random((k, heatmap[1], heatmap[0])) * 1e-40,
        "special": lambda: rng.random((k, heatmap[1], heatmap[0])),
    }[kind]().astype(np.float32)
    if kind == "special":
        maps.flat[data.draw(st.integers(0, maps.size - 1))] = data.draw(
            st.sampled_from([math.nan, math.inf, -math.inf])
        )
    codec = UDPHeatmap((heatmap[0] * 4, heatmap[1] * 4), heatmap)
    result, error = tally.call("codecs.UDPHeatmap.decode(arbitrary maps)", codec.decode, maps, names=r"encoded\[\d+\]")
    if error is not None:
        assert not np.isfinite(maps).all(), f"finite maps rejected: {error}"
        return
    assert np.isfinite(maps).all()
    decoded, scores = result
    empty = maps.reshape(k, -1).max(axis=1) == 0
    all_zero = ~np.any(maps.reshape(k, -1), axis=1)
    np.testing.assert_array_equal(np.isnan(decoded[0]).any(axis=-1), all_zero)  # NaN only for all-zero channels
    np.testing.assert_array_equal(scores[0], maps.reshape(k, -1).max(axis=1))
    assert (scores[0][empty] == 0).all()


@SETTINGS
@given(
    data=st.data(),
    heatmap=st.tuples(st.integers(1, 32), st.integers(1, 32)),
    sigma=st.one_of(st.sampled_from([1e-3, 0.1, 2.0, 1e3, 1e5]), st.floats(0.01, 20)),
)
@pytest.mark.parametrize("subpixel", [False, True], ids=["msra", "udp"])
def test_gaussian_drawing_any_sigma_and_position(data, heatmap, sigma, subpixel):
    """Drawing never allocates more than the map (sigma up to 1e5), never overflows on far keypoints."""
    keypoints, visible = data.draw(keypoint_sets(extent=max(heatmap)))
    draw = generate_udp_heatmaps if subpixel else generate_msra_heatmaps
    result, error = tally.call(
        f"codecs.generate_{'udp' if subpixel else 'msra'}_heatmaps",
        draw,
        heatmap,
        keypoints,
        visible,
        sigma=sigma,
        names=KEYPOINT_ERROR,
    )
    if error is not None:
        assert not _inputs_valid(keypoints, visible), f"valid input rejected: {error}"
        return
    heatmaps, weights = result
    assert heatmaps.shape == (keypoints.shape[1], heatmap[1], heatmap[0])
    assert np.isfinite(heatmaps).all() and heatmaps.min() >= 0 and heatmaps.max() <= 1
    assert np.all((weights == 0) | (weights == visible))
    if not subpixel and float(3 * sigma).is_integer():
        # MSRA peaks at exactly 1 on the rounded pixel of a drawn keypoint inside the map (for a non-integer window
        # radius 3 sigma the reference's truncations move the peak; we keep them)
        m = np.trunc(keypoints.astype(np.float32) + np.float32(0.5)).astype(np.int64)
        for n, k in zip(*np.nonzero(visible >= 0.5)):
            x, y = m[n, k]
            if 0 <= x < heatmap[0] and 0 <= y < heatmap[1]:
                assert heatmaps[k, y, x] == 1.0


# ------------------------------------------------------------------------------------------------------------ flips


@SETTINGS
@given(data=st.data(), direction=st.sampled_from(["horizontal", "vertical", "diagonal"]), use_torch=st.booleans())
def test_flips_are_involutions(data, direction, use_torch):
    k = data.draw(st.integers(1, 6))
    flip_indices = data.draw(st.permutations(list(range(k))))
    # A left/right permutation is its own inverse; make one from the drawn permutation's cycles of length <= 2.
    pairs = list(range(k))
    for a in range(0, k - 1, 2):
        if flip_indices[a] % 2 == 0:
            pairs[a], pairs[a + 1] = a + 1, a
    size = (data.draw(st.integers(1, 500)), data.draw(st.integers(1, 500)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    keypoints = rng.uniform(-100, 600, (2, k, 2)).astype(np.float32)
    visible = rng.random((2, k)).astype(np.float32)
    wrap = (lambda a: torch.from_numpy(a)) if use_torch else (lambda a: a)
    once, error = tally.call(
        "codecs.flip_keypoints (twice)", flip_keypoints, wrap(keypoints), wrap(visible), size, pairs, direction
    )
    assert error is None
    twice, _ = tally.call("codecs.flip_keypoints (twice)", flip_keypoints, once[0], once[1], size, pairs, direction)
    np.testing.assert_allclose(np.asarray(twice[0]), keypoints, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(twice[1]), visible)

    boxes = np.abs(rng.normal(50, 30, (3, 4))).astype(np.float32)
    for bbox_format in ("xyxy", "xywh", "center"):
        b = boxes[:, :2] if bbox_format == "center" else boxes
        back, error = tally.call(
            "codecs.flip_bbox (twice)",
            lambda: flip_bbox(flip_bbox(b, size, bbox_format, direction), size, bbox_format, direction),
        )
        assert error is None
        np.testing.assert_allclose(back, b, atol=1e-3)

    coords = rng.random((2, k, 2)).astype(np.float32)
    back, error = tally.call(
        "codecs.flip_coordinates (twice)",
        lambda: flip_coordinates(flip_coordinates(wrap(coords), pairs, True, (48, 64)), pairs, True, (48, 64)),
    )
    assert error is None
    np.testing.assert_allclose(np.asarray(back), coords, atol=1e-6)

    maps = rng.random((2, k, 5, 7)).astype(np.float32)
    back, error = tally.call(
        "codecs.flip_heatmaps (twice)", lambda: flip_heatmaps(flip_heatmaps(wrap(maps), pairs), pairs)
    )
    assert error is None
    np.testing.assert_array_equal(np.asarray(back), maps)


@SETTINGS
@given(flip_indices=st.lists(st.integers(-2, 7), min_size=0, max_size=7), k=st.integers(1, 5))
def test_flip_rejects_bad_flip_indices(flip_indices, k):
    keypoints = np.zeros((1, k, 2), np.float32)
    valid = sorted(flip_indices) == list(range(k))
    for name, function in (
        ("codecs.flip_keypoints(flip_indices)", lambda: flip_keypoints(keypoints, None, (10, 10), flip_indices)),
        ("codecs.flip_coordinates(flip_indices)", lambda: flip_coordinates(keypoints, flip_indices, True, (10, 10))),
        ("codecs.flip_heatmaps(flip_indices)", lambda: flip_heatmaps(np.zeros((1, k, 2, 2)), flip_indices)),
    ):
        result, error = tally.call(name, function, names="flip_indices")
        assert (error is None) == valid, f"{name}: {error}"
