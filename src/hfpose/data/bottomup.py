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
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..codecs.associative_embedding import encode_joint_indices, generate_udp_heatmaps_029
from ..geometry import bottomup_udp_warp_matrix, warp_affine_bilinear, warp_affine_joints
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

# OpenCV 4's fixed-point `warpAffine`, one implementation for the processor and the training transform.
fixed_point_warp_affine = warp_affine_bilinear

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
        ignored = [
            ann["segmentation"] for ann in anns if ann["segmentation"] and (ann["iscrowd"] or ann["num_keypoints"] == 0)
        ]
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
