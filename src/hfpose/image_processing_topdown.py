# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Top-down image processor: one affine crop per person box in, keypoints in image pixels out.

Pipeline of `TopDownPoseImageProcessor.__call__` (MMPose test pipeline ``GetBBoxCenterScale`` → ``TopdownAffine`` →
``PoseDataPreprocessor``):

1. COCO box ``[x, y, w, h]`` → ``[x1, y1, x2, y2]`` with ``x2 = x + w`` (boxes are used as given, not clipped to the
   image, as in MMPose's ``inference_topdown``).
2. ``center = ((x1 + x2) / 2, (y1 + y2) / 2)``, ``scale = (x2 - x1, y2 - y1) * padding``.
3. One side of ``scale`` is enlarged so that ``scale_w / scale_h = width / height`` of ``size`` (the box only grows).
4. The ``scale``-sized region around ``center`` is warped to ``size`` with ``cv2.warpAffine`` (bilinear, constant
   border 0), with the standard matrix ``x' = (x - c_x) * w / s_w + w / 2`` or, with ``use_udp``, the unbiased one
   ``x' = (x - c_x + s_w / 2) * (w - 1) / s_w``.
5. ``(x * rescale_factor - image_mean) / image_std`` per RGB channel, float32 (equal, to float32 rounding, to MMPose's
   ``(x - 255 * mean) / (255 * std)`` on the BGR→RGB image).

`post_process_pose_estimation` inverts it: normalized outputs × ``(w, h)`` → input px →
``p_img = p_in / (w, h) * scale + center - scale / 2`` (MMPose ``TopdownPoseEstimator.add_pred_to_datasample``).

Sources: Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018 (box crop); Huang et al.,
"The Devil is in the Details: Delving into Unbiased Data Processing for Human Pose Estimation", CVPR 2020 (UDP);
reference implementation MMPose 1.x (open-mmlab/mmpose@759b39c): ``mmpose/datasets/transforms/
{common_transforms.py,topdown_transforms.py}``, ``mmpose/models/data_preprocessors``, ``mmpose/models/utils/tta.py``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import cv2
import numpy as np
from transformers import AutoImageProcessor
from transformers.image_processing_backends import PilBackend
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, SizeDict
from transformers.processing_utils import ImagesKwargs, Unpack

from .codecs.flip import flip_coordinates
from .codecs.regression_label import RegressionLabel
from .geometry import (
    bbox_xywh_to_xyxy,
    bbox_xyxy_to_center_scale,
    fix_aspect_ratio,
    get_udp_warp_matrix,
    get_warp_matrix,
    input_to_image,
    validate_boxes_xywh,
)
from .image_io import _is_torch, _to_numpy
from .image_io import as_image_list as _as_image_list
from .image_io import load_rgb_image as _load_image

__all__ = ["TopDownPoseImageProcessor", "TopDownPoseImageProcessorKwargs", "register"]

# Key under which the processor is always registered, so that `AutoImageProcessor.from_pretrained` finds it by the
# `image_processor_type` saved in `preprocessor_config.json` even before any model config is registered.
_REGISTRY_KEY = "hfpose_topdown"
# `return_tensors` values that need no type check (`TensorType` members compare equal to their strings).
_PLAIN_TENSOR_TYPES = (None, "pt", "np")


class TopDownPoseImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    padding (`float`, *optional*, defaults to `1.25`):
        Factor by which each box is enlarged before the aspect-ratio fix (MMPose ``GetBBoxCenterScale``).
    use_udp (`bool`, *optional*, defaults to `False`):
        Use the unbiased (UDP) warp matrix instead of the standard one.
    flip_indices (`list[int]`, *optional*):
        Left/right keypoint permutation for the flip test (``new[:, k] = old[:, flip_indices[k]]``).
    shift_coords (`bool`, *optional*, defaults to `True`):
        Flip test of normalized coordinates subtracts one input pixel (``1 / w``) after mirroring.
    shift_heatmap (`bool`, *optional*, defaults to `False`):
        Flip test of heatmaps shifts by one heatmap pixel (used by heatmap-averaging models only).
    keypoint_names (`list[str]`, *optional*):
        Names returned as ``labels`` by post-processing.
    """

    padding: float | None
    use_udp: bool | None
    flip_indices: list[int] | None
    shift_coords: bool | None
    shift_heatmap: bool | None
    keypoint_names: list[str] | None


class TopDownPoseImageProcessor(PilBackend):
    r"""Crop each person box to the network input (affine warp) and map predictions back to the image.

    Args:
        size (`dict[str, int]`, *optional*, defaults to `{"height": 256, "width": 192}`):
            Network input size ``{"height", "width"}`` in pixels.
        padding (`float`, *optional*, defaults to `1.25`):
            Box enlargement factor before the aspect-ratio fix.
        use_udp (`bool`, *optional*, defaults to `False`):
            Unbiased (UDP) warp (Huang et al., CVPR 2020) instead of the standard one.
        image_mean (`list[float]`, *optional*, defaults to ImageNet `[0.485, 0.456, 0.406]`):
            RGB mean of ``x * rescale_factor``.
        image_std (`list[float]`, *optional*, defaults to ImageNet `[0.229, 0.224, 0.225]`):
            RGB standard deviation of ``x * rescale_factor``.
        do_rescale (`bool`, *optional*, defaults to `True`), rescale_factor (`float`, *optional*, defaults to `1/255`),
        do_normalize (`bool`, *optional*, defaults to `True`):
            As in every transformers image processor.
        flip_indices (`list[int]`, *optional*):
            Left/right permutation of the K keypoints, needed for the flip test in `post_process_pose_estimation`.
        shift_coords (`bool`, *optional*, defaults to `True`):
            Flip test: ``x ← 1 − x − 1 / w`` (True, every MMPose regression config) or ``x ← 1 − x`` (False).
        shift_heatmap (`bool`, *optional*, defaults to `False`):
            Stored for heatmap flip tests (`hfpose.codecs.flip_heatmaps`); unused by keypoint post-processing.
        keypoint_names (`list[str]`, *optional*):
            Keypoint names, returned as ``labels``; indices ``0..K-1`` when unset.

    Raises:
        ValueError: on a malformed ``size``, non-positive ``padding``, ``flip_indices`` that is not a permutation, or
            ``keypoint_names`` whose length differs from ``flip_indices``.

    Example:

    ```python
    >>> processor = TopDownPoseImageProcessor(flip_indices=COCO_KEYPOINTS.flip_indices)
    >>> inputs = processor(image, boxes=[[[x, y, w, h]]], return_tensors="pt")
    >>> outputs = model(inputs["pixel_values"])
    >>> outputs_flipped = model(processor.flip_pixel_values(inputs["pixel_values"]))
    >>> results = processor.post_process_pose_estimation(
    ...     outputs, boxes=[[[x, y, w, h]]], outputs_flipped=outputs_flipped
    ... )
    >>> results[0][0]["keypoints"]  # (K, 2) image pixels
    ```
    """

    valid_kwargs = TopDownPoseImageProcessorKwargs
    model_input_names = ["pixel_values"]
    bottom_up = False  # whole images in, every person out (read by the pipeline and the evaluation loop)

    size = {"height": 256, "width": 192}
    padding = 1.25
    use_udp = False
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    do_resize = False
    do_center_crop = False
    do_pad = False
    flip_indices = None
    shift_coords = True
    shift_heatmap = False
    keypoint_names = None

    def __init__(self, **kwargs: Unpack[TopDownPoseImageProcessorKwargs]):
        super().__init__(**kwargs)
        self._check_settings()

    def _check_settings(self) -> None:
        if not (self.size is not None and self.size.height and self.size.width):
            raise ValueError(f"size must be {{'height': int, 'width': int}}; got {self.size}")
        if not (isinstance(self.padding, (int, float)) and self.padding > 0):
            raise ValueError(f"padding must be a positive number; got {self.padding!r}")
        if self.flip_indices is not None:
            indices = [int(i) for i in self.flip_indices]
            if sorted(indices) != list(range(len(indices))):
                raise ValueError(f"flip_indices must be a permutation of 0..K-1; got {self.flip_indices}")
            for index, partner in enumerate(indices):  # mirroring twice is the identity
                if indices[partner] != index:
                    raise ValueError(
                        f"flip_indices must pair joints (flip_indices[flip_indices[i]] == i): joint {index} maps to "
                        f"{partner}, which maps to {indices[partner]}; give each left/right pair both ways"
                    )
            self.flip_indices = indices
        if self.keypoint_names is not None:
            self.keypoint_names = [str(name) for name in self.keypoint_names]
            if self.flip_indices is not None and len(self.keypoint_names) != len(self.flip_indices):
                raise ValueError(
                    f"keypoint_names has {len(self.keypoint_names)} entries but flip_indices has "
                    f"{len(self.flip_indices)}"
                )

    @property
    def input_size(self) -> tuple[int, int]:
        """``(width, height)`` of the network input in pixels (the codec convention)."""
        return int(self.size.width), int(self.size.height)

    # ------------------------------------------------------------------------------------------------ preprocessing

    def preprocess(self, images, boxes=None, **kwargs: Unpack[TopDownPoseImageProcessorKwargs]) -> BatchFeature:
        r"""Crop every person box of every image to the network input.

        Args:
            images (`PIL.Image.Image`, `np.ndarray`, `torch.Tensor`, `str` / `os.PathLike`, or a list of them):
                One image or a list. Arrays are ``(H, W)`` or ``(H, W, C)`` (``(C, H, W)`` is recognised when ``C`` is
                1-4 and the last axis is not); uint8 is used as is, uint16 is scaled to 8 bit as
                ``round(x * 255 / 65535)``, floats must lie in ``[0, 1]`` (multiplied by 255, not quantized), other
                integer arrays must lie in ``[0, 255]``. Grayscale becomes RGB (channel repeated), RGBA/LA lose
                alpha (no compositing); with ``do_convert_rgb=False`` a non-RGB image raises instead. Paths and
                http(s) URLs are decoded with PIL, EXIF orientation applied (as OpenCV's ``imread`` does). A 4-D
                array is a batch of images.
            boxes (`list[list[list[float]]]` or `np.ndarray`, *optional*):
                Per image a ``(num_boxes, 4)`` array-like of COCO ``[x, y, w, h]`` boxes in image pixels (a single
                image also accepts its ``(num_boxes, 4)`` directly). ``None`` (or ``None`` for one image) uses the
                whole image as one box ``[0, 0, W, H]``. An image may have zero boxes.
            return_tensors (`str`, *optional*): ``"pt"`` for torch tensors, ``"np"`` / ``None`` for numpy.

        Returns:
            `BatchFeature` with, for the P persons of all images in image-major order:
            ``pixel_values`` float32 ``(P, 3, height, width)`` RGB normalized; ``center`` float32 ``(P, 2)`` and
            ``scale`` float32 ``(P, 2)`` of the (aspect-fixed) crop in image px; ``image_index`` int64 ``(P,)``.

        Raises:
            FileNotFoundError: an image path does not exist (names the image index).
            ValueError: an undecodable image file, an unsupported array shape or value range, a number of box lists
                different from the number of images, a box list that is not ``(num_boxes, 4)``, a non-finite box,
                a box with non-positive width or height, or a box that lies wholly outside its image (the message
                names ``boxes[image][box]``).
            TypeError: an image of an unsupported type.
        """
        if kwargs.keys() <= {"return_tensors"} and kwargs.get("return_tensors") in _PLAIN_TENSOR_TYPES:
            # Same steps as `BaseImageProcessor.preprocess` minus the type check of per-call settings, of which there
            # are none here; that check alone costs about a third of a 256x192 crop.
            settings = {name: getattr(self, name, None) for name in self._valid_kwargs_names}
            settings.update(kwargs)
            settings = self._standardize_kwargs(**settings)
            self._validate_preprocess_kwargs(**settings)
            return self._preprocess_image_like_inputs(images, boxes, **settings)
        return super().preprocess(images, boxes, **kwargs)

    def _preprocess_image_like_inputs(self, images, boxes=None, input_data_format=None, **kwargs) -> BatchFeature:
        image_list, single = _as_image_list(images)
        convert_rgb = kwargs.get("do_convert_rgb", True)
        arrays = [_load_image(image, index, input_data_format, convert_rgb) for index, image in enumerate(image_list)]
        box_lists = _normalize_boxes(boxes, len(arrays), single)
        return self._preprocess(arrays, boxes=box_lists, **kwargs)

    def _preprocess(
        self,
        images: list[np.ndarray],
        boxes: list[np.ndarray | None],
        size: SizeDict,
        padding: float,
        use_udp: bool,
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean: float | Sequence[float],
        image_std: float | Sequence[float],
        return_tensors=None,
        **kwargs,
    ) -> BatchFeature:
        input_size = (int(size.width), int(size.height))
        box_arrays, image_index = [], []
        for index, (image, image_boxes) in enumerate(zip(images, boxes)):
            height, width = image.shape[:2]
            if image_boxes is None:
                image_boxes = np.array([[0.0, 0.0, width, height]], dtype=np.float32)
            _check_boxes_inside(image_boxes, (width, height), index)
            box_arrays.append(np.asarray(image_boxes, dtype=np.float32).reshape(-1, 4))
            image_index.extend([index] * len(box_arrays[-1]))
        # Centre / scale of every box of every image in one vectorized pass (element-wise, so the same float32 values
        # as one image at a time).
        all_boxes = np.concatenate(box_arrays) if box_arrays else np.zeros((0, 4), np.float32)
        center, scale = self.boxes_to_center_scale(all_boxes, padding=padding, size=size)
        if len(all_boxes):
            within = [j for count in map(len, box_arrays) for j in range(count)]
            _check_crops(center, scale, [f"boxes[{i}][{j}]" for i, j in zip(image_index, within)])
        jobs = [(images[i], center[p], scale[p]) for p, i in enumerate(image_index)]
        starts = np.cumsum([0] + [len(b) for b in box_arrays])  # image i owns persons starts[i]:starts[i + 1]

        if all(image.dtype == np.uint8 for image, _, _ in jobs):
            # Fast path (uint8 crops, every image in the pipeline): each channel goes through a 256-entry table that
            # holds exactly the float32 rounding of the float64 formula below, written straight into the output.
            # 3-channel images are warped as 4-channel ones (a constant 4th channel appended once per image):
            # OpenCV's bilinear `warpAffine` has a SIMD path for 1 and 4 channels but not for 3, so the 4-channel warp
            # is about 2x faster per crop and gives the same bytes in the first three channels (same fixed-point
            # arithmetic per channel; checked in `tests/test_image_processing_topdown.py`).
            table = _normalization_table(do_rescale, rescale_factor, do_normalize, image_mean, image_std)
            pixels = np.empty((len(jobs), 3, input_size[1], input_size[0]), dtype=np.float32)
            padded_index, padded = None, None
            for person, (image, person_center, person_scale) in enumerate(jobs):
                if image.ndim == 3 and image.shape[2] == 3:
                    if image_index[person] != padded_index:  # jobs are image-major: one conversion per image
                        padded_index = image_index[person]
                        mine = slice(starts[padded_index], starts[padded_index + 1])
                        padded = _four_channel_copy(image, _crop_footprint(center[mine], scale[mine], image))
                    image = padded
                crop = self.affine_crop(image, person_center, person_scale, use_udp=use_udp, size=size)
                for channel, plane in enumerate(cv2.split(crop)[:3]):
                    target = pixels[person, channel]
                    result = cv2.LUT(plane, table[channel], dst=target)
                    if result is not target:  # OpenCV allocated a new array instead of writing in place
                        target[...] = result.reshape(target.shape)
        else:
            crops = [
                self.affine_crop(image, center, scale, use_udp=use_udp, size=size) for image, center, scale in jobs
            ]
            if crops:
                pixels = np.stack(crops).astype(np.float64).transpose(0, 3, 1, 2)
            else:
                pixels = np.zeros((0, 3, input_size[1], input_size[0]), dtype=np.float64)
            pixels = _rescale_and_normalize(pixels, do_rescale, rescale_factor, do_normalize, image_mean, image_std)
        data = {
            "pixel_values": pixels.astype(np.float32, copy=False),
            "center": center.astype(np.float32, copy=False),
            "scale": scale.astype(np.float32, copy=False),
            "image_index": np.asarray(image_index, dtype=np.int64),
        }
        return BatchFeature(data=data, tensor_type=return_tensors)

    def boxes_to_center_scale(
        self, boxes, padding: float | None = None, size: SizeDict | Mapping[str, int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """COCO ``(N, 4)`` ``[x, y, w, h]`` boxes → crop ``center`` and aspect-fixed ``scale``.

        Args:
            boxes: ``(N, 4)`` image px. padding: defaults to ``self.padding``. size: defaults to ``self.size``.

        Returns:
            ``center``, ``scale``: float32 ``(N, 2)`` in image px.

        Raises:
            ValueError: bad box shape, non-finite value or non-positive width/height (names the box index).

        Source: MMPose ``GetBBoxCenterScale`` + ``TopdownAffine._fix_aspect_ratio``.
        """
        padding = self.padding if padding is None else padding
        size = self.size if size is None else size
        width, height = (size.width, size.height) if isinstance(size, SizeDict) else (size["width"], size["height"])
        boxes = validate_boxes_xywh(boxes)
        center, scale = bbox_xyxy_to_center_scale(bbox_xywh_to_xyxy(boxes), padding=padding)
        return center, fix_aspect_ratio(scale, width / height)

    def affine_crop(
        self,
        image: np.ndarray,
        center,
        scale,
        use_udp: bool | None = None,
        size: SizeDict | Mapping[str, int] | None = None,
    ) -> np.ndarray:
        """Warp the ``scale``-sized region around ``center`` to the network input.

        Args:
            image (`np.ndarray` of shape `(H, W, C)`): any dtype OpenCV warps (uint8 in the pipeline).
            center, scale: ``(2,)`` image px (``scale`` already aspect-fixed).
            use_udp: defaults to ``self.use_udp``. size: defaults to ``self.size``.

        Returns:
            `np.ndarray` of shape `(height, width, C)`, same dtype: ``cv2.warpAffine`` with ``INTER_LINEAR`` and a
            constant 0 border, which reproduces MMPose's ``TopdownAffine`` bit for bit.
        """
        use_udp = self.use_udp if use_udp is None else use_udp
        size = self.size if size is None else size
        width, height = (size.width, size.height) if isinstance(size, SizeDict) else (size["width"], size["height"])
        output_size = (int(width), int(height))
        if use_udp:
            matrix = get_udp_warp_matrix(center, scale, 0.0, output_size)
        else:
            matrix = get_warp_matrix(center, scale, 0.0, output_size)
        warped = cv2.warpAffine(
            image, matrix, output_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return warped.reshape(output_size[1], output_size[0], -1)

    @staticmethod
    def flip_pixel_values(pixel_values):
        """Mirror ``(P, 3, H, W)`` pixel values along the width for the flip test (``pixel_values.flip(-1)``).

        MMPose mirrors the normalized tensor, which equals normalizing the mirrored crop. Accepts torch tensors and
        numpy arrays; returns the same type (a copy).
        """
        if hasattr(pixel_values, "flip") and not isinstance(pixel_values, np.ndarray):
            return pixel_values.flip(-1)
        return np.ascontiguousarray(np.asarray(pixel_values)[..., ::-1])

    # ---------------------------------------------------------------------------------------------- postprocessing

    def post_process_pose_estimation(
        self,
        outputs,
        boxes,
        outputs_flipped=None,
        center=None,
        scale=None,
        threshold: float | None = None,
    ) -> list[list[dict[str, Any]]]:
        r"""Turn model outputs for the P crops into per-image, per-person keypoints in image pixels.

        Args:
            outputs (model output or mapping): ``keypoints`` ``(P, K, 2)`` **normalized** input coordinates
                ``(x / w, y / h)``; optionally ``scores`` ``(P, K)`` and ``sigma`` ``(P, K, 2)`` (post-sigmoid, RLE).
                Missing ``scores`` are ``mean(1 - sigma)`` when ``sigma`` is given, else 1. Torch or numpy.
            boxes (`list[list[list[float]]]` or `np.ndarray`): the COCO ``[x, y, w, h]`` boxes given to the
                processor, one ``(num_boxes, 4)`` list per image (total P); they split the results per image and are
                returned as ``bbox``. For images processed without boxes pass ``[[0, 0, W, H]]``.
            outputs_flipped (*optional*): the model run on ``flip_pixel_values(pixel_values)``. Its keypoints are
                flipped back with `hfpose.codecs.flip_coordinates` (``x ← 1 − x − shift_coords / w``, joints permuted
                by ``flip_indices``), its ``scores`` / ``sigma`` permuted likewise, and each is averaged with
                ``outputs`` (exact for every regression method; RLE's score is linear in σ).
            center, scale (`(P, 2)`, *optional*): the processor's ``center`` / ``scale``; recomputed from ``boxes``
                when omitted.
            threshold (`float`, *optional*): keypoints whose score is **below** ``threshold`` get NaN coordinates;
                scores and the number K of keypoints are unchanged, so ``labels`` stay aligned.

        Returns:
            `list[list[dict]]`: per image, per person ``{"keypoints": np.ndarray float64 (K, 2) image px,
            "scores": np.ndarray float32 (K,), "labels": list of keypoint names (indices if ``keypoint_names`` is
            unset), "bbox": np.ndarray float32 (4,) the input [x, y, w, h] box}`` (numpy; use ``torch.from_numpy``
            for tensors).

        Raises:
            ValueError: missing ``keypoints``, shapes that disagree, a box count different from P, bad boxes (names
                the index), ``outputs_flipped`` without ``flip_indices``, or ``keypoint_names`` of the wrong length;
                a non-finite keypoint, or a score / sigma that is NaN or outside ``[0, 1]`` (names e.g.
                ``outputs.keypoints[p][k]``), so that a diverged model never yields NaN keypoints silently.

        Source: MMPose ``RegressionHead.predict`` / ``RLEHead.predict`` (flip test) and
        ``TopdownPoseEstimator.add_pred_to_datasample`` (back-projection).
        """
        keypoints, scores, sigma = _read_outputs(outputs, "outputs")
        num_persons, num_keypoints = keypoints.shape[:2]
        if outputs_flipped is not None:
            if self.flip_indices is None:
                raise ValueError("outputs_flipped needs flip_indices; set them on the processor")
            keypoints_flip, scores_flip, sigma_flip = _read_outputs(outputs_flipped, "outputs_flipped")
            if keypoints_flip.shape != keypoints.shape:
                raise ValueError(
                    f"outputs_flipped.keypoints has shape {keypoints_flip.shape}; outputs.keypoints {keypoints.shape}"
                )
            keypoints_flip = flip_coordinates(keypoints_flip, self.flip_indices, self.shift_coords, self.input_size)
            keypoints = (keypoints + keypoints_flip) * np.float32(0.5)
            if sigma is not None and sigma_flip is not None:
                sigma = (sigma + sigma_flip[:, self.flip_indices]) * np.float32(0.5)
            scores = (scores + scores_flip[:, self.flip_indices]) * np.float32(0.5)

        box_lists = [
            _check_float32(validate_boxes_xywh(b, name=f"boxes[{i}]"), b, f"boxes[{i}]")
            for i, b in enumerate(_box_sequence(boxes))
        ]
        counts = [len(b) for b in box_lists]
        if sum(counts) != num_persons:
            raise ValueError(f"boxes hold {sum(counts)} boxes in total but outputs has {num_persons} persons")
        flat_boxes = np.concatenate(box_lists) if box_lists else np.zeros((0, 4), np.float32)
        if center is None or scale is None:
            center, scale = self.boxes_to_center_scale(flat_boxes)
            _check_crops(center, scale, [f"boxes[{i}][{j}]" for i, b in enumerate(box_lists) for j in range(len(b))])
        center, scale = _to_numpy(center, "center"), _to_numpy(scale, "scale")
        if center.shape != (num_persons, 2) or scale.shape != (num_persons, 2):
            raise ValueError(f"center and scale must have shape ({num_persons}, 2); got {center.shape}, {scale.shape}")

        input_keypoints, _ = RegressionLabel(self.input_size).decode(keypoints)
        image_keypoints = input_to_image(input_keypoints, center, scale, self.input_size)
        if threshold is not None:
            image_keypoints[scores < threshold] = np.nan

        if self.keypoint_names is not None:
            if len(self.keypoint_names) != num_keypoints:
                raise ValueError(
                    f"keypoint_names has {len(self.keypoint_names)} names; the outputs have {num_keypoints}"
                )
            labels = list(self.keypoint_names)
        else:
            labels = list(range(num_keypoints))

        results, person = [], 0
        for image_boxes in box_lists:
            image_results = []
            for box in image_boxes:
                image_results.append(
                    {
                        "keypoints": image_keypoints[person],
                        "scores": scores[person].astype(np.float32),
                        "labels": list(labels),
                        "bbox": box.astype(np.float32),
                    }
                )
                person += 1
            results.append(image_results)
        return results


# ---------------------------------------------------------------------------------------------------- input helpers


def _rescale_and_normalize(pixels, do_rescale, rescale_factor, do_normalize, image_mean, image_std) -> np.ndarray:
    """``(x * rescale_factor - mean) / std`` on a float64 ``(..., 3, H, W)`` array, in float64 (the reference formula).

    `_normalization_table` evaluates this very function on the 256 grey levels, so both paths round identically.
    """
    if do_rescale:
        pixels = pixels * rescale_factor
    if do_normalize:
        mean = np.broadcast_to(np.asarray(image_mean, dtype=np.float64), (3,)).reshape(3, 1, 1)
        std = np.broadcast_to(np.asarray(image_std, dtype=np.float64), (3,)).reshape(3, 1, 1)
        pixels = (pixels - mean) / std
    return pixels


_TABLE_CACHE: dict = {}


# Per-thread scratch buffer for `_four_channel_copy`: reusing it avoids a fresh allocation per image, whose page faults
# cost several times the conversion itself (docs/performance.md).
_SCRATCH = threading.local()
_SCRATCH_MAX_BYTES = 64 * 2**20


def _crop_footprint(center: np.ndarray, scale: np.ndarray, image: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: integer pixel bounds, clipped to ``image``, that hold every source pixel the un-rotated
    crops ``center`` / ``scale`` (``(n, 2)`` image px) can read, bilinear neighbours included.

    Both warps (standard and UDP) map the output canvas onto ``[c - s / 2, c + s / 2]`` per axis; the bound adds 0.1 %
    of ``s`` and 3 px for the float32 matrix and the bilinear 2x2 neighbourhood.
    """
    height, width = image.shape[:2]
    half = scale.astype(np.float64) * 0.5005 + 3.0
    (low_x, low_y), (high_x, high_y) = (center - half).min(axis=0).tolist(), (center + half).max(axis=0).tolist()

    def clip(value: float, limit: int) -> int:
        return min(max(int(value), 0), limit)

    return (
        clip(math.floor(low_x), width),
        clip(math.floor(low_y), height),
        clip(math.ceil(high_x) + 1, width),
        clip(math.ceil(high_y) + 1, height),
    )


def _four_channel_copy(image: np.ndarray, region: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """``(H, W, 3)`` uint8 → ``(H, W, 4)`` uint8 image with a constant 4th channel, for OpenCV's 4-channel SIMD warp.

    Only ``region`` ``(x0, y0, x1, y1)`` (default: the whole image) is converted; outside it the result holds stale
    values, so it may only feed warps that read inside the region (`_crop_footprint`). The result may live in a
    per-thread buffer that the next call overwrites: use it before converting another image.
    """
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (0, 0, width, height) if region is None else region
    needed = height * width * 4
    if needed > _SCRATCH_MAX_BYTES:
        target = np.empty((height, width, 4), dtype=np.uint8)
    else:
        buffer = getattr(_SCRATCH, "buffer", None)
        if buffer is None or buffer.size < needed:
            buffer = _SCRATCH.buffer = np.empty(needed, dtype=np.uint8)
        target = buffer[:needed].reshape(height, width, 4)
    if x1 > x0 and y1 > y0:
        window = target[y0:y1, x0:x1]
        result = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2RGBA, dst=window)
        if result is not window and not np.shares_memory(result, window):  # OpenCV wrote to a new array
            window[...] = result
    return target


def _normalization_table(do_rescale, rescale_factor, do_normalize, image_mean, image_std) -> np.ndarray:
    """``(3, 256)`` float32: entry ``[c, v]`` is `_rescale_and_normalize` of grey level ``v`` in channel ``c``.

    Looking a uint8 crop up in this table gives bit for bit the float32 rounding of the float64 formula (elementwise
    IEEE operations do not depend on the array they run on), at a fraction of its cost: no float64 image is made.
    """
    key = (
        bool(do_rescale),
        float(rescale_factor) if do_rescale else None,
        bool(do_normalize),
        tuple(np.ravel(np.asarray(image_mean, dtype=np.float64)).tolist()) if do_normalize else None,
        tuple(np.ravel(np.asarray(image_std, dtype=np.float64)).tolist()) if do_normalize else None,
    )
    table = _TABLE_CACHE.get(key)
    if table is None:
        levels = np.broadcast_to(np.arange(256, dtype=np.float64), (3, 1, 256))
        table = _rescale_and_normalize(levels, do_rescale, rescale_factor, do_normalize, image_mean, image_std)
        table = np.ascontiguousarray(np.broadcast_to(table, (3, 1, 256)).reshape(3, 256), dtype=np.float32)
        if len(_TABLE_CACHE) > 64:
            _TABLE_CACHE.clear()
        _TABLE_CACHE[key] = table
    return table


def _get_field(outputs, name: str):
    value = getattr(outputs, name, None)
    if value is None and isinstance(outputs, Mapping):
        value = outputs.get(name)
    return value


def _read_outputs(outputs, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(keypoints float32 (P, K, 2), scores float32 (P, K), sigma float32 (P, K, 2) or None)``."""
    keypoints = _get_field(outputs, "keypoints")
    if keypoints is None:
        raise ValueError(f"{name} has no `keypoints` (normalized (P, K, 2) coordinates)")
    keypoints = _to_numpy(keypoints, f"{name}.keypoints").astype(np.float32)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"{name}.keypoints must have shape (P, K, 2); got {keypoints.shape}")
    _check_unit_interval(keypoints, f"{name}.keypoints", finite_only=True)
    sigma = _get_field(outputs, "sigma")
    if sigma is not None:
        sigma = _to_numpy(sigma, f"{name}.sigma").astype(np.float32)
        if sigma.shape != keypoints.shape:
            raise ValueError(f"{name}.sigma must have shape {keypoints.shape}; got {sigma.shape}")
        _check_unit_interval(sigma, f"{name}.sigma")
    scores = _get_field(outputs, "scores")
    if scores is not None:
        scores = _to_numpy(scores, f"{name}.scores").astype(np.float32)
        if scores.shape != keypoints.shape[:2]:
            raise ValueError(f"{name}.scores must have shape {keypoints.shape[:2]}; got {scores.shape}")
        _check_unit_interval(scores, f"{name}.scores")
    elif sigma is not None:
        scores = (1 - sigma).mean(axis=-1).astype(np.float32)
    else:
        scores = np.ones(keypoints.shape[:2], dtype=np.float32)
    return keypoints, scores, sigma


def _box_sequence(boxes) -> list:
    if boxes is None:
        raise ValueError("boxes is required: one (num_boxes, 4) list of COCO [x, y, w, h] boxes per image")
    if isinstance(boxes, np.ndarray) or _is_torch(boxes):
        boxes = _to_numpy(boxes, "boxes")
        if boxes.ndim != 3 and boxes.size:
            raise ValueError(f"boxes as an array must have shape (num_images, num_boxes, 4); got {boxes.shape}")
        return list(boxes)
    if not isinstance(boxes, Sequence) or isinstance(boxes, str):
        raise TypeError(f"boxes must be a list with one (num_boxes, 4) list per image; got {type(boxes).__name__}")
    return list(boxes)


def _normalize_boxes(boxes, num_images: int, single: bool) -> list[np.ndarray | None]:
    """One validated float32 ``(n_i, 4)`` array (or ``None`` = whole image) per image."""
    if boxes is None:
        return [None] * num_images
    if single:
        try:
            array = np.asarray(_to_numpy(boxes, "boxes"), dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and (array.ndim == 2 or array.size == 0):  # `[]`: a single image with no boxes
            boxes = [boxes]
        elif array is not None and array.ndim == 1 and array.size == 4:
            raise ValueError(
                f"boxes must be (num_boxes, 4) for a single image; wrap the box in a list: [{list(boxes)}]"
            )
    box_lists = _box_sequence(boxes)
    if len(box_lists) != num_images:
        raise ValueError(
            f"got {len(box_lists)} box lists for {num_images} images; boxes must hold one (num_boxes, 4) list per image"
        )
    normalized = []
    for index, image_boxes in enumerate(box_lists):
        if image_boxes is None:
            normalized.append(None)
            continue
        try:
            array = np.asarray(_to_numpy(image_boxes, f"boxes[{index}]"), dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"boxes[{index}] is not a (num_boxes, 4) array of numbers: {error}") from error
        if array.size and array.ndim != 2:
            raise ValueError(
                f"boxes[{index}] must have shape (num_boxes, 4) in COCO [x, y, w, h]; got shape {array.shape}"
            )
        normalized.append(_check_float32(validate_boxes_xywh(array, name=f"boxes[{index}]"), array, f"boxes[{index}]"))
    return normalized


def _check_float32(boxes32: np.ndarray, boxes, name: str) -> np.ndarray:
    """Raise if a box valid in float64 is not as float32 (a value beyond 3.4e38, or a width / height below 1e-45 that
    rounds to 0); names ``name[j]``."""
    bad = ~np.isfinite(boxes32).all(axis=-1) | (boxes32[:, 2] <= 0) | (boxes32[:, 3] <= 0)
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(
            f"{name}[{j}] = {np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[j].tolist()} does not fit "
            "in float32 (a value beyond 3.4e38, or a width or height that rounds to 0)"
        )
    return boxes32


def _check_unit_interval(values: np.ndarray, name: str, finite_only: bool = False) -> None:
    """Raise if an output array has a non-finite value (or, unless ``finite_only``, one outside ``[0, 1]``); names
    ``name[p][k]``."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) if finite_only else ~((values >= 0) & (values <= 1))
    if bad.any():
        index = np.argwhere(bad)[0]
        where = "".join(f"[{i}]" for i in index[:2])
        rule = "finite" if finite_only else "in [0, 1]"
        raise ValueError(f"{name}{where} = {values[tuple(index)].item()} must be {rule}")


def _check_crops(center: np.ndarray, scale: np.ndarray, names: list[str]) -> None:
    """Raise if a box's crop ``center`` / padded, aspect-fixed ``scale`` is not finite and positive in float32 (a box
    of 1e-45 px, or one whose padded size overflows); the message names the box (``names[p]``)."""
    bad = ~(np.isfinite(center).all(axis=-1) & np.isfinite(scale).all(axis=-1) & (scale > 0).all(axis=-1))
    if bad.any():
        p = int(np.argmax(bad))
        raise ValueError(
            f"{names[p]} gives the crop center {center[p].tolist()} and size {scale[p].tolist()}: the box is "
            "too small or too large for a float32 crop"
        )


def _check_boxes_inside(boxes: np.ndarray, image_size: tuple[int, int], image_index: int) -> None:
    """Raise if a box does not overlap the image ``[0, W] x [0, H]`` at all (its crop would be all black)."""
    width, height = image_size
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x, y, w, h = boxes.T
    outside = (x + w <= 0) | (y + h <= 0) | (x >= width) | (y >= height)
    if outside.any():
        box_index = int(np.argmax(outside))
        x, y, w, h = boxes[box_index]
        raise ValueError(
            f"boxes[{image_index}][{box_index}] = {[float(x), float(y), float(w), float(h)]} lies wholly outside "
            f"image {image_index} of size (W, H) = ({width}, {height})"
        )


# ----------------------------------------------------------------------------------------------------- registration


def register(config_classes: Iterable[type] = ()) -> None:
    """Register `TopDownPoseImageProcessor` with `AutoImageProcessor` (idempotent).

    Always registers it under the key ``"hfpose_topdown"``, which is enough for
    ``AutoImageProcessor.from_pretrained(dir)`` to find it through the ``image_processor_type`` saved in
    ``preprocessor_config.json``. It is also mapped to every config class in ``config_classes`` (`import hfpose`
    passes the top-down methods' configs from the method index), so that a model directory without
    ``preprocessor_config.json`` resolves to it through its ``config.json``.
    """
    classes = {"pil": TopDownPoseImageProcessor}
    AutoImageProcessor.register(_REGISTRY_KEY, image_processor_classes=classes, exist_ok=True)
    for config_class in config_classes:
        AutoImageProcessor.register(config_class, image_processor_classes=dict(classes), exist_ok=True)
