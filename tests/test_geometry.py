"""hfpose.geometry against MMPose's TopdownAffine fixtures and hand-computed cases."""

import numpy as np
import pytest

from hfpose.geometry import (
    bbox_xyxy_to_center_scale,
    clip_bbox_xyxy,
    fix_aspect_ratio,
    get_udp_warp_matrix,
    get_warp_matrix,
    input_to_image,
    validate_boxes_xywh,
    warp_points,
)

VARIANTS = ["in192x256_noudp", "in192x256_udp", "in256x256_noudp", "in256x256_udp"]


@pytest.fixture(scope="module")
def affine(golden_dir):
    return np.load(golden_dir / "transforms" / "topdown_affine.npz")


@pytest.mark.golden
@pytest.mark.parametrize("variant", VARIANTS)
def test_center_scale_and_warp_matrix_match_mmpose(affine, variant):
    for i in range(int(affine["num_images"])):
        center, scale = bbox_xyxy_to_center_scale(affine[f"img{i}_bbox_xyxy"], padding=1.25)
        np.testing.assert_allclose(center, affine[f"img{i}_bbox_center"], rtol=1e-6)
        np.testing.assert_allclose(scale, affine[f"img{i}_bbox_scale"], rtol=1e-6)
        size = tuple(int(v) for v in affine[f"img{i}_{variant}_input_size"])
        fixed = fix_aspect_ratio(scale, size[0] / size[1])
        np.testing.assert_allclose(fixed, affine[f"img{i}_{variant}_bbox_scale_fixed"], rtol=1e-6)
        make = get_udp_warp_matrix if variant.endswith("_udp") else get_warp_matrix
        matrix = make(center[0], fixed[0], 0.0, size)
        np.testing.assert_allclose(matrix, affine[f"img{i}_{variant}_warp_mat"], atol=1e-5)
        moved = warp_points(affine[f"img{i}_keypoints"], matrix)
        np.testing.assert_allclose(moved, affine[f"img{i}_{variant}_transformed_keypoints"], atol=1e-3)
        back = input_to_image(affine[f"img{i}_{variant}_transformed_keypoints"], center, fixed, size)
        np.testing.assert_allclose(back, affine[f"img{i}_{variant}_backprojected_keypoints"], atol=1e-3)


def test_standard_warp_hand_values():
    # A 100x200 region centred at (50, 100) onto a 10x20 canvas: x' = (x - 50) * 10 / 100 + 5.
    matrix = get_warp_matrix(np.array([50.0, 100.0]), np.array([100.0, 200.0]), 0.0, (10, 20))
    np.testing.assert_allclose(
        warp_points(np.array([[0.0, 0.0], [50.0, 100.0], [100.0, 200.0]]), matrix),
        [[0, 0], [5, 10], [10, 20]],
        atol=1e-5,
    )
    inverse = get_warp_matrix(np.array([50.0, 100.0]), np.array([100.0, 200.0]), 0.0, (10, 20), inverse=True)
    np.testing.assert_allclose(warp_points(np.array([[5.0, 10.0]]), inverse), [[50, 100]], atol=1e-4)


def test_udp_warp_maps_first_and_last_pixel_centres():
    # UDP: the region [c - s/2, c + s/2] maps its ends to pixel centres 0 and w - 1.
    matrix = get_udp_warp_matrix(np.array([50.0, 100.0]), np.array([100.0, 200.0]), 0.0, (11, 21))
    np.testing.assert_allclose(
        warp_points(np.array([[0.0, 0.0], [100.0, 200.0]]), matrix), [[0, 0], [10, 20]], atol=1e-5
    )


def test_rotation_turns_about_the_centre():
    matrix = get_warp_matrix(np.array([0.0, 0.0]), np.array([20.0, 20.0]), 90.0, (20, 20))
    # The centre stays at the canvas centre; the image is turned by 90 degrees.
    np.testing.assert_allclose(warp_points(np.array([[0.0, 0.0]]), matrix), [[10, 10]], atol=1e-4)
    moved = warp_points(np.array([[5.0, 0.0]]), matrix)[0] - 10
    assert np.linalg.norm(moved) == pytest.approx(5.0, abs=1e-4) and abs(moved[0]) < 1e-4


def test_fix_aspect_ratio_only_grows():
    np.testing.assert_allclose(fix_aspect_ratio(np.array([[30.0, 40.0]]), 0.75), [[30, 40]])
    np.testing.assert_allclose(fix_aspect_ratio(np.array([[60.0, 40.0]]), 0.75), [[60, 80]])
    np.testing.assert_allclose(fix_aspect_ratio(np.array([[10.0, 40.0]]), 0.75), [[30, 40]])


def test_clip_and_validate_boxes():
    np.testing.assert_allclose(clip_bbox_xyxy(np.array([[-5.0, 3.0, 700.0, 500.0]]), (640, 480)), [[0, 3, 639, 479]])
    with pytest.raises(ValueError, match=r"boxes\[1\].*non-positive"):
        validate_boxes_xywh([[0, 0, 10, 10], [0, 0, 0, 10]])
    with pytest.raises(ValueError, match=r"boxes\[0\].*non-finite"):
        validate_boxes_xywh([[np.nan, 0, 10, 10]])
    with pytest.raises(ValueError, match="shape"):
        validate_boxes_xywh([[0, 0, 10]])
