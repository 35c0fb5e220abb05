"""transformers' `ImageProcessingTestMixin` on both hfpose image processors (top-down crop, bottom-up UDP resize).

Each mixin test hfpose opts out of is listed in `OPT_OUTS` with its reason; see the conftest for how the mixins are
fetched. Both processors are PIL/numpy (`PilBackend`) processors, registered as the "pil" backend.
"""

from __future__ import annotations

import math
import unittest

import numpy as np
import pytest
from transformers_tests.test_image_processing_common import ImageProcessingTester, ImageProcessingTestMixin

from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
from hfpose.image_processing_topdown import TopDownPoseImageProcessor

OPT_OUTS = {
    "test_call_numpy_4_channels": (
        "the pose models take RGB: a 4-channel image with do_convert_rgb=False raises a ValueError naming the fix "
        "(tested below), with do_convert_rgb=True its alpha is dropped"
    ),
    "test_new_models_require_torchvision_backend": (
        "transformers' policy for models added to transformers after its cutoff date; hfpose's processors are "
        "numpy/OpenCV (`PilBackend`) on purpose, for pixel parity with MMPose's OpenCV crops and warps"
    ),
}


class _Tester(ImageProcessingTester):
    processor_class = None

    def _get_image_processing_classes(self):
        # transformers finds the classes by the test folder's model name in its own mapping; ours are registered
        # with AutoImageProcessor by `import hfpose` but are not in that static mapping.
        return {"pil": self.processor_class}


class TopDownTester(_Tester):
    processor_class = TopDownPoseImageProcessor

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("size", {"height": 64, "width": 48})
        kwargs.setdefault("flip_indices", [0, 2, 1, 3])
        kwargs.setdefault("keypoint_names", ["nose", "left_eye", "right_eye", "neck"])
        super().__init__(parent, batch_size=3, min_resolution=30, max_resolution=120, **kwargs)

    def expected_output_image_shape(self, images):
        # One crop per image (no boxes: the whole image is the box), at `size`.
        return self.num_channels, self.size["height"], self.size["width"]


class BottomUpTester(_Tester):
    processor_class = BottomUpPoseImageProcessor

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("input_size", 64)
        super().__init__(parent, batch_size=3, min_resolution=30, max_resolution=120, **kwargs)

    def expected_output_image_shape(self, images):
        # MMPose 0.29 UDP test resize: the short side to `input_size`, the long side in proportion, rounded up to
        # a multiple of 64; a batch is padded to its largest image.
        sizes = []
        for image in images:
            height, width = _height_width(image)
            short = math.ceil(self.input_size / 64) * 64
            long = math.ceil(short / min(height, width) * max(height, width) / 64) * 64
            sizes.append((long, short) if height >= width else (short, long))
        return self.num_channels, max(h for h, _ in sizes), max(w for _, w in sizes)


def _height_width(image):
    if hasattr(image, "size") and not isinstance(image, np.ndarray) and not callable(getattr(image, "dim", None)):
        width, height = image.size
        return height, width
    if isinstance(image, np.ndarray):
        return image.shape[0], image.shape[1]
    return image.shape[1], image.shape[2]  # torch (C, H, W)


def _opt_out(cls):
    for name, reason in OPT_OUTS.items():
        setattr(cls, name, unittest.skip(reason)(getattr(cls, name)))
    return cls


class _RGBAHandling:
    def test_rgba_is_converted_or_refused(self):
        rng = np.random.default_rng(0)
        rgba = rng.integers(0, 256, (40, 50, 4), dtype=np.uint8)
        processor = self.image_processor_tester.processor_class(**self.image_processor_dict)
        converted = processor(rgba, return_tensors="np")["pixel_values"]
        without_alpha = processor(np.ascontiguousarray(rgba[..., :3]), return_tensors="np")["pixel_values"]
        np.testing.assert_array_equal(converted, without_alpha)  # do_convert_rgb=True drops alpha
        with pytest.raises(ValueError, match=r"images\[0\] has 4 channel\(s\) and do_convert_rgb=False"):
            processor(rgba, do_convert_rgb=False)
        with pytest.raises(ValueError, match=r"images\[1\] has 1 channel\(s\) and do_convert_rgb=False"):
            processor([rgba[..., :3], rgba[..., 0]], do_convert_rgb=False)
        kept = processor(np.ascontiguousarray(rgba[..., :3]), do_convert_rgb=False, return_tensors="np")
        np.testing.assert_array_equal(kept["pixel_values"], without_alpha)


@_opt_out
class TopDownImageProcessingTest(_RGBAHandling, ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = TopDownTester


@_opt_out
class BottomUpImageProcessingTest(_RGBAHandling, ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = BottomUpTester
