# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Image processor of the bottom-up associative-embedding models (HRNet-AE, HigherHRNet) with MMPose 0.29's UDP.

Pre-processing resizes the whole image (short side to ``input_size``, long side rounded **up** to a multiple of
``base_length``, anchored top-left, zero padding right/bottom) and normalizes it. Post-processing aggregates the
network outputs over stages, flip test and scales, parses them with associative embedding
(:mod:`hfpose.codecs.associative_embedding`) and maps the people back to image pixels.

Glossary:
    image ``w x h``: the photo in pixels. Input ``w_in x h_in`` (``base_size``): the network input.
    scale ``(scale_w, scale_h)``: the image region, in image px measured as pixel *intervals*, that spans the input
        canvas: with UDP an input pixel ``x_in`` is image pixel ``x_in * scale_w / (w_in - 1)``.
    heatmap ``W x H``: a network output map (stride 4 for HRNet-AE, stride 2 for HigherHRNet's last stage).
    K keypoints, L = 2 tag dimensions with flip test (1 without), P people.

Source: Cheng et al., "HigherHRNet: Scale-Aware Representation Learning for Bottom-Up Human Pose Estimation",
CVPR 2020 (multi-resolution aggregation, flip test); Huang et al., "The Devil is in the Details" (UDP), CVPR 2020;
reference implementation MMPose v0.29.0 (open-mmlab/mmpose@0d9a00c) ``BottomUpGetImgSize``,
``BottomUpResizeAlign`` (``mmpose/datasets/pipelines/bottom_up_transform.py``), ``AssociativeEmbedding.forward_test``
with ``flip_feature_maps`` / ``aggregate_stage_flip`` / ``aggregate_scale`` (``mmpose/core/post_processing``),
as specified in the MMPose 0.29 golden-fixture README (``bottomup029/README.md``) (sections ``resize.npz``, A, B).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from transformers import AutoImageProcessor
from transformers.image_processing_backends import PilBackend
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from transformers.processing_utils import ImagesKwargs, Unpack

from .codecs.associative_embedding import AssociativeEmbeddingDecoder, heatmap_to_image
from .codecs.flip import flip_heatmaps
from .geometry import warp_affine_bilinear
from .image_io import as_image_list as _as_image_list
from .image_io import load_rgb_image as _load_image
from .keypoints import COCO_KEYPOINTS

__all__ = [
    "BottomUpPoseImageProcessor",
    "BottomUpPoseImageProcessorKwargs",
    "get_multi_scale_size",
    "get_resize_warp_matrix",
    "warp_affine_bilinear",
    "aggregate_outputs",
    "register",
]

# Key under which the processor is always registered, so that `AutoImageProcessor.from_pretrained` finds it by the
# `image_processor_type` saved in `preprocessor_config.json`.
_REGISTRY_KEY = "hfpose_bottomup"
# OpenCV's fixed-point warp addresses source pixels with int16.
_MAX_SIDE = 32767


def _ceil_to_multiple(value: float, base: int) -> int:
    return int(np.ceil(value / base)) * base


def get_multi_scale_size(
    image_size: tuple[int, int],
    input_size: tuple[int, int],
    current_scale: float,
    min_scale: float,
    base_length: int = 64,
) -> tuple[tuple[int, int], tuple[float, float], tuple[float, float]]:
    """Network input size, centre and UDP ``scale`` of an image at one test scale (MMPose 0.29, ``use_udp=True``).

    At ``min_scale`` the short side becomes ``input_size * min_scale`` rounded up to a multiple of ``base_length``
    and the long side ``short_in / short * long`` rounded up to a multiple of ``base_length`` (evaluated in this
    float order, as the reference does); other scales multiply both by ``current_scale / min_scale`` (truncated).
    With ``w >= h``: ``scale = ((w_in - 1) / (h_in - 1) * (h - 1), h - 1)``; with ``w < h``:
    ``scale = (w - 1, (h_in - 1) / (w_in - 1) * (w - 1))``.

    Args:
        image_size: ``(w, h)`` of the image in pixels.
        input_size: ``(width, height)`` of the square-ish network input (``(512, 512)`` in the configs).
        current_scale: the test scale factor of this input. min_scale: the smallest test scale factor.
        base_length: the input sides are multiples of it (64: the network's total stride times 2).

    Returns:
        ``(w_in, h_in)``; ``center = scale / 2`` (stored by 0.29, unused with UDP); ``scale`` ``(scale_w, scale_h)``
        in image px.

    Raises:
        ValueError: if the image is smaller than 2x2 pixels (UDP measures sizes as ``n - 1`` intervals).

    Source: MMPose 0.29 ``bottom_up_transform._get_multi_scale_size``.
    """
    width, height = int(image_size[0]), int(image_size[1])
    if width < 2 or height < 2:
        raise ValueError(f"images must be at least 2x2 pixels for the UDP resize; got {width}x{height}")
    min_input_w = _ceil_to_multiple(min_scale * input_size[0], base_length)
    min_input_h = _ceil_to_multiple(min_scale * input_size[1], base_length)
    if width < height:
        w_resized = int(min_input_w * current_scale / min_scale)
        h_resized = int(_ceil_to_multiple(min_input_w / width * height, base_length) * current_scale / min_scale)
        scale_w = width - 1.0
        scale_h = (h_resized - 1.0) / (w_resized - 1.0) * (width - 1.0)
    else:
        h_resized = int(min_input_h * current_scale / min_scale)
        w_resized = int(_ceil_to_multiple(min_input_h / height * width, base_length) * current_scale / min_scale)
        scale_h = height - 1.0
        scale_w = (w_resized - 1.0) / (h_resized - 1.0) * (height - 1.0)
    return (w_resized, h_resized), (scale_w / 2.0, scale_h / 2.0), (scale_w, scale_h)


def get_resize_warp_matrix(scale: Sequence[float], input_size: tuple[int, int]) -> np.ndarray:
    """The float32 ``(2, 3)`` ``cv2.warpAffine`` matrix of the 0.29 UDP test resize (image px → input px).

    ``diag(float32(w_in - 1) / float32(scale_w), float32(h_in - 1) / float32(scale_h))`` with no translation: image
    pixel ``(0, 0)`` stays at ``(0, 0)`` (top-left anchor) and the short side's last pixel lands on input pixel 511.
    (``get_warp_matrix(0, size_input=scale, size_dst=base_size - 1, size_target=scale)`` in float32.)

    Args:
        scale: ``(scale_w, scale_h)`` from :func:`get_multi_scale_size` (at the smallest test scale).
        input_size: ``(w_in, h_in)`` of this input.
    """
    scale = np.asarray(scale, dtype=np.float32)
    matrix = np.zeros((2, 3), dtype=np.float32)
    matrix[0, 0] = np.float32(input_size[0] - 1) / scale[0]
    matrix[1, 1] = np.float32(input_size[1] - 1) / scale[1]
    return matrix


def _interpolate(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return torch.nn.functional.interpolate(maps, size=size, mode="bilinear", align_corners=True)


def aggregate_outputs(
    heatmaps: Sequence[Sequence[torch.Tensor]],
    tags: Sequence[torch.Tensor],
    heatmaps_flipped: Sequence[Sequence[torch.Tensor]] | None,
    tags_flipped: Sequence[torch.Tensor] | None,
    scale_factors: Sequence[float],
    flip_indices: Sequence[int] | None,
    tag_per_joint: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Aggregate raw bottom-up outputs over stages, flip test and test scales into the parser's inputs.

    Per scale (all float32, in this order):

    1. flipped outputs are flipped back: reverse the width, then reorder channels by ``flip_indices`` (tags too when
       ``tag_per_joint``); no pixel shift;
    2. heatmaps: every stage is resized to the last stage's size (bilinear, ``align_corners=True``) and averaged;
       then the original and flipped-back averages are averaged;
    3. tags (stage 0): ``[original, flipped-back]`` are kept as tag dimensions (L = 2).

    Across scales (given in descending order, as the reference runs them), heatmaps are resized to the **last**
    (smallest) scale's size and averaged; tags come from scale 1 only (or the single scale). Finally the tags are
    resized per dimension to the heatmap size.

    Args:
        heatmaps: per scale, the per-stage heatmaps ``(B, K, H_s, W_s)``, highest stride first.
        tags: per scale, the stage-0 tags ``(B, K, H_0, W_0)`` (``(B, 1, H_0, W_0)`` without ``tag_per_joint``).
        heatmaps_flipped, tags_flipped: the same for the horizontally flipped input (not yet flipped back), or None.
        scale_factors: the test scale factors, in the same (descending) order as ``heatmaps``.
        flip_indices: keypoint permutation of the flip test.
        tag_per_joint: whether ``tags`` has one channel per keypoint.

    Returns:
        ``heatmaps`` ``(B, K, H, W)`` and ``tags`` ``(B, K_t, H, W, L)`` float32 tensors at the parse resolution.

    Raises:
        ValueError: if the number of scales disagrees, or several scales are given without a scale factor of 1.

    Source: MMPose 0.29 ``AssociativeEmbedding.forward_test`` (``flip_feature_maps``, ``aggregate_stage_flip`` with
    ``index=-1``, ``aggregate_scale``); golden README ``bottomup029`` section A.
    """
    if len(heatmaps) != len(scale_factors) or len(tags) != len(scale_factors):
        raise ValueError(f"need one output per scale factor ({len(scale_factors)}); got {len(heatmaps)}")
    flip = heatmaps_flipped is not None
    if flip and (flip_indices is None or tags_flipped is None or len(heatmaps_flipped) != len(scale_factors)):
        raise ValueError("the flip test needs flip_indices and flipped heatmaps and tags for every scale")
    if len(scale_factors) > 1 and 1 not in list(scale_factors):
        raise ValueError(f"multi-scale testing takes the tags at scale factor 1; got scale_factors {scale_factors}")
    scale_heatmaps, scale_tags = [], []
    for index, factor in enumerate(scale_factors):
        stages = [stage.float() for stage in heatmaps[index]]
        size = tuple(stages[-1].shape[-2:])
        averaged = sum(_interpolate(stage, size) for stage in stages) / len(stages)
        tag_planes = [tags[index].float()]
        if flip:
            stages_flipped = [flip_heatmaps(stage.float(), flip_indices) for stage in heatmaps_flipped[index]]
            averaged_flipped = sum(_interpolate(stage, size) for stage in stages_flipped) / len(stages_flipped)
            averaged = (averaged + averaged_flipped) / 2.0
            tag_flipped = tags_flipped[index].float()
            tag_order = flip_indices if tag_per_joint else range(tag_flipped.shape[1])
            tag_planes.append(flip_heatmaps(tag_flipped, tag_order))
        scale_heatmaps.append(averaged)
        if factor == 1 or len(scale_factors) == 1:
            scale_tags = tag_planes
    size = tuple(scale_heatmaps[-1].shape[-2:])
    aggregated = sum(_interpolate(maps, size) for maps in scale_heatmaps) / len(scale_heatmaps)
    tag_size = tuple(scale_tags[-1].shape[-2:])
    stacked = torch.stack([_interpolate(maps, tag_size) for maps in scale_tags], dim=-1)
    if tag_size != size:
        stacked = torch.stack([_interpolate(stacked[..., plane], size) for plane in range(stacked.shape[-1])], dim=-1)
    return aggregated, stacked


def _check_swaps_back(flip_indices) -> None:
    """A flip permutation must pair joints: mirroring twice is the identity (``flip[flip[i]] == i``)."""
    if flip_indices is None:
        return
    for index, partner in enumerate(flip_indices):
        if flip_indices[partner] != index:
            raise ValueError(
                f"flip_indices must pair joints (flip_indices[flip_indices[i]] == i): joint {index} maps to {partner}, "
                f"which maps to {flip_indices[partner]}; give each left/right pair both ways"
            )


class BottomUpPoseImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    input_size (`int` or `list[int]`, *optional*, defaults to `512`):
        Short-side target of the resize (``[width, height]`` for a non-square base).
    base_length (`int`, *optional*, defaults to `64`):
        The input sides are rounded up to a multiple of it.
    pad_size_divisor (`int`, *optional*):
        Size bucketing: pad the network input (bottom/right, normalized black) so that both sides are multiples of
        it (a multiple of ``base_length``); the outputs are cropped back in post-processing. Off by default.
    use_udp (`bool`, *optional*, defaults to `True`):
        Unbiased data processing; only True (the ``*_udp`` configs) is supported.
    scale_factors (`list[float]`, *optional*, defaults to `[1]`):
        Test scales (multi-scale testing); 1 must be among them when there are several.
    flip_test (`bool`, *optional*, defaults to `True`):
        Whether callers should also run the mirrored input (read by the pipeline).
    flip_indices (`list[int]`, *optional*):
        Left/right keypoint permutation for the flip test.
    keypoint_names (`list[str]`, *optional*):
        Names returned as ``labels``.
    grouping_order (`list[int]`, *optional*):
        Order in which keypoints are grouped.
    max_num_people, detection_threshold, tag_threshold, use_detection_val, ignore_too_much, adjust, refine,
    nms_kernel, tag_per_joint:
        Associative-embedding parser settings (MMPose 0.29 ``test_cfg``).
    """

    input_size: int | list[int] | None
    base_length: int | None
    pad_size_divisor: int | None
    use_udp: bool | None
    scale_factors: list[float] | None
    flip_test: bool | None
    flip_indices: list[int] | None
    keypoint_names: list[str] | None
    grouping_order: list[int] | None
    max_num_people: int | None
    detection_threshold: float | None
    tag_threshold: float | None
    use_detection_val: bool | None
    ignore_too_much: bool | None
    adjust: bool | None
    refine: bool | None
    nms_kernel: int | None
    tag_per_joint: bool | None


class BottomUpPoseImageProcessor(PilBackend):
    r"""UDP test resize for bottom-up models, and associative-embedding post-processing back to image pixels.

    Defaults reproduce MMPose 0.29 ``{hrnet,higherhrnet}_w{32,48}_coco_512x512_udp.py`` (COCO, flip test,
    single scale).

    Args:
        input_size (`int` or `list[int]`, *optional*, defaults to `512`): short side of the network input.
        base_length (`int`, *optional*, defaults to `64`): input sides are multiples of it.
        pad_size_divisor (`int`, *optional*, defaults to `None`): size buckets. When set (a multiple of
            ``base_length``, e.g. 256), the network input is padded bottom/right with normalized black to the next
            multiple of it on both sides, so that the images of a dataset come in a few input sizes (coco-mini val at
            512: 12 sizes; 6 with 256, for 9.7 % more input pixels); post-processing crops the outputs back to each
            image's own ``base_size``. For backends that compile one graph per input size (Inductor). It costs the
            padded pixels' compute and changes the network's outputs everywhere (every convolution's zero padding
            moves to the new border), which moves the bottomup029 golden people beyond their tolerance
            (``tests/test_image_processing_bottomup.py``, ``docs/performance.md``): off by default; the onnxruntime
            default (one graph for every size) does not need it. Single scale only.
        use_udp (`bool`, *optional*, defaults to `True`): only True is supported.
        image_mean, image_std (`list[float]`, *optional*, defaults to ImageNet): RGB normalization of
            ``x * rescale_factor``.
        do_rescale, rescale_factor (`1/255`), do_normalize: as in every transformers image processor.
        scale_factors (`list[float]`, *optional*, defaults to `[1]`): test scales.
        flip_test (`bool`, *optional*, defaults to `True`), flip_indices (`list[int]`, *optional*, defaults to COCO's):
            flip test settings.
        keypoint_names (`list[str]`, *optional*, defaults to COCO's), grouping_order (`list[int]`, *optional*,
            defaults to COCO's): keypoint metadata.
        max_num_people (30), detection_threshold (0.1), tag_threshold (1.0), use_detection_val (True),
        ignore_too_much (False), adjust (True), refine (True), nms_kernel (5), tag_per_joint (True):
            parser settings, see `hfpose.codecs.associative_embedding`.

    Raises:
        ValueError: on an invalid setting (names it).

    Batching: images of different input sizes are padded bottom/right to the largest input (with the normalized
    value of black, i.e. the resize canvas is extended) and the outputs are cropped back to each image's own size in
    post-processing. That is exact for the padded canvas but not bit-identical to running the image alone (the
    network sees the extra canvas near the right/bottom border); for 0.29-identical results pass one image per call
    (as the pipeline does) or images of the same input size.

    Example:

    ```python
    >>> processor = BottomUpPoseImageProcessor()
    >>> inputs = processor(image, return_tensors="pt")
    >>> outputs = model(inputs["pixel_values"])
    >>> outputs_flipped = model(inputs["pixel_values"].flip(-1))
    >>> people = processor.post_process_pose_estimation(
    ...     outputs, base_size=inputs["base_size"], scale=inputs["scale"], outputs_flipped=outputs_flipped
    ... )[0]
    >>> people[0]["keypoints"]  # (K, 2) image pixels
    ```
    """

    valid_kwargs = BottomUpPoseImageProcessorKwargs
    model_input_names = ["pixel_values"]
    bottom_up = True  # whole images in, every person out (read by the pipeline and the evaluation loop)

    input_size = 512
    base_length = 64
    pad_size_divisor = None
    use_udp = True
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    do_resize = False
    do_center_crop = False
    do_pad = False
    scale_factors = [1]
    flip_test = True
    flip_indices = list(COCO_KEYPOINTS.flip_indices)
    keypoint_names = list(COCO_KEYPOINTS.names)
    grouping_order = list(COCO_KEYPOINTS.grouping_order)
    max_num_people = 30
    detection_threshold = 0.1
    tag_threshold = 1.0
    use_detection_val = True
    ignore_too_much = False
    adjust = True
    refine = True
    nms_kernel = 5
    tag_per_joint = True

    def __init__(self, **kwargs: Unpack[BottomUpPoseImageProcessorKwargs]):
        super().__init__(**kwargs)
        self._check_settings()

    def _check_settings(self) -> None:
        size = self.input_size
        sizes = [size, size] if isinstance(size, (int, np.integer)) else list(size)
        if len(sizes) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError(f"input_size must be a positive int or [width, height]; got {size!r}")
        if not (isinstance(self.base_length, (int, np.integer)) and self.base_length > 0):
            raise ValueError(f"base_length must be a positive int; got {self.base_length!r}")
        divisor = self.pad_size_divisor
        if divisor is not None and not (
            isinstance(divisor, (int, np.integer)) and divisor > 0 and divisor % self.base_length == 0
        ):
            raise ValueError(
                f"pad_size_divisor must be None or a positive multiple of base_length ({self.base_length}); "
                f"got {divisor!r}"
            )
        if not self.use_udp:
            raise ValueError("use_udp=False (the biased 0.x bottom-up resize) is not supported; use use_udp=True")
        factors = [float(f) for f in self.scale_factors]
        if not factors or any(not f > 0 for f in factors):
            raise ValueError(f"scale_factors must be a non-empty list of positive numbers; got {self.scale_factors}")
        if len(factors) > 1 and 1.0 not in factors:
            raise ValueError(f"scale_factors must contain 1 when there are several (tags come from it); got {factors}")
        self.scale_factors = factors
        if divisor is not None and len(factors) > 1:
            raise ValueError(f"pad_size_divisor is for single-scale testing; got scale_factors {factors}")
        num_keypoints = len(self.keypoint_names)
        for name in ("flip_indices", "grouping_order"):
            value = getattr(self, name)
            if value is None:
                continue
            value = [int(i) for i in value]
            if sorted(value) != list(range(num_keypoints)):
                raise ValueError(
                    f"{name} must be a permutation of range({num_keypoints}) (K from keypoint_names); got {value}"
                )
            setattr(self, name, value)
        _check_swaps_back(self.flip_indices)
        self.keypoint_names = [str(name) for name in self.keypoint_names]
        _ = self.decoder  # validates the parser settings

    @property
    def decoder(self) -> AssociativeEmbeddingDecoder:
        """The associative-embedding parser with this processor's settings."""
        return AssociativeEmbeddingDecoder(
            num_keypoints=len(self.keypoint_names),
            grouping_order=self.grouping_order,
            max_num_people=int(self.max_num_people),
            detection_threshold=float(self.detection_threshold),
            tag_threshold=float(self.tag_threshold),
            use_detection_val=bool(self.use_detection_val),
            ignore_too_much=bool(self.ignore_too_much),
            nms_kernel=int(self.nms_kernel),
            adjust=bool(self.adjust),
            refine=bool(self.refine),
            use_udp=bool(self.use_udp),
        )

    @property
    def input_size_pair(self) -> tuple[int, int]:
        """``(width, height)`` of the base input size."""
        size = self.input_size
        return (int(size), int(size)) if isinstance(size, (int, np.integer)) else (int(size[0]), int(size[1]))

    # ------------------------------------------------------------------------------------------------ preprocessing

    def preprocess(self, images, **kwargs: Unpack[BottomUpPoseImageProcessorKwargs]) -> BatchFeature:
        r"""Resize (UDP, top-left anchored) and normalize whole images.

        Args:
            images (`PIL.Image.Image`, `np.ndarray`, `torch.Tensor`, `str` / `os.PathLike`, or a list of them):
                RGB images (see `TopDownPoseImageProcessor.preprocess` for the accepted forms: grayscale is repeated
                to RGB, alpha is dropped, file paths are decoded with PIL and EXIF-rotated).
            return_tensors (`str`, *optional*): ``"pt"`` for torch tensors, ``"np"`` / ``None`` for numpy.

        Returns:
            `BatchFeature` with ``pixel_values`` float32 ``(B, 3, h_in, w_in)`` at scale factor 1 (the largest
            input of the batch; smaller ones padded, see the class docstring), ``base_size`` int64 ``(B, 2)`` each
            image's own ``(w_in, h_in)`` at scale factor 1, and ``scale`` float64 ``(B, 2)`` the UDP
            ``(scale_w, scale_h)`` used to map keypoints back. With several ``scale_factors`` use
            :meth:`multi_scale_pixel_values` for the other scales.

        Raises:
            ValueError: an unsupported image (shape, value range, fewer than 2x2 pixels), or an invalid setting.
            TypeError: an image of an unsupported type.
        """
        return super().preprocess(images, **kwargs)

    def _preprocess_image_like_inputs(self, images, input_data_format=None, **kwargs) -> BatchFeature:
        image_list, _ = _as_image_list(images)
        convert_rgb = kwargs.get("do_convert_rgb", True)
        arrays = [_load_image(image, index, input_data_format, convert_rgb) for index, image in enumerate(image_list)]
        return self._preprocess(arrays, **kwargs)

    def _preprocess(
        self,
        images: list[np.ndarray],
        input_size: int | Sequence[int],
        base_length: int,
        scale_factors: Sequence[float],
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean,
        image_std,
        return_tensors=None,
        pad_size_divisor: int | None = None,
        **kwargs,
    ) -> BatchFeature:
        if pad_size_divisor != self.pad_size_divisor:
            raise ValueError(
                f"pad_size_divisor={pad_size_divisor!r} at call time differs from the processor's "
                f"{self.pad_size_divisor!r}; set it when building the processor (post-processing crops with it)"
            )
        sizes, scales, pixels = [], [], []
        for image in images:
            resized, size, scale = self.resize_image(image, 1.0, input_size, base_length, scale_factors)
            pixels.append(self._normalize(resized, do_rescale, rescale_factor, do_normalize, image_mean, image_std))
            sizes.append(size)
            scales.append(scale)
        black = np.zeros((1, 1, 3), np.uint8)
        pad_value = self._normalize(black, do_rescale, rescale_factor, do_normalize, image_mean, image_std)
        data = {
            "pixel_values": _pad_batch(pixels, pad_value, pad_size_divisor),
            "base_size": np.asarray(sizes, dtype=np.int64).reshape(-1, 2),
            "scale": np.asarray(scales, dtype=np.float64).reshape(-1, 2),
        }
        return BatchFeature(data=data, tensor_type=return_tensors)

    def resize_image(
        self,
        image: np.ndarray,
        scale_factor: float = 1.0,
        input_size: int | Sequence[int] | None = None,
        base_length: int | None = None,
        scale_factors: Sequence[float] | None = None,
    ) -> tuple[np.ndarray, tuple[int, int], tuple[float, float]]:
        """UDP test resize of one ``(h, w, 3)`` image at one test scale.

        Returns:
            ``(resized, (w_in, h_in), (scale_w, scale_h))``: :func:`warp_affine_bilinear` (OpenCV 4's
            ``warpAffine(INTER_LINEAR)``, constant-0 border, same dtype as ``image``) with the matrix
            :func:`get_resize_warp_matrix`; ``scale`` comes from the smallest of ``scale_factors``.

        Raises:
            ValueError: if the image is smaller than 2x2 pixels, or so elongated that the input's long side would
                exceed 32767 pixels (e.g. 2x200: 102400).
        """
        input_size = self.input_size if input_size is None else input_size
        if np.isscalar(input_size):
            input_pair = (int(input_size), int(input_size))
        else:
            input_pair = tuple(int(s) for s in input_size)
        base_length = self.base_length if base_length is None else base_length
        min_scale = min(self.scale_factors if scale_factors is None else scale_factors)
        height, width = image.shape[:2]
        size, _, _ = get_multi_scale_size((width, height), input_pair, scale_factor, min_scale, base_length)
        _, _, scale = get_multi_scale_size((width, height), input_pair, min_scale, min_scale, base_length)
        if max(size) > _MAX_SIDE:
            raise ValueError(
                f"an image of {width}x{height} needs a {size[0]}x{size[1]} network input (short side "
                f"{min(size)}); its aspect ratio is too extreme (longest supported side {_MAX_SIDE} px)"
            )
        resized = warp_affine_bilinear(image, get_resize_warp_matrix(scale, size), size)
        return resized, size, scale

    @staticmethod
    def _normalize(image, do_rescale, rescale_factor, do_normalize, image_mean, image_std) -> np.ndarray:
        """``(h, w, 3)`` → float32 ``(3, h, w)``: ``x / (1 / rescale_factor)`` then ``(x - mean) / std``, in float32
        (MMPose 0.29 ``ToTensor`` divides by 255 and ``NormalizeTensor`` uses float32 mean and std)."""
        pixels = np.asarray(image, dtype=np.float32)
        if do_rescale:
            pixels = pixels / np.float32(1.0 / rescale_factor)
        if do_normalize:
            mean = np.broadcast_to(np.asarray(image_mean, dtype=np.float32), (3,))
            std = np.broadcast_to(np.asarray(image_std, dtype=np.float32), (3,))
            pixels = (pixels - mean) / std
        return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)

    def multi_scale_pixel_values(self, images, return_tensors: str | None = "pt") -> list:
        """The network inputs at every test scale, in descending scale order (as the reference runs them).

        Returns:
            list (one entry per scale factor, descending) of ``(B, 3, h_s, w_s)`` pixel values (torch for
            ``return_tensors="pt"``, else numpy). Post-process their outputs by passing the list of outputs, in the
            same order, to :meth:`post_process_pose_estimation`.
        """
        image_list, _ = _as_image_list(images)
        arrays = [_load_image(image, index) for index, image in enumerate(image_list)]
        args = (self.do_rescale, self.rescale_factor, self.do_normalize, self.image_mean, self.image_std)
        pad_value = self._normalize(np.zeros((1, 1, 3), np.uint8), *args)
        result = []
        for factor in sorted(self.scale_factors, reverse=True):
            pixels = [self._normalize(self.resize_image(array, factor)[0], *args) for array in arrays]
            batch = _pad_batch(pixels, pad_value)
            result.append(torch.from_numpy(batch) if return_tensors == "pt" else batch)
        return result

    # ----------------------------------------------------------------------------------------------- postprocessing

    def post_process_pose_estimation(
        self,
        outputs,
        base_size=None,
        scale=None,
        outputs_flipped=None,
        threshold: float | None = None,
    ) -> list[list[dict[str, Any]]]:
        r"""Aggregate, parse and map the people of every image back to image pixels.

        Args:
            outputs (model output or mapping, or a list of them): ``heatmaps`` (tuple of ``(B, K, H_s, W_s)`` per
                output resolution, highest stride first) and ``tags`` ``(B, K, H_0, W_0)``. With several
                ``scale_factors``, a list of outputs in descending scale order (see :meth:`multi_scale_pixel_values`).
            base_size (`(B, 2)`): each image's ``(w_in, h_in)`` from pre-processing (scale factor 1); needed to crop
                padded batches (several images, or ``pad_size_divisor``), optional for one image without it.
            scale (`(B, 2)`): ``(scale_w, scale_h)`` from pre-processing.
            outputs_flipped (*optional*): the model run on ``pixel_values.flip(-1)`` (same structure as
                ``outputs``). Enables the flip test (L = 2 tags).
            threshold (`float`, *optional*): keypoints whose score is **below** it get NaN coordinates (K and
                ``labels`` unchanged).

        Returns:
            `list[list[dict]]`: per image, per person (in the parser's order) ``{"keypoints": np.ndarray float32
            (K, 2) image px, "scores": np.ndarray float32 (K,) keypoint values (refined keypoints included),
            "score": float, the person score (mean keypoint value before refinement), "bbox": np.ndarray float32 (4,)
            COCO [x, y, w, h] enclosing the keypoints with a positive score, "labels": keypoint names}``. An image
            without people gives an empty list.

        Raises:
            ValueError: missing ``heatmaps`` / ``tags``, a ``scale`` or ``base_size`` whose length differs from the
                batch, or map sizes inconsistent with ``base_size``.
        """
        if scale is None:
            raise ValueError("scale is required: pass the `scale` returned by the processor")
        outputs_list = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        flipped_list = None
        if outputs_flipped is not None:
            flipped_list = list(outputs_flipped) if isinstance(outputs_flipped, (list, tuple)) else [outputs_flipped]
        factors = sorted(self.scale_factors, reverse=True) if len(outputs_list) > 1 else [1.0]
        heatmaps = [_read_heatmaps(out, "outputs") for out in outputs_list]
        tags = [_read_tags(out, "outputs") for out in outputs_list]
        heatmaps_flipped = tags_flipped = None
        if flipped_list is not None:
            heatmaps_flipped = [_read_heatmaps(out, "outputs_flipped") for out in flipped_list]
            tags_flipped = [_read_tags(out, "outputs_flipped") for out in flipped_list]

        batch_size = heatmaps[0][0].shape[0]
        scale = _as_numpy(scale, "scale", np.float64).reshape(-1, 2)
        if scale.shape[0] != batch_size:
            raise ValueError(f"scale has {scale.shape[0]} rows for a batch of {batch_size}")
        base_size = None if base_size is None else _as_numpy(base_size, "base_size", np.int64).reshape(-1, 2)
        if base_size is not None and base_size.shape[0] != batch_size:
            raise ValueError(f"base_size has {base_size.shape[0]} rows for a batch of {batch_size}")
        if base_size is None and (batch_size > 1 or self.pad_size_divisor is not None):
            raise ValueError("base_size is required for a batch of more than one image or with pad_size_divisor")

        decoder = self.decoder
        results = []
        for index in range(batch_size):
            crop = _crop_to_image(index, base_size, heatmaps[-1][0].shape, self.pad_size_divisor)
            # The mirror view is the padded input flipped: its image sits at the right, the padding at the left.
            crop_flipped = _crop_to_image(index, base_size, heatmaps[-1][0].shape, self.pad_size_divisor, True)

            def select(maps_per_scale, crop=crop):
                return [[crop(maps)[index : index + 1] for maps in stages] for stages in maps_per_scale]

            aggregated, aggregated_tags = aggregate_outputs(
                select(heatmaps),
                [crop(t)[index : index + 1] for t in tags],
                None if heatmaps_flipped is None else select(heatmaps_flipped, crop_flipped),
                None if tags_flipped is None else [crop_flipped(t)[index : index + 1] for t in tags_flipped],
                factors,
                self.flip_indices,
                bool(self.tag_per_joint),
            )
            heatmaps_np = aggregated[0].detach().cpu().numpy()
            tags_np = aggregated_tags[0].detach().cpu().numpy()
            if not np.isfinite(heatmaps_np).all():
                raise ValueError(f"outputs.heatmaps of image {index} contain non-finite values")
            if not np.isfinite(tags_np).all():
                raise ValueError(f"outputs.tags of image {index} contain non-finite values")
            decoded = decoder.decode(heatmaps_np, tags_np)
            height, width = heatmaps_np.shape[-2:]
            keypoints = heatmap_to_image(decoded["keypoints"], scale[index], (width, height))
            results.append(
                [
                    self._person(person[:, :2], person[:, 2], float(score), threshold)
                    for person, score in zip(keypoints, decoded["person_scores"])
                ]
            )
        return results

    def _person(self, keypoints: np.ndarray, scores: np.ndarray, score: float, threshold: float | None) -> dict:
        keypoints = np.array(keypoints, dtype=np.float32)
        scores = np.array(scores, dtype=np.float32)
        visible = scores > 0
        points = keypoints[visible] if visible.any() else keypoints
        low, high = points.min(axis=0), points.max(axis=0)
        bbox = np.array([low[0], low[1], high[0] - low[0], high[1] - low[1]], dtype=np.float32)
        if threshold is not None:
            keypoints[scores < threshold] = np.nan
        labels = list(self.keypoint_names)
        return {"keypoints": keypoints, "scores": scores, "score": score, "bbox": bbox, "labels": labels}


def _round_up(value: int, divisor: int | None) -> int:
    return int(value) if divisor is None else -(-int(value) // int(divisor)) * int(divisor)


def _pad_batch(pixels: list[np.ndarray], pad_value: np.ndarray, divisor: int | None = None) -> np.ndarray:
    """Stack ``(3, h_i, w_i)`` inputs top-left into ``(B, 3, H, W)``: the largest size, rounded up to ``divisor``."""
    height = _round_up(max(p.shape[1] for p in pixels), divisor)
    width = _round_up(max(p.shape[2] for p in pixels), divisor)
    batch = np.empty((len(pixels), 3, height, width), dtype=np.float32)
    batch[:] = pad_value.reshape(1, 3, 1, 1)
    for index, p in enumerate(pixels):
        batch[index, :, : p.shape[1], : p.shape[2]] = p
    return batch


def _crop_to_image(
    index: int, base_size: np.ndarray | None, reference_shape, divisor: int | None = None, flipped: bool = False
):
    """A function cropping ``(B, C, H_s, W_s)`` maps of a padded batch (input: the largest ``base_size`` rounded up
    to ``divisor``, see `_pad_batch`) to image ``index``'s own size: the top-left part, or with ``flipped`` (maps of
    the horizontally flipped padded input, not yet flipped back) the top-right part."""
    if base_size is None:
        return lambda maps: maps
    padded_w = _round_up(base_size[:, 0].max(), divisor)
    padded_h = _round_up(base_size[:, 1].max(), divisor)
    own_w, own_h = base_size[index]

    def crop(maps: torch.Tensor) -> torch.Tensor:
        height, width = maps.shape[-2:]
        if (height * own_h) % padded_h or (width * own_w) % padded_w:
            raise ValueError(
                f"maps of size {width}x{height} do not match base_size {own_w}x{own_h} of image {index} "
                f"(batch input {padded_w}x{padded_h})"
            )
        own_width = width * own_w // padded_w
        if flipped:
            return maps[..., : height * own_h // padded_h, width - own_width :]
        return maps[..., : height * own_h // padded_h, :own_width]

    return crop


def _as_numpy(value, name: str, dtype) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric (B, 2); got {value!r}") from error


def _get_field(outputs, name: str):
    if isinstance(outputs, Mapping):
        return outputs.get(name)
    return getattr(outputs, name, None)


def _read_heatmaps(outputs, name: str) -> list[torch.Tensor]:
    heatmaps = _get_field(outputs, "heatmaps")
    if heatmaps is None:
        raise ValueError(f"{name} has no `heatmaps`")
    if isinstance(heatmaps, (torch.Tensor, np.ndarray)):
        heatmaps = (heatmaps,)
    heatmaps = [torch.as_tensor(h) for h in heatmaps]
    if not heatmaps or any(h.ndim != 4 for h in heatmaps):
        shapes = [tuple(h.shape) for h in heatmaps]
        raise ValueError(f"{name}.heatmaps must be a tuple of (B, K, H, W) tensors; got {shapes}")
    return heatmaps


def _read_tags(outputs, name: str) -> torch.Tensor:
    tags = _get_field(outputs, "tags")
    if tags is None:
        raise ValueError(f"{name} has no `tags`")
    tags = torch.as_tensor(tags)
    if tags.ndim != 4:
        raise ValueError(f"{name}.tags must have shape (B, K, H, W); got {tuple(tags.shape)}")
    return tags


# ----------------------------------------------------------------------------------------------------- registration


def register(config_classes: Iterable[type] = ()) -> None:
    """Register `BottomUpPoseImageProcessor` with `AutoImageProcessor` (idempotent).

    Always registers it under the key ``"hfpose_bottomup"``, enough for ``AutoImageProcessor.from_pretrained(dir)`` to
    find it through the ``image_processor_type`` in ``preprocessor_config.json``; also maps it to every class in
    ``config_classes`` (`import hfpose` passes the bottom-up methods' configs from the method index).
    """
    classes = {"pil": BottomUpPoseImageProcessor}
    AutoImageProcessor.register(_REGISTRY_KEY, image_processor_classes=classes, exist_ok=True)
    for config_class in config_classes:
        AutoImageProcessor.register(config_class, image_processor_classes=dict(classes), exist_ok=True)
