# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Image decoding and the top-down training / evaluation transforms (MMPose 1.x pipelines, numpy + OpenCV).

Glossary:
    K: number of keypoints. input_size: ``(w, h)`` of the network input in pixels.
    image space: pixels of the photo; input space: pixels of the network input; pixel centres at integers.
    center, scale: crop centre and crop size ``(w, h)`` in image pixels (MMPose 1.x convention, no ``/200``).

Training pipeline (the order of MMPose's regression configs, e.g. ``td-reg_res50_rle-8xb64-210e_coco-256x192.py``):
``LoadImage`` → ``GetBBoxCenterScale(padding=1.25)`` → ``RandomFlip(prob=0.5)`` → ``RandomHalfBody`` →
``RandomBBoxTransform`` → ``TopdownAffine(input_size, use_udp)`` → ``GenerateTarget(codec)``; the network input is
then normalized in RGB with the ImageNet mean/std (MMPose's data preprocessor). Evaluation: the same without the three
random steps. Each random step is re-implemented from its description in MMPose 1.x
``mmpose/datasets/transforms/common_transforms.py`` and ``topdown_transforms.py`` (open-mmlab/mmpose@759b39c); draws
come from this transform's own seedable `numpy.random.Generator`, so the augmentation *distribution* is MMPose's but the
random streams are not.

Both transforms follow the `datasets` batched convention (``dataset.with_transform(transform)``: a dict of lists in, a
dict of lists out) and accept rows of :func:`hfpose.data.load_coco_keypoints` (``mode="topdown"``) and
:func:`hfpose.data.load_mpii`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from ..codecs.flip import flip_keypoints
from ..codecs.regression_label import RegressionLabel
from ..geometry import (
    bbox_xywh_to_xyxy,
    bbox_xyxy_to_center_scale,
    fix_aspect_ratio,
    get_udp_warp_matrix,
    get_warp_matrix,
    warp_points,
)
from ..keypoints import get_keypoint_set

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "HALF_BODY_KEYPOINT_IDS",
    "load_image",
    "normalize_image",
    "topdown_warp_matrix",
    "TopDownEvalTransform",
    "TopDownTrainTransform",
]

# ImageNet statistics on the 0-255 scale, RGB order (MMPose's data preprocessor).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)

# (upper_body_ids, lower_body_ids) for RandomHalfBody: the keypoints typed "upper"/"lower" in MMPose's
# configs/_base_/datasets/{coco,mpii}.py. Kept here until `hfpose.keypoints.KeypointSet` carries them.
HALF_BODY_KEYPOINT_IDS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # COCO: nose, eyes, ears, shoulders, elbows, wrists | hips, knees, ankles.
    "coco": (tuple(range(0, 11)), tuple(range(11, 17))),
    # MPII: thorax, upper neck, head top, wrists, elbows, shoulders | ankles, knees, hips, pelvis.
    "mpii": (tuple(range(7, 16)), tuple(range(0, 7))),
}


# ------------------------------------------------------------------------------------------------------ image I/O
def load_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to an RGB ``uint8`` array of shape ``(H, W, 3)``.

    Decoding is OpenCV's ``cv2.imdecode(buffer, IMREAD_COLOR)`` followed by BGR → RGB, which is what MMPose's
    ``LoadImage`` does (``mmcv.imfrombytes(..., flag="color", backend="cv2")``), so pixels are identical to the
    reference. Consequences, all inherited from OpenCV: grayscale images are replicated to 3 channels; an alpha
    channel is dropped (not composited); 16-bit images are reduced to 8 bits (``value / 256``); and the EXIF
    orientation tag **is applied** (OpenCV >= 3.1 rotates on decode unless ``IMREAD_IGNORE_ORIENTATION`` is set, and
    mmcv's ``"color"`` flag does not set it), so ``W``/``H`` can differ from the stored pixel grid for rotated JPEGs.

    Raises:
        FileNotFoundError: if ``path`` does not exist (names the path).
        ValueError: if the file is empty or cannot be decoded as an image (names the path).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image file not found: {path!r}")
    buffer = np.fromfile(path, dtype=np.uint8)
    if buffer.size == 0:
        raise ValueError(f"image file {path!r} is empty")
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"image file {path!r} is corrupt or not an image format OpenCV can decode")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def normalize_image(image: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
    """``(H, W, 3)`` uint8 RGB → ``(3, H, W)`` float32 ``(x - mean) / std``, computed in float32 like MMPose's
    ``PoseDataPreprocessor`` (so the result is bit-identical to the reference network input)."""
    mean32 = np.asarray(mean, dtype=np.float32)
    std32 = np.asarray(std, dtype=np.float32)
    normalized = (image.astype(np.float32) - mean32) / std32
    return np.ascontiguousarray(normalized.transpose(2, 0, 1))


def topdown_warp_matrix(center, scale, rotation: float, input_size: tuple[int, int], use_udp: bool) -> np.ndarray:
    """The ``TopdownAffine`` matrix, image px → input px: UDP (:func:`hfpose.geometry.get_udp_warp_matrix`) or the
    standard one (:func:`hfpose.geometry.get_warp_matrix`); ``scale`` must already be aspect-fixed."""
    if use_udp:
        return get_udp_warp_matrix(center, scale, rotation, input_size)
    return get_warp_matrix(center, scale, rotation, input_size)


# ------------------------------------------------------------------------------------------------------- helpers
def _check_input_size(input_size) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in input_size)
    except (TypeError, ValueError):
        raise ValueError(
            f"input_size must be a (width, height) pair of positive integers; got {input_size!r}"
        ) from None
    if width <= 0 or height <= 0 or tuple(input_size) != (width, height):
        raise ValueError(f"input_size must be a (width, height) pair of positive integers; got {input_size!r}")
    return width, height


def _check_probability(value, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value}")
    return value


def _example_keypoints(example: Mapping) -> np.ndarray:
    """``(K, 3)`` float32 ``(x, y, v)`` of a row; raises ValueError naming the annotation id and keypoint index for a
    non-finite coordinate or a NaN / negative visibility (either would reach the loss as NaN or a negative weight)."""
    keypoints = np.asarray(example["keypoints"], dtype=np.float32)
    record = f"example (ann_id {example.get('ann_id', '?')})"
    if keypoints.ndim != 2 or keypoints.shape[1] not in (2, 3):
        raise ValueError(f"{record} 'keypoints' must have shape (K, 3) (x, y, v); got {keypoints.shape}")
    if keypoints.shape[1] == 2:
        keypoints = np.concatenate([keypoints, np.ones((len(keypoints), 1), np.float32)], axis=1)
    bad = ~np.isfinite(keypoints[:, :2]).all(axis=1) | ~(keypoints[:, 2] >= 0)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{record}: keypoint {k} = {keypoints[k].tolist()} must have finite (x, y) and v >= 0")
    return keypoints


def _example_center_scale(example: Mapping, padding: float) -> tuple[np.ndarray, np.ndarray]:
    """``(center, scale * padding)`` float32 ``(2,)`` from ``bbox_center``/``bbox_scale`` (as MMPose's
    ``GetBBoxCenterScale`` applies the padding to an existing scale), else from ``bbox_xyxy`` or the xywh ``bbox``."""
    if example.get("bbox_center") is not None and example.get("bbox_scale") is not None:
        center = np.asarray(example["bbox_center"], dtype=np.float32).reshape(2)
        scale = np.asarray(example["bbox_scale"], dtype=np.float32).reshape(2) * np.float32(padding)
    else:
        if example.get("bbox_xyxy") is not None:
            xyxy = np.asarray(example["bbox_xyxy"], dtype=np.float32).reshape(1, 4)
        elif example.get("bbox") is not None:
            xyxy = bbox_xywh_to_xyxy(np.asarray(example["bbox"], dtype=np.float32).reshape(1, 4))
        else:
            raise ValueError("example needs 'bbox_center' and 'bbox_scale', 'bbox_xyxy' or 'bbox'")
        center, scale = bbox_xyxy_to_center_scale(xyxy, padding=padding)
        center, scale = center[0], scale[0]
    if not (np.all(np.isfinite(center)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
        raise ValueError(
            f"example (ann_id {example.get('ann_id', '?')}) has a degenerate box: center {center}, scale {scale}"
        )
    return center, scale


def _example_generator(transform, example: Mapping) -> np.random.Generator:
    """The generator an augmenting transform draws one example's randomness from.

    After ``transform.set_epoch(epoch)`` with a ``seed`` set and an example id (``ann_id``, else ``image_id``): a fresh
    ``default_rng([seed, epoch, id])`` (ids must be non-negative, as COCO / MPII ids are). Otherwise the transform's
    shared stream (`_generator`: seeded once, re-derived per DataLoader worker)."""
    key = example.get("ann_id", example.get("image_id")) if isinstance(example, Mapping) else None
    if transform.epoch is None or transform.seed is None or key is None or int(key) < 0:
        return transform._generator()
    return np.random.default_rng([int(transform.seed), int(transform.epoch), int(key)])


def _unbatch(batch: Mapping) -> list[dict]:
    if not isinstance(batch, Mapping) or not batch:
        raise TypeError("a transform expects a batch: a non-empty dict of lists (the `datasets` batched format)")
    sizes = {key: len(value) for key, value in batch.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"batch columns have different lengths: {sizes}")
    count = next(iter(sizes.values()))
    return [{key: value[index] for key, value in batch.items()} for index in range(count)]


def _rebatch(samples: list[dict]) -> dict[str, list]:
    return {key: [sample[key] for sample in samples] for key in samples[0]} if samples else {}


class _TopDownTransform:
    """Shared parts: argument checks, the crop, normalization and target encoding."""

    def __init__(self, input_size, codec, use_udp, padding, image_mean, image_std):
        self.input_size = _check_input_size(input_size)
        self.codec = codec
        self.use_udp = bool(use_udp)
        self.padding = float(padding)
        if self.padding <= 0:
            raise ValueError(f"padding must be positive; got {padding}")
        self.image_mean = tuple(float(v) for v in image_mean)
        self.image_std = tuple(float(v) for v in image_std)
        if len(self.image_mean) != 3 or len(self.image_std) != 3 or min(self.image_std) <= 0:
            raise ValueError("image_mean and image_std must have 3 values (RGB), std positive")

    def __call__(self, batch: Mapping) -> dict[str, list]:
        """Batched entry point for ``dataset.with_transform`` / ``dataset.map(batched=True)``.

        Args:
            batch: dict of equal-length lists with the columns of a top-down row (``image_path``, ``keypoints``,
                ``bbox_center``/``bbox_scale`` or ``bbox_xyxy`` or ``bbox``; ``image_id``, ``ann_id`` and ``bbox``
                are passed through when present).

        Returns:
            dict of lists, one entry per example (see ``transform_example``).
        """
        return _rebatch([self.transform_example(example) for example in _unbatch(batch)])

    def _crop(self, image, center, scale, rotation):
        width, height = self.input_size
        scale = fix_aspect_ratio(scale, width / height)
        matrix = topdown_warp_matrix(center, scale, rotation, self.input_size, self.use_udp)
        crop = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR)
        return crop, matrix, scale

    def _encode(self, output: dict, keypoints_input: np.ndarray, visible: np.ndarray) -> None:
        encoded = self.codec.encode(keypoints_input[None], visible[None])
        if "keypoint_labels" in encoded:
            output["labels"] = np.asarray(encoded["keypoint_labels"], dtype=np.float32)[0]
        if "keypoint_weights" in encoded:
            output["label_weights"] = np.asarray(encoded["keypoint_weights"], dtype=np.float32)[0]
        if encoded.get("heatmaps") is not None:
            output["target_heatmaps"] = np.asarray(encoded["heatmaps"], dtype=np.float32)

    def _passthrough(self, example: Mapping, output: dict) -> dict:
        for key in ("image_id", "ann_id"):
            if key in example:
                output[key] = int(example[key])
        if example.get("bbox") is not None:
            output["bbox"] = np.asarray(example["bbox"], dtype=np.float32).reshape(4)
        return output


# ------------------------------------------------------------------------------------------------------- evaluation
class TopDownEvalTransform(_TopDownTransform):
    """Deterministic top-down crop: ``GetBBoxCenterScale`` → ``TopdownAffine`` → normalize (MMPose's val pipeline).

    Args:
        input_size: ``(w, h)`` of the network input.
        use_udp: UDP warp (Huang et al., CVPR 2020) instead of the standard one.
        padding: box enlargement (1.25).
        codec: optional codec (e.g. `RegressionLabel`) to also produce ``labels``/``label_weights`` (validation
            loss); ``None`` produces no targets.
        image_mean, image_std: RGB normalization on the 0-255 scale.

    ``transform_example(example)`` returns ``pixel_values`` float32 ``(3, h, w)`` (RGB, normalized); ``center``,
    ``scale`` float32 ``(2,)`` (image px; ``scale`` aspect-fixed, what back-projection needs); ``image_id``,
    ``ann_id``, ``bbox`` (xywh) when present in the row; and the codec outputs if a codec is given.

    Source: MMPose 1.x val pipeline ``LoadImage, GetBBoxCenterScale, TopdownAffine, PackPoseInputs`` + data
    preprocessor.
    """

    def __init__(
        self,
        input_size=(192, 256),
        use_udp: bool = False,
        padding: float = 1.25,
        codec=None,
        image_mean=IMAGENET_MEAN,
        image_std=IMAGENET_STD,
    ):
        super().__init__(input_size, codec, use_udp, padding, image_mean, image_std)

    def transform_example(self, example: Mapping) -> dict:
        center, scale = _example_center_scale(example, self.padding)
        image = load_image(example["image_path"])
        crop, matrix, scale = self._crop(image, center, scale, 0.0)
        output = {
            "pixel_values": normalize_image(crop, self.image_mean, self.image_std),
            "center": center,
            "scale": scale.astype(np.float32),
        }
        if self.codec is not None and example.get("keypoints") is not None:
            keypoints = _example_keypoints(example)
            visible = np.minimum(1.0, keypoints[:, 2]).astype(np.float32)
            self._encode(output, warp_points(keypoints[:, :2], matrix), visible)
        return self._passthrough(example, output)


# --------------------------------------------------------------------------------------------------------- training
class TopDownTrainTransform(_TopDownTransform):
    """Top-down training augmentation and targets, MMPose 1.x style.

    Per example, in this order:

    1. ``RandomFlip``: with probability ``flip_prob`` the image is mirrored, the box centre becomes ``W - 1 - x`` and
       the keypoints ``x' = W - 1 - x`` with joints permuted by ``flip_indices`` (:func:`hfpose.codecs.flip_keypoints`).
    2. ``RandomHalfBody``: if at least ``half_body_min_total_keypoints`` keypoints are visible and a uniform draw is
       ``<= half_body_prob``, keep the visible upper-body (``upper_body_ids``) or lower-body keypoints: upper is
       preferred with probability ``upper_prioritized_prob``; a half with fewer than ``min_upper_keypoints`` /
       ``min_lower_keypoints`` visible points is not used (nothing happens when neither qualifies). The new box is
       centred at the mean of those keypoints with size ``(max - min) * half_body_padding``. (One deliberate
       deviation: a half-body box of zero width *and* height, i.e. all chosen points identical, is skipped instead of
       producing a singular warp.)
    3. ``RandomBBoxTransform``: ``t ~ TruncatedNormal(-1, 1)^4`` (float32); centre ``+= t[0:2] * shift_factor * scale``
       with probability ``shift_prob``; ``scale *= mu + t[2] * sigma`` with ``mu, sigma`` the mid-point / half-range of
       ``scale_factor``, with probability ``scale_prob``; rotation ``t[3] * rotate_factor`` degrees with probability
       ``rotate_prob`` (else 0).
    4. ``TopdownAffine``: the scale's aspect ratio is fixed to ``w / h`` (only grows), the image is warped with the
       standard or UDP matrix (``cv2.warpAffine``, bilinear, border 0) and keypoints are mapped by the same matrix.
    5. ``GenerateTarget``: ``codec.encode(keypoints_input, min(1, v))``.

    Args:
        input_size: ``(w, h)`` of the network input.
        codec: object with ``encode(keypoints (1, K, 2), visible (1, K)) -> dict``; ``keypoint_labels`` →
            ``labels``, ``keypoint_weights`` → ``label_weights``, ``heatmaps`` → ``target_heatmaps`` (e.g.
            `IntegralRegressionLabel`). Default: ``RegressionLabel(input_size)``.
        dataset: ``"coco"`` or ``"mpii"``; supplies default ``flip_indices`` and half-body keypoint sets.
        flip_indices, upper_body_ids, lower_body_ids: override the dataset's.
        flip_prob (0.5), half_body_prob (0.3), half_body_min_total_keypoints (9), min_upper_keypoints (2),
        min_lower_keypoints (3), half_body_padding (1.5), upper_prioritized_prob (0.7): MMPose ``RandomFlip`` /
            ``RandomHalfBody`` defaults.
        shift_factor (0.16), shift_prob (0.3), scale_factor ((0.5, 1.5)), scale_prob (1.0), rotate_factor (80.0),
        rotate_prob (0.6): MMPose ``RandomBBoxTransform`` defaults.
        use_udp: UDP warp. padding: box enlargement (1.25). image_mean, image_std: RGB normalization (0-255 scale).
        seed: seed of this transform's generator in the main process. Inside a `torch` DataLoader worker the
            generator is re-seeded from ``(seed, torch worker seed)``, so workers draw different augmentations and
            the draws change every epoch yet are reproducible under ``torch.manual_seed`` / a seeded DataLoader
            ``generator``. After ``set_epoch(epoch)`` each example instead draws from its own
            ``default_rng([seed, epoch, ann_id])``, independent of workers and order (what exact resumption needs).

    ``transform_example(example)`` returns ``pixel_values`` float32 ``(3, h, w)``; ``labels`` float32 ``(K, 2)``
    (normalized input coordinates); ``label_weights`` float32 ``(K,)``; ``target_heatmaps`` float32 ``(K, H, W)`` if
    the codec makes heatmaps; ``keypoints`` float32 ``(K, 2)`` (input px, after augmentation); ``center``, ``scale``
    float32 ``(2,)`` (image px, after augmentation, aspect-fixed); ``rotation`` (degrees) and ``flipped``; and
    ``image_id``, ``ann_id``, ``bbox`` (the row's raw xywh) when present.

    Raises:
        ValueError: bad arguments (names them); at call time, keypoints whose K disagrees with ``flip_indices`` or a
            degenerate box (names the annotation id).
    """

    def __init__(
        self,
        input_size=(192, 256),
        codec=None,
        dataset: str = "coco",
        flip_indices: Sequence[int] | None = None,
        upper_body_ids: Sequence[int] | None = None,
        lower_body_ids: Sequence[int] | None = None,
        flip_prob: float = 0.5,
        half_body_prob: float = 0.3,
        half_body_min_total_keypoints: int = 9,
        min_upper_keypoints: int = 2,
        min_lower_keypoints: int = 3,
        half_body_padding: float = 1.5,
        upper_prioritized_prob: float = 0.7,
        shift_factor: float = 0.16,
        shift_prob: float = 0.3,
        scale_factor: tuple[float, float] = (0.5, 1.5),
        scale_prob: float = 1.0,
        rotate_factor: float = 80.0,
        rotate_prob: float = 0.6,
        use_udp: bool = False,
        padding: float = 1.25,
        image_mean=IMAGENET_MEAN,
        image_std=IMAGENET_STD,
        seed: int | None = None,
    ):
        input_size = _check_input_size(input_size)
        super().__init__(
            input_size,
            codec if codec is not None else RegressionLabel(input_size),
            use_udp,
            padding,
            image_mean,
            image_std,
        )
        keypoint_set = get_keypoint_set(dataset)
        self.dataset = keypoint_set.name
        self.flip_indices = list(keypoint_set.flip_indices if flip_indices is None else flip_indices)
        num_keypoints = len(self.flip_indices)
        if sorted(self.flip_indices) != list(range(num_keypoints)):
            raise ValueError(f"flip_indices must be a permutation of 0..{num_keypoints - 1}; got {self.flip_indices}")
        default_upper, default_lower = HALF_BODY_KEYPOINT_IDS.get(self.dataset, ((), ()))
        self.upper_body_ids = [int(i) for i in (default_upper if upper_body_ids is None else upper_body_ids)]
        self.lower_body_ids = [int(i) for i in (default_lower if lower_body_ids is None else lower_body_ids)]
        for name, ids in (("upper_body_ids", self.upper_body_ids), ("lower_body_ids", self.lower_body_ids)):
            if any(not 0 <= i < num_keypoints for i in ids):
                raise ValueError(f"{name} must index the {num_keypoints} keypoints; got {ids}")
        self.flip_prob = _check_probability(flip_prob, "flip_prob")
        self.half_body_prob = _check_probability(half_body_prob, "half_body_prob")
        self.half_body_min_total_keypoints = int(half_body_min_total_keypoints)
        self.min_upper_keypoints = int(min_upper_keypoints)
        self.min_lower_keypoints = int(min_lower_keypoints)
        self.half_body_padding = float(half_body_padding)
        self.upper_prioritized_prob = _check_probability(upper_prioritized_prob, "upper_prioritized_prob")
        self.shift_factor = float(shift_factor)
        self.shift_prob = _check_probability(shift_prob, "shift_prob")
        try:
            low, high = (float(v) for v in scale_factor)
        except (TypeError, ValueError):
            raise ValueError(f"scale_factor must be a (min, max) pair; got {scale_factor!r}") from None
        if not 0 < low <= high:
            raise ValueError(f"scale_factor must satisfy 0 < min <= max; got {scale_factor!r}")
        self.scale_factor = (low, high)
        self.scale_prob = _check_probability(scale_prob, "scale_prob")
        self.rotate_factor = float(rotate_factor)
        self.rotate_prob = _check_probability(rotate_prob, "rotate_prob")
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._rng_owner = None  # (worker id, worker seed) the generator was derived for; None = main process
        self.epoch = None  # set by `set_epoch`: then every example draws from its own (seed, epoch, id) generator

    # -- randomness ------------------------------------------------------------------------------------------------
    def reseed(self, seed: int | None) -> None:
        """Restart this transform's generator (main process) from ``seed``."""
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._rng_owner = None

    def set_epoch(self, epoch: int | None) -> None:
        """Switch to per-example random streams: the augmentation of an example depends only on ``(seed, epoch,
        example id)`` (``ann_id``, else ``image_id``), not on which worker or in which order it is drawn, so an
        interrupted run that resumes mid-epoch augments every remaining example exactly as the uninterrupted run
        (`hfpose.training.train` calls this every epoch). ``None`` goes back to the shared stream."""
        self.epoch = None if epoch is None else int(epoch)

    def _example_generator(self, example: Mapping) -> np.random.Generator:
        return _example_generator(self, example)

    def _generator(self) -> np.random.Generator:
        torch = sys.modules.get("torch")  # a DataLoader worker implies torch is imported; never import it here
        info = torch.utils.data.get_worker_info() if torch is not None else None
        if info is not None and self._rng_owner != (info.id, info.seed):
            entropy = [int(info.seed)] if self.seed is None else [int(self.seed), int(info.seed)]
            self._rng = np.random.default_rng(entropy)
            self._rng_owner = (info.id, info.seed)
        return self._rng

    def _truncated_normal(self, rng: np.random.Generator, size) -> np.ndarray:
        from scipy.stats import truncnorm

        return truncnorm.rvs(-1.0, 1.0, size=size, random_state=rng).astype(np.float32)

    # -- the pipeline steps ----------------------------------------------------------------------------------------
    def _half_body(self, rng, keypoints, visible, center, scale):
        if visible.sum() < self.half_body_min_total_keypoints or rng.random() > self.half_body_prob:
            return center, scale
        upper = [i for i in self.upper_body_ids if visible[i] > 0]
        lower = [i for i in self.lower_body_ids if visible[i] > 0]
        prefer_upper = rng.random() < self.upper_prioritized_prob
        upper_ok, lower_ok = len(upper) >= self.min_upper_keypoints, len(lower) >= self.min_lower_keypoints
        if not upper_ok and not lower_ok:
            return center, scale
        indices = upper if (upper_ok and (prefer_upper or not lower_ok)) else lower
        selected = keypoints[indices]
        extent = selected.max(axis=0) - selected.min(axis=0)
        if not np.any(extent > 0):
            return center, scale
        scale = (extent * np.float32(self.half_body_padding)).astype(np.float32)
        return selected.mean(axis=0).astype(np.float32), scale

    def _bbox_transform(self, rng, center, scale):
        draws = self._truncated_normal(rng, (1, 4))[0]
        offset = draws[0:2] * np.float32(self.shift_factor)
        if not rng.random() < self.shift_prob:
            offset = np.zeros(2, np.float32)
        low, high = self.scale_factor
        factor = draws[2] * np.float32((high - low) * 0.5) + np.float32((high + low) * 0.5)
        factor = factor if rng.random() < self.scale_prob else np.float32(1.0)
        rotation = float(draws[3] * np.float32(self.rotate_factor)) if rng.random() < self.rotate_prob else 0.0
        return (center + offset * scale).astype(np.float32), (scale * factor).astype(np.float32), rotation

    def transform_example(self, example: Mapping) -> dict:
        """Augment one top-down row and encode its targets (see the class docstring for the outputs)."""
        rng = self._example_generator(example)
        keypoints_xyv = _example_keypoints(example)
        if len(keypoints_xyv) != len(self.flip_indices):
            raise ValueError(
                f"example (ann_id {example.get('ann_id', '?')}) has {len(keypoints_xyv)} keypoints but flip_indices "
                f"has {len(self.flip_indices)}"
            )
        center, scale = _example_center_scale(example, self.padding)
        image = load_image(example["image_path"])
        height, width = image.shape[:2]
        keypoints = keypoints_xyv[:, :2].copy()
        visible = np.minimum(1.0, keypoints_xyv[:, 2]).astype(np.float32)

        flipped = bool(rng.random() < self.flip_prob)
        if flipped:
            image = cv2.flip(image, 1)
            center = np.array([width - 1 - center[0], center[1]], dtype=np.float32)
            flipped_keypoints, flipped_visible = flip_keypoints(
                keypoints[None], visible[None], image_size=(width, height), flip_indices=self.flip_indices
            )
            keypoints, visible = flipped_keypoints[0].astype(np.float32), flipped_visible[0].astype(np.float32)

        center, scale = self._half_body(rng, keypoints, visible, center, scale)
        center, scale, rotation = self._bbox_transform(rng, center, scale)
        crop, matrix, scale = self._crop(image, center, scale, rotation)
        keypoints_input = warp_points(keypoints, matrix)

        output = {
            "pixel_values": normalize_image(crop, self.image_mean, self.image_std),
            "keypoints": keypoints_input,
            "center": center,
            "scale": scale.astype(np.float32),
            "rotation": np.float32(rotation),
            "flipped": flipped,
        }
        try:  # e.g. a center/scale so extreme that the warped keypoints overflow to nan
            self._encode(output, keypoints_input, visible)
        except ValueError as error:
            raise ValueError(f"example (ann_id {example.get('ann_id', '?')}): {error}") from None
        return self._passthrough(example, output)
