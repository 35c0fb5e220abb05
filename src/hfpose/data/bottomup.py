# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Bottom-up COCO view and the MMPose 0.29 UDP training pipeline of the associative-embedding models.

Glossary:
    K: number of keypoints. n: annotated people of an image. r: side of a square output (a heatmap resolution, e.g.
    128 and 256 for HigherHRNet, or the 512 input). S = (w, h) * aug_scale: the augmented image size (float32).
    image px / heatmap px: ``(x, y)`` with pixel centres at integers.

Dataset (``load_coco_bottomup``): one row per image, as MMPose 0.29 ``BottomUpCocoDataset``: the ``joints`` of every
annotation with ``iscrowd == 0`` or ``num_keypoints > 0`` (people without keypoints are all-zero rows), in annotation
order, and the segmentations that make the *ignore mask*: crowd regions (RLE) and the polygons of people with
``num_keypoints == 0``. :func:`bottomup_valid_mask` decodes them (pycocotools) into the ``(H, W)`` mask, ``True`` =
valid
(MMPose's ``m < 0.5`` after summing the decoded regions). For training, images without any annotation are skipped (as
0.29 does outside test mode).

Training transform (``BottomUpTrainTransform``), the 0.29 ``train_pipeline`` of ``{hrnet,higherhrnet}_w32_coco_512x512
_udp.py``: ``LoadImageFromFile`` (RGB) → ``BottomUpRandomAffine(rot_factor=30, scale_factor=[0.75, 1.5], scale_type=
'short', trans_factor=40, use_udp=True)`` → ``BottomUpRandomFlip(0.5)`` → ``ToTensor`` → ``NormalizeTensor`` →
``BottomUpGenerateTarget(sigma=2, max_num_people=30, use_udp=True)``:

* Affine (always applied): ``aug_scale = U * (1.5 - 0.75) + 0.75``, ``rotation = (2U - 1) * 30`` degrees, integer
  translation ``dx ~ randint(-40 S_w / 200, 40 S_w / 200)`` (bounds truncated toward zero, high end exclusive), same
  for ``dy`` with ``S_h``; centre ``((w - 1) / 2 + dx, (h - 1) / 2 + dy)``; a square box of side ``b = min(S_w, S_h)``
  mapped onto each r x r output by its own UDP matrix (``sx = (r - 1) / b``): ``x' = sx (cos t (x - c_x) - sin t
  (y - c_y)) + (r - 1) / 2``, ``y' = sx (sin t (x - c_x) + cos t (y - c_y)) + (r - 1) / 2`` (the box corners land on
  pixel centres 0 and r - 1 at every resolution). The image is warped to the input, the valid mask and the joints to
  every heatmap resolution (mask: bilinear on ``uint8(mask * 255)``, ``/ 255 > 0.5``; 0 outside the photo).
* Flip (probability 0.5): image and masks mirrored, joints reordered by ``flip_indices`` and ``x -> r - 1 - x``.
* Heatmaps (per resolution, per person and keypoint with ``v > 0``): ``xi = int(x)``, ``yi = int(y)`` (truncation, so
  ``-1 < x < 0`` is kept); skipped if outside ``[0, r)``; ``exp(-((X - x)^2 + (Y - y)^2) / (2 sigma^2))`` in float32 on
  the 15 x 15 window ``[xi - 7, xi + 7] x [yi - 7, yi + 7]`` (clipped to the map); channels take the maximum.
* Associative-embedding indices (per resolution): row m = person m; every keypoint with ``v > 0`` and ``0 <= int(x),
  int(y) < r`` is written as ``(k r^2 + int(y) r + int(x), 1)`` into the next free slot (**packed**, not at slot k).
* Input: ``float32(u8) / 255``, then ``(x - mean) / std`` with the ImageNet mean/std in float32 (RGB).

The float32/float64 mix of every step is reproduced (MMPose 0.29 ran on numpy 1.26, whose scalar promotion differs
from numpy 2), so targets match the reference to the last bit in practice (golden tolerance: heatmaps 1e-6, masks and
indices exact).

Source: Cheng et al., "HigherHRNet", CVPR 2020; Newell et al., "Associative Embedding", NeurIPS 2017; Huang et al.,
"UDP", CVPR 2020; reference implementation MMPose v0.29.0 ``mmpose/datasets/pipelines/bottom_up_transform.py`` and
``mmpose/datasets/datasets/bottom_up/bottom_up_coco.py`` (open-mmlab/mmpose@0d9a00c).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..keypoints import get_keypoint_set
from .coco import _check_file, _default_paths, parse_coco_keypoints
from .transforms import load_image

__all__ = [
    "load_coco_bottomup",
    "coco_bottomup_features",
    "bottomup_valid_mask",
    "bottomup_udp_warp_matrix",
    "warp_affine_joints",
    "fixed_point_warp_affine",
    "generate_udp_heatmaps_029",
    "encode_joint_indices",
    "BottomUpAugmentation",
    "BottomUpTrainTransform",
]

BOTTOMUP_MEAN = (0.485, 0.456, 0.406)
BOTTOMUP_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------------------------------------- dataset
def coco_bottomup_features(num_keypoints: int = 17):
    """`datasets.Features` of the bottom-up view: ``joints`` is ``(n, K, 3)`` ``(x, y, v)`` in image px, ``ann_ids``
    the matching annotation ids, ``ignore_segmentations`` the JSON-encoded COCO segmentations of the ignored regions."""
    from datasets import Features, List, Value

    return Features(
        {
            "image_id": Value("int64"),
            "file_name": Value("string"),
            "image_path": Value("string"),
            "width": Value("int32"),
            "height": Value("int32"),
            "ann_ids": List(Value("int64")),
            "joints": List(List(List(Value("float32"), length=3), length=num_keypoints)),
            "ignore_segmentations": List(Value("string")),
        }
    )


def load_coco_bottomup(
    root: str | os.PathLike,
    split: str = "train2017",
    ann_file: str | os.PathLike | None = None,
    num_keypoints: int = 17,
    image_dir: str | os.PathLike | None = None,
    skip_empty: bool = True,
    check_files: bool = True,
):
    """COCO person keypoints as a bottom-up `datasets.Dataset` (one row per image; MMPose 0.29 semantics).

    Args:
        root, split, ann_file, num_keypoints, image_dir, check_files: as :func:`hfpose.data.load_coco_keypoints`.
        skip_empty: drop images without any annotation (0.29's training filter); ``False`` keeps every image.

    Returns:
        `datasets.Dataset` with :func:`coco_bottomup_features`.

    Raises:
        ValueError: as :func:`hfpose.data.coco.parse_coco_keypoints`, or a missing image file.
    """
    from datasets import Dataset

    ann_path, image_root = _default_paths(Path(root), split, ann_file, image_dir)
    images, per_image = parse_coco_keypoints(ann_path, image_root, num_keypoints, check_files)
    columns: dict[str, list] = {name: [] for name in coco_bottomup_features(num_keypoints)}
    for image in images:
        anns = per_image[image["image_id"]]
        if skip_empty and not anns:
            continue
        _check_file(image)
        people = [ann for ann in anns if ann["iscrowd"] == 0 or ann["num_keypoints"] > 0]
        ignored = [ann["segmentation"] for ann in anns
                   if ann["segmentation"] and (ann["iscrowd"] or ann["num_keypoints"] == 0)]
        for key in ("image_id", "file_name", "image_path", "width", "height"):
            columns[key].append(image[key])
        columns["ann_ids"].append([ann["ann_id"] for ann in people])
        columns["joints"].append([ann["keypoints"].tolist() for ann in people])
        columns["ignore_segmentations"].append(ignored)
    return Dataset.from_dict(columns, features=coco_bottomup_features(num_keypoints))


def bottomup_valid_mask(height: int, width: int, segmentations: Sequence) -> np.ndarray:
    """Decode the ignored regions into MMPose's bottom-up mask.

    Args:
        height, width: image size in px.
        segmentations: COCO segmentations (RLE dicts, compressed or not, or polygon lists), or their JSON strings.

    Returns:
        bool ``(height, width)``: ``True`` where the loss is applied (no ignored region covers the pixel).

    Raises:
        ValueError: if a segmentation cannot be decoded (names its index).

    Source: MMPose 0.29 ``BottomUpCocoDataset._get_mask`` (``xtcocotools.mask.frPyObjects`` + ``decode``, summed,
    ``< 0.5``); pycocotools decodes identically.
    """
    from pycocotools import mask as mask_utils

    covered = np.zeros((int(height), int(width)), dtype=np.float32)
    for index, segmentation in enumerate(segmentations):
        if isinstance(segmentation, str):
            segmentation = json.loads(segmentation)
        try:
            if isinstance(segmentation, Mapping) and isinstance(segmentation.get("counts"), str):
                rles = dict(segmentation, counts=segmentation["counts"].encode())
            else:
                rles = mask_utils.frPyObjects(segmentation, int(height), int(width))
            decoded = mask_utils.decode(rles)
        except Exception as error:  # pycocotools raises bare Exceptions / TypeErrors on malformed input
            raise ValueError(f"segmentation {index} cannot be decoded: {error}") from None
        covered += decoded.reshape(int(height), int(width), -1).sum(axis=-1)
    return covered < 0.5


# ------------------------------------------------------------------------------------------------- pure functions
def bottomup_udp_warp_matrix(rotation: float, center, box_size, output_size: int) -> np.ndarray:
    """UDP matrix of ``BottomUpRandomAffine`` (0.29 ``get_warp_matrix``), image px → r x r output px.

    Args:
        rotation: degrees (counter-clockwise in image coordinates, as the reference).
        center: ``(2,)`` float64 rotation centre, image px.
        box_size: side ``b`` of the square box (float32, the short side of ``S``).
        output_size: ``r``.

    Returns:
        float32 ``(2, 3)``. ``scale = float32(r - 1) / float32(b)`` is a float32 division; the other terms are float64
        and the result is rounded to float32, as numpy 1.26 evaluated the reference.
    """
    theta = float(np.deg2rad(rotation))
    box = np.float32(box_size)
    factor = float(np.float32(output_size - 1) / box)
    input_w, input_h = 2.0 * float(center[0]), 2.0 * float(center[1])
    cos, sin = math.cos(theta), math.sin(theta)
    matrix = np.zeros((2, 3), dtype=np.float32)
    matrix[0, 0] = cos * factor
    matrix[0, 1] = -sin * factor
    matrix[0, 2] = factor * (-0.5 * input_w * cos + 0.5 * input_h * sin + 0.5 * float(box))
    matrix[1, 0] = sin * factor
    matrix[1, 1] = cos * factor
    matrix[1, 2] = factor * (-0.5 * input_w * sin - 0.5 * input_h * cos + 0.5 * float(box))
    return matrix


def fixed_point_warp_affine(image: np.ndarray, matrix, output_size: tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine(image, matrix, output_size, INTER_LINEAR)`` as OpenCV 4.x computes it, on any OpenCV.

    OpenCV <= 4.11 maps every output pixel with fixed-point arithmetic: the inverse matrix is applied in units of
    1/1024 px (``round(m * 1024)`` per row and per column term, ``+ 16``), the position is truncated to 1/32 px, and the
    bilinear weights are the integers ``(32 - f_x)(32 - f_y) * 32`` ... summing to ``2^15`` (result rounded with
    ``+ 2^14 >> 15``). OpenCV 5 replaced this kernel by a floating-point one whose uint8 results differ by up to 4 grey
    levels on ~30 % of the pixels, so MMPose 0.29 outputs (produced with OpenCV 4.11) are only reproduced by this
    function. It computes the integer source positions and interpolation-table indices in numpy and lets
    ``cv2.remap`` (whose fixed-point map path is unchanged) do the interpolation; borders are constant 0.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array (uint8 in the pipelines).
        matrix: ``(2, 3)`` forward affine matrix, image px → output px.
        output_size: ``(width, height)``.

    Returns:
        the warped image, ``(height, width[, C])``, same dtype. Matches OpenCV 4.11 bit for bit on the golden
        fixtures (``bottomup029/train_targets.npz`` images and masks, ``resize.npz`` inputs).

    Source: OpenCV 4.x ``modules/imgproc/src/imgwarp.cpp`` (``WarpAffineInvoker``, ``INTER_BITS = 5``, ``AB_BITS = 10``,
    ``INTER_REMAP_COEF_BITS = 15``), described here from its documented arithmetic.
    """
    matrix = np.asarray(matrix, dtype=np.float64).reshape(2, 3)
    determinant = matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0]
    determinant = 1.0 / determinant if determinant != 0 else 0.0
    # cv::invertAffineTransform, term by term as OpenCV evaluates it
    a11, a12 = matrix[1, 1] * determinant, -matrix[0, 1] * determinant
    a21, a22 = -matrix[1, 0] * determinant, matrix[0, 0] * determinant
    b1 = -a11 * matrix[0, 2] - a12 * matrix[1, 2]
    b2 = -a21 * matrix[0, 2] - a22 * matrix[1, 2]
    width, height = int(output_size[0]), int(output_size[1])
    columns, rows = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max

    def fixed(values):  # saturate_cast<int>(double): round half to even, clamp to int32
        return np.clip(np.rint(values), low, high).astype(np.int64)

    round_delta = 16  # AB_SCALE / INTER_TAB_SIZE / 2
    x = (fixed((a12 * rows + b1) * 1024)[:, None] + round_delta + fixed(a11 * columns * 1024)[None, :]) >> 5
    y = (fixed((a22 * rows + b2) * 1024)[:, None] + round_delta + fixed(a21 * columns * 1024)[None, :]) >> 5
    map_xy = np.stack([np.clip(x >> 5, -32768, 32767), np.clip(y >> 5, -32768, 32767)], axis=-1).astype(np.int16)
    map_table = ((y & 31) * 32 + (x & 31)).astype(np.uint16)
    return cv2.remap(image, map_xy, map_table, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def warp_affine_joints(joints: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``(..., 2)`` points times a float32 ``(2, 3)`` matrix as ``[x, y, 1] @ M.T`` in float32 (0.29
    ``warp_affine_joints``)."""
    joints = np.asarray(joints, dtype=np.float32)
    flat = joints.reshape(-1, 2)
    homogeneous = np.concatenate([flat, np.ones((len(flat), 1), dtype=np.float32)], axis=1)
    return np.dot(homogeneous, np.asarray(matrix, dtype=np.float32).T).reshape(joints.shape)


def generate_udp_heatmaps_029(joints: np.ndarray, output_size: int, sigma: float = 2.0) -> np.ndarray:
    """0.29 ``HeatmapGenerator(use_udp=True)``: sub-pixel Gaussians on windows anchored at the truncated point.

    Args:
        joints: ``(n, K, 3)`` ``(x, y, v)`` in heatmap px of this resolution.
        output_size: side ``r`` of the square heatmap.
        sigma: Gaussian standard deviation, heatmap px.

    Returns:
        float32 ``(K, r, r)``, maximum over people, peak <= 1, not normalized (see the module docstring).
    """
    joints = np.asarray(joints, dtype=np.float32)
    num_keypoints = joints.shape[1]
    heatmaps = np.zeros((num_keypoints, output_size, output_size), dtype=np.float32)
    radius = int(3 * sigma + 1)  # 7 for sigma 2: 15 x 15 window
    grid = np.arange(0, 6 * sigma + 3, 1, dtype=np.float32)
    denominator = 2 * sigma**2
    for person in joints:
        for k, (x, y, v) in enumerate(person):
            if v <= 0:
                continue
            xi, yi = int(x), int(y)
            if xi < 0 or yi < 0 or xi >= output_size or yi >= output_size:
                continue
            # offset of the exact point inside the window, float64 then float32 (numpy 1.x scalar promotion)
            x0 = np.float32(float(3 * sigma + 1) + float(x) - xi)
            y0 = np.float32(float(3 * sigma + 1) + float(y) - yi)
            gaussian = np.exp(-((grid[None, :] - x0) ** 2 + (grid[:, None] - y0) ** 2) / np.float32(denominator))
            left, top = xi - radius, yi - radius
            x_lo, x_hi = max(0, left), min(xi + radius + 1, output_size)
            y_lo, y_hi = max(0, top), min(yi + radius + 1, output_size)
            window = gaussian[y_lo - top : y_hi - top, x_lo - left : x_hi - left]
            np.maximum(heatmaps[k, y_lo:y_hi, x_lo:x_hi], window, out=heatmaps[k, y_lo:y_hi, x_lo:x_hi])
    return heatmaps


def encode_joint_indices(joints: np.ndarray, output_size: int, max_num_people: int = 30) -> np.ndarray:
    """0.29 ``JointsEncoder`` (tag per joint): packed ``[k r^2 + int(y) r + int(x), 1]`` rows.

    Args:
        joints: ``(n, K, 3)`` in heatmap px of this resolution. output_size: ``r``. max_num_people: rows.

    Returns:
        int64 ``(max_num_people, K, 2)``; unused slots are ``(0, 0)``.

    Raises:
        ValueError: if ``n > max_num_people`` (MMPose fails there as well).
    """
    joints = np.asarray(joints, dtype=np.float32)
    if len(joints) > max_num_people:
        raise ValueError(f"{len(joints)} people exceed max_num_people={max_num_people}")
    encoded = np.zeros((max_num_people, joints.shape[1] if joints.ndim == 3 else 0, 2), dtype=np.int64)
    for m, person in enumerate(joints):
        slot = 0
        for k, (x, y, v) in enumerate(person):
            xi, yi = int(x), int(y)
            if v > 0 and 0 <= xi < output_size and 0 <= yi < output_size:
                encoded[m, slot] = (k * output_size * output_size + yi * output_size + xi, 1)
                slot += 1
    return encoded


# ------------------------------------------------------------------------------------------------------ transform
@dataclass(frozen=True)
class BottomUpAugmentation:
    """The random parameters of one sample: ``scale`` (of the short side), ``rotation`` (degrees), integer
    ``translate`` ``(dx, dy)`` in image px, and ``flip``."""

    scale: float = 1.0
    rotation: float = 0.0
    translate: tuple[int, int] = (0, 0)
    flip: bool = False


def _numpy_randint(rng: np.random.Generator, low: float, high: float) -> int:
    """``np.random.randint(low, high)`` with float bounds: both truncated toward zero, high exclusive."""
    low, high = int(low), int(high)
    return int(rng.integers(low, high)) if high > low else low


class BottomUpTrainTransform:
    """MMPose 0.29 bottom-up UDP training pipeline (see the module docstring for every formula).

    Args:
        input_size: side of the square network input (512).
        heatmap_sizes: sides of the square target maps, stride 4 first (``(128, 256)`` for HigherHRNet, ``(128,)`` for
            HRNet).
        sigma: Gaussian sigma in heatmap px (2).
        max_num_people: rows of the joint-index targets (30).
        rot_factor (30), scale_factor ((0.75, 1.5)), trans_factor (40), flip_prob (0.5): 0.29 config values.
        dataset / flip_indices: keypoint metadata for the flip.
        image_mean, image_std: RGB normalization on the 0-1 scale.
        warp: ``"opencv4"`` (default; :func:`fixed_point_warp_affine`, the arithmetic of the OpenCV 4.11 that produced
            the reference) or ``"cv2"`` (the installed ``cv2.warpAffine``; OpenCV 5 differs by a few grey levels).
        seed: generator seed (re-derived per DataLoader worker as in `TopDownTrainTransform`).

    ``transform_example(example, augmentation=None)`` takes a :func:`load_coco_bottomup` row (``image_path``,
    ``width``/``height``, ``joints``, ``ignore_segmentations``) and returns ``pixel_values`` float32
    ``(3, input_size, input_size)``; per resolution (tuples, stride 4 first) ``target_heatmaps`` float32 ``(K, r, r)``,
    ``target_masks`` float32 ``(r, r)`` (1 = supervised) and ``joints`` int64 ``(max_num_people, K, 2)``; the
    ``augmentation`` used, ``center`` (float64, image px) and ``image_id``. Pass ``augmentation`` to replay fixed
    parameters. ``__call__`` is the batched ``with_transform`` form.

    Raises:
        ValueError: bad arguments; at call time more people than ``max_num_people`` (names the image id).
    """

    def __init__(
        self,
        input_size: int = 512,
        heatmap_sizes: Sequence[int] = (128, 256),
        sigma: float = 2.0,
        max_num_people: int = 30,
        rot_factor: float = 30.0,
        scale_factor: tuple[float, float] = (0.75, 1.5),
        trans_factor: float = 40.0,
        flip_prob: float = 0.5,
        dataset: str = "coco",
        flip_indices: Sequence[int] | None = None,
        image_mean=BOTTOMUP_MEAN,
        image_std=BOTTOMUP_STD,
        warp: str = "opencv4",
        seed: int | None = None,
    ):
        if warp not in ("opencv4", "cv2"):
            raise ValueError(f"warp must be 'opencv4' or 'cv2'; got {warp!r}")
        self.warp = warp
        self.input_size = int(input_size)
        self.heatmap_sizes = tuple(int(size) for size in heatmap_sizes)
        if self.input_size <= 1 or not self.heatmap_sizes or min(self.heatmap_sizes) <= 1:
            raise ValueError(f"input_size and heatmap_sizes must be > 1; got {input_size}, {heatmap_sizes}")
        self.sigma = float(sigma)
        if self.sigma <= 0:
            raise ValueError(f"sigma must be positive; got {sigma}")
        self.max_num_people = int(max_num_people)
        self.rot_factor = float(rot_factor)
        low, high = (float(v) for v in scale_factor)
        if not 0 < low <= high:
            raise ValueError(f"scale_factor must satisfy 0 < min <= max; got {scale_factor!r}")
        self.scale_factor = (low, high)
        self.trans_factor = float(trans_factor)
        self.flip_prob = float(flip_prob)
        if not 0 <= self.flip_prob <= 1:
            raise ValueError(f"flip_prob must be in [0, 1]; got {flip_prob}")
        keypoint_set = get_keypoint_set(dataset)
        self.flip_indices = list(keypoint_set.flip_indices if flip_indices is None else flip_indices)
        if sorted(self.flip_indices) != list(range(len(self.flip_indices))):
            raise ValueError(f"flip_indices must be a permutation; got {self.flip_indices}")
        self.image_mean = np.asarray(image_mean, dtype=np.float32).reshape(3, 1, 1)
        self.image_std = np.asarray(image_std, dtype=np.float32).reshape(3, 1, 1)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._rng_owner = None
        self.epoch = None  # see `set_epoch`

    def set_epoch(self, epoch: int | None) -> None:
        """Per-example random streams ``default_rng([seed, epoch, image_id])`` from now on (``None``: the shared
        stream), as `hfpose.data.TopDownTrainTransform.set_epoch`; used by the training loop for exact resumption."""
        self.epoch = None if epoch is None else int(epoch)

    def _generator(self) -> np.random.Generator:
        torch = sys.modules.get("torch")
        info = torch.utils.data.get_worker_info() if torch is not None else None
        if info is not None and self._rng_owner != (info.id, info.seed):
            entropy = [int(info.seed)] if self.seed is None else [int(self.seed), int(info.seed)]
            self._rng = np.random.default_rng(entropy)
            self._rng_owner = (info.id, info.seed)
        return self._rng

    def sample_augmentation(self, width: int, height: int, rng: np.random.Generator | None = None):
        """Draw ``BottomUpAugmentation`` in the reference order: scale, rotation, dx, dy (if ``trans_factor > 0``),
        flip."""
        rng = self._generator() if rng is None else rng
        low, high = self.scale_factor
        scale = rng.random() * (high - low) + low
        rotation = (rng.random() * 2 - 1) * self.rot_factor
        translate = (0, 0)
        if self.trans_factor > 0:
            size = np.array([width, height], dtype=np.float32) * np.float32(scale)
            bound_x = self.trans_factor * float(size[0]) / 200.0
            bound_y = self.trans_factor * float(size[1]) / 200.0
            translate = (_numpy_randint(rng, -bound_x, bound_x), _numpy_randint(rng, -bound_y, bound_y))
        flip = bool(rng.random() < self.flip_prob)
        return BottomUpAugmentation(scale=float(scale), rotation=float(rotation), translate=translate, flip=flip)

    def warp_matrices(self, width: int, height: int, augmentation: BottomUpAugmentation):
        """``(center, {r: matrix})`` for every heatmap size and the input size (image px → r x r px)."""
        dx, dy = augmentation.translate
        center = np.array([(width - 1.0) / 2 + dx, (height - 1.0) / 2 + dy])
        size = np.array([width, height], dtype=np.float32) * np.float32(augmentation.scale)
        box = size[0] if size[0] < size[1] else size[1]
        sides = dict.fromkeys((*self.heatmap_sizes, self.input_size))
        return center, {r: bottomup_udp_warp_matrix(augmentation.rotation, center, box, r) for r in sides}

    def _warp(self, image: np.ndarray, matrix: np.ndarray, side: int) -> np.ndarray:
        if self.warp == "opencv4":
            return fixed_point_warp_affine(image, matrix, (side, side))
        return cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR)

    def transform_example(self, example: Mapping, augmentation: BottomUpAugmentation | None = None) -> dict:
        image = load_image(example["image_path"])
        height, width = image.shape[:2]
        joints = np.asarray(example["joints"], dtype=np.float32).reshape(-1, len(self.flip_indices), 3)
        if len(joints) > self.max_num_people:
            raise ValueError(
                f"image id {example.get('image_id', '?')} has {len(joints)} people; max_num_people is "
                f"{self.max_num_people}"
            )
        valid = bottomup_valid_mask(height, width, example.get("ignore_segmentations") or [])
        if augmentation is None:
            from .transforms import _example_generator

            augmentation = self.sample_augmentation(width, height, rng=_example_generator(self, example))
        center, matrices = self.warp_matrices(width, height, augmentation)

        side = self.input_size
        pixels = self._warp(image, matrices[side], side)
        mask_uint8 = (valid * 255).astype(np.uint8)
        heatmaps, masks, indices = [], [], []
        for r in self.heatmap_sizes:
            mask = self._warp(mask_uint8, matrices[r], r) / 255
            mask = (mask > 0.5).astype(np.float32)
            warped = joints.copy()
            warped[:, :, :2] = warp_affine_joints(joints[:, :, :2], matrices[r])
            if augmentation.flip:
                mask = mask[:, ::-1].copy()
                warped = warped[:, self.flip_indices]
                warped[:, :, 0] = (np.float32(r) - warped[:, :, 0]) - np.float32(1)
            heatmaps.append(generate_udp_heatmaps_029(warped, r, self.sigma))
            masks.append(mask)
            indices.append(encode_joint_indices(warped, r, self.max_num_people))
        if augmentation.flip:
            pixels = pixels[:, ::-1]
        unit = pixels.astype(np.float32).transpose(2, 0, 1) / np.float32(255.0)
        normalized = (unit - self.image_mean) / self.image_std
        output = {
            "pixel_values": np.ascontiguousarray(normalized, dtype=np.float32),
            "target_heatmaps": tuple(heatmaps),
            "target_masks": tuple(masks),
            "joints": tuple(indices),
            "center": center,
            "augmentation": augmentation,
        }
        if "image_id" in example:
            output["image_id"] = int(example["image_id"])
        return output

    def __call__(self, batch: Mapping) -> dict[str, list]:
        """Batched entry point for ``dataset.with_transform``: dict of lists in, dict of lists out."""
        from .transforms import _rebatch, _unbatch

        outputs = [self.transform_example(example) for example in _unbatch(batch)]
        for output in outputs:
            output.pop("augmentation")
        return _rebatch(outputs)
