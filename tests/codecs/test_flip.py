"""Flip utilities: golden equivalence with MMPose (transforms/flip.npz, exact at atol 1e-5) and hand-computed cases."""

import numpy as np
import pytest
import torch
from golden_utils import load_golden

from hfpose.codecs import flip_bbox, flip_coordinates, flip_heatmaps, flip_keypoints

ATOL = 1e-5  # golden README, transforms/flip.npz: "exact (atol 1e-5 px)"


@pytest.fixture(scope="module")
def golden(golden_dir):
    return load_golden(golden_dir, "transforms/flip.npz")


@pytest.mark.golden
@pytest.mark.parametrize("direction", ["horizontal", "vertical", "diagonal"])
def test_flip_keypoints_matches_golden(golden, direction):
    keypoints, visible = golden["keypoints"], golden["keypoints_visible"]
    flipped, flipped_visible = flip_keypoints(
        keypoints, visible, tuple(golden["image_size"]), golden["flip_indices"], direction
    )
    np.testing.assert_allclose(flipped, golden[f"flip_keypoints_{direction}"], rtol=0, atol=ATOL)
    np.testing.assert_array_equal(flipped_visible, golden[f"flip_keypoints_visible_{direction}"])
    # Inputs untouched.
    np.testing.assert_array_equal(keypoints, golden["keypoints"])


@pytest.mark.golden
def test_flip_keypoints_torch_matches_numpy(golden):
    args = (tuple(golden["image_size"]), golden["flip_indices"], "horizontal")
    flipped_np, visible_np = flip_keypoints(golden["keypoints"], golden["keypoints_visible"], *args)
    flipped_pt, visible_pt = flip_keypoints(
        torch.from_numpy(golden["keypoints"]), torch.from_numpy(golden["keypoints_visible"]), *args
    )
    assert isinstance(flipped_pt, torch.Tensor)
    np.testing.assert_allclose(flipped_pt.numpy(), flipped_np, rtol=0, atol=0)
    np.testing.assert_array_equal(visible_pt.numpy(), visible_np)


@pytest.mark.golden
def test_flip_bbox_matches_golden(golden):
    image_size = tuple(golden["image_size"])
    xyxy = flip_bbox(golden["bbox_xyxy"], image_size, "xyxy", "horizontal")
    np.testing.assert_allclose(xyxy, golden["flip_bbox_xyxy_horizontal"], rtol=0, atol=ATOL)
    center = flip_bbox(golden["bbox_center"], image_size, "center", "horizontal")
    np.testing.assert_allclose(center, golden["flip_bbox_center_horizontal"], rtol=0, atol=ATOL)


@pytest.mark.golden
def test_flip_bbox_xywh_consistent_with_xyxy(golden):
    """Our xywh flip describes the same region as the golden xyxy flip (MMPose's own xywh flip does not)."""
    image_size = tuple(golden["image_size"])
    xyxy = golden["bbox_xyxy"]
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    flipped = flip_bbox(xywh, image_size, "xywh", "horizontal")
    expected = golden["flip_bbox_xyxy_horizontal"]
    np.testing.assert_allclose(flipped[:, :2], expected[:, :2], rtol=0, atol=1e-4)
    np.testing.assert_allclose(flipped[:, :2] + flipped[:, 2:], expected[:, 2:], rtol=0, atol=1e-4)


@pytest.mark.golden
@pytest.mark.parametrize("shift", [0, 1])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_flip_coordinates_matches_golden_and_keeps_input(golden, shift, backend):
    coords = golden["coords"].copy()
    coords_in = torch.from_numpy(coords.copy()) if backend == "torch" else coords.copy()
    flipped = flip_coordinates(coords_in, golden["flip_indices"], bool(shift), tuple(golden["coords_input_size"]))
    flipped = flipped.numpy() if backend == "torch" else flipped
    np.testing.assert_allclose(flipped, golden[f"flip_coordinates_shift{shift}"], rtol=0, atol=ATOL)
    # MMPose modifies its input in place; we must not.
    original = coords_in.numpy() if backend == "torch" else coords_in
    np.testing.assert_array_equal(original, golden["coords"])


@pytest.mark.golden
@pytest.mark.parametrize("shift", [0, 1])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_flip_heatmaps_matches_golden(golden, shift, backend):
    heatmaps = golden["heatmaps"]
    heatmaps_in = torch.from_numpy(heatmaps.copy()) if backend == "torch" else heatmaps.copy()
    flipped = flip_heatmaps(heatmaps_in, golden["flip_indices"], shift_heatmap=bool(shift))
    flipped = flipped.numpy() if backend == "torch" else flipped
    np.testing.assert_allclose(flipped, golden[f"flip_heatmaps_shift{shift}"], rtol=0, atol=ATOL)
    original = heatmaps_in.numpy() if backend == "torch" else heatmaps_in
    np.testing.assert_array_equal(original, heatmaps)


def test_flip_keypoints_hand_computed():
    keypoints = np.array([[[0.0, 0.0], [9.0, 4.0], [2.5, 1.0]]], dtype=np.float32)
    visible = np.array([[1.0, 0.0, 0.5]], dtype=np.float32)
    flipped, flipped_visible = flip_keypoints(keypoints, visible, (10, 5), [0, 2, 1], "horizontal")
    np.testing.assert_array_equal(flipped, [[[9.0, 0.0], [6.5, 1.0], [0.0, 4.0]]])
    np.testing.assert_array_equal(flipped_visible, [[1.0, 0.5, 0.0]])
    flipped, _ = flip_keypoints(keypoints, None, (10, 5), [0, 2, 1], "diagonal")
    np.testing.assert_array_equal(flipped, [[[9.0, 4.0], [0.0, 0.0], [6.5, 3.0]]])
    # Flipping twice is the identity.
    once = flip_keypoints(keypoints, visible, (10, 5), [0, 2, 1], "vertical")
    twice, _ = flip_keypoints(*once, (10, 5), [0, 2, 1], "vertical")
    np.testing.assert_array_equal(twice, keypoints)


def test_flip_coordinates_hand_computed():
    coords = np.array([[[0.25, 0.5], [0.75, 0.1]]], dtype=np.float32)
    out = flip_coordinates(coords, [1, 0], shift_coords=True, input_size=(4, 8))
    np.testing.assert_allclose(out, [[[0.0, 0.1], [0.5, 0.5]]], atol=1e-7)


def test_flip_heatmaps_hand_computed():
    heatmaps = np.arange(6, dtype=np.float32).reshape(1, 2, 1, 3)  # channel 0: [0 1 2], channel 1: [3 4 5]
    out = flip_heatmaps(heatmaps, [1, 0], shift_heatmap=True)
    np.testing.assert_array_equal(out, [[[[5, 5, 4]], [[2, 2, 1]]]])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: flip_keypoints(np.zeros((1, 3, 2)), None, (10, 5), [0, 1], "horizontal"), "3 keypoints"),
        (lambda: flip_keypoints(np.zeros((1, 3, 2)), None, (10, 5), [0, 0, 1], "horizontal"), "permutation"),
        (lambda: flip_keypoints(np.zeros((1, 3, 2)), np.zeros((1, 2)), (10, 5), [0, 1, 2]), "keypoints_visible"),
        (lambda: flip_keypoints(np.zeros((1, 3, 3)), None, (10, 5), [0, 1, 2]), r"\(N, K, 2\)"),
        (lambda: flip_keypoints(np.zeros((1, 3, 2)), None, (10, 5), [0, 1, 2], "sideways"), "direction"),
        (lambda: flip_bbox(np.zeros((2, 4)), (10, 5), "cxcywh"), "bbox_format"),
        (lambda: flip_bbox(np.zeros((2, 3)), (10, 5), "xyxy"), r"\(\.\.\., 4\)"),
        (lambda: flip_coordinates(np.zeros((3, 2)), [0, 1, 2], True, (192, 256)), r"\(B, K, 2\)"),
        (lambda: flip_heatmaps(np.zeros((2, 3, 4)), [0, 1, 2]), r"\(B, K, H, W\)"),
    ],
)
def test_flip_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
