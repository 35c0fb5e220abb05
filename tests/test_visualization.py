"""draw_keypoints: pixels change at kept keypoints and along limbs, not at skipped ones; the input is untouched."""

import numpy as np
import pytest

from hfpose.visualization import draw_keypoints


def _person():
    return {
        "keypoints": np.array([[20.0, 20.0], [80.0, 20.0], [50.0, 70.0], [np.nan, np.nan]]),
        "scores": np.array([0.9, 0.8, 0.1, 0.9], dtype=np.float32),
        "bbox": np.array([10.0, 10.0, 80.0, 80.0], dtype=np.float32),
    }


def test_draw_keypoints_changes_pixels_at_kept_keypoints_only():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    drawn = draw_keypoints(image, [_person()], skeleton=[(0, 1), (0, 2)], keypoint_threshold=0.3, radius=3, thickness=1)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert np.all(image == 0)  # input not modified
    # Kept keypoints are filled discs: the centre pixel and a neighbour 2 px away are coloured.
    for x, y in [(20, 20), (80, 20)]:
        assert drawn[y, x].sum() > 0
        assert drawn[y, x + 2].sum() > 0
    # The limb (0, 1) passes through its midpoint.
    assert drawn[20, 50].sum() > 0
    # Keypoint 2 has score 0.1 < 0.3: no disc, and limb (0, 2) is skipped (its midpoint stays black).
    assert drawn[70, 50].sum() == 0
    assert drawn[45, 35].sum() == 0
    # The box outline is drawn in white.
    assert tuple(drawn[10, 40]) == (255, 255, 255)


def test_draw_keypoints_without_bbox_and_threshold_zero():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    drawn = draw_keypoints(image, [_person()], keypoint_threshold=0.0, radius=2, draw_bbox=False)
    assert drawn[70, 50].sum() > 0  # the low-score keypoint is now drawn
    assert drawn[10, 40].sum() == 0  # no box
    # Colours differ per keypoint.
    assert tuple(drawn[20, 20]) != tuple(drawn[20, 80])


def test_draw_keypoints_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        draw_keypoints(np.zeros((10, 10, 3), dtype=np.float32), [])
    with pytest.raises(ValueError, match=r"skeleton\[0\]"):
        draw_keypoints(np.zeros((10, 10, 3), dtype=np.uint8), [_person()], skeleton=[(0, 9)])
