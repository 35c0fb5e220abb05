# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Keypoint metadata of the datasets hfpose supports, defined once.

Every model config carries the metadata of its dataset (``id2label``, ``flip_indices``, ``skeleton``) so that a
saved model is self-describing; this module is the single place those values come from.

Glossary:
    K: number of keypoints (17 for COCO, 16 for MPII).
    flip_indices: ``flip_indices[k]`` is the keypoint that keypoint ``k`` becomes under a horizontal flip;
        flipping an array means ``new[..., k, :] = old[..., flip_indices[k], :]``.
    skeleton: pairs of keypoint indices joined by a limb when drawing.
    sigmas: per-keypoint OKS constants (COCO only).

Sources: COCO keypoint definition (Lin et al., ECCV 2014; cocodataset.org/#keypoints-eval), MPII Human Pose
(Andriluka et al., CVPR 2014); flip pairs and skeleton links as in MMPose ``configs/_base_/datasets/{coco,mpii}.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["KeypointSet", "COCO_KEYPOINTS", "MPII_KEYPOINTS", "get_keypoint_set", "flip_indices_from_names"]


@dataclass(frozen=True)
class KeypointSet:
    """Names, flip pairs, skeleton links and OKS sigmas of one dataset's keypoints."""

    name: str
    names: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    skeleton: tuple[tuple[int, int], ...]
    sigmas: tuple[float, ...] | None = None
    # MMPose's grouping order for associative embedding (torso first); None when not defined.
    grouping_order: tuple[int, ...] | None = field(default=None)

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    @property
    def flip_indices(self) -> list[int]:
        """`list[int]` of length K: keypoint index each keypoint swaps with under a horizontal flip."""
        indices = list(range(self.num_keypoints))
        for left, right in self.flip_pairs:
            indices[left], indices[right] = right, left
        return indices

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    def sigmas_array(self) -> np.ndarray:
        """OKS sigmas as a float64 array of shape `(K,)`.

        Raises:
            ValueError: if this keypoint set has no OKS sigmas (MPII is evaluated with PCKh).
        """
        if self.sigmas is None:
            raise ValueError(f"keypoint set {self.name!r} has no OKS sigmas")
        return np.asarray(self.sigmas, dtype=np.float64)


COCO_KEYPOINTS = KeypointSet(
    name="coco",
    names=(
        "nose",
        "left_eye",
        "right_eye",
        "left_ear",
        "right_ear",
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "left_wrist",
        "right_wrist",
        "left_hip",
        "right_hip",
        "left_knee",
        "right_knee",
        "left_ankle",
        "right_ankle",
    ),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    skeleton=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
        (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),  # fmt: skip
    # COCO keypoint evaluation constants (cocoapi `COCOeval.Params.kpt_oks_sigmas`).
    sigmas=(0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087,
            0.087, 0.089, 0.089),  # fmt: skip
    grouping_order=(0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16),
)

MPII_KEYPOINTS = KeypointSet(
    name="mpii",
    names=(
        "right_ankle",
        "right_knee",
        "right_hip",
        "left_hip",
        "left_knee",
        "left_ankle",
        "pelvis",
        "thorax",
        "upper_neck",
        "head_top",
        "right_wrist",
        "right_elbow",
        "right_shoulder",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
    ),
    flip_pairs=((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)),
    skeleton=(
        (0, 1), (1, 2), (2, 6), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9), (8, 12), (12, 11), (11, 10),
        (8, 13), (13, 14), (14, 15),
    ),  # fmt: skip
)

_KEYPOINT_SETS = {"coco": COCO_KEYPOINTS, "mpii": MPII_KEYPOINTS}


def get_keypoint_set(name: str) -> KeypointSet:
    """Return the keypoint metadata of dataset ``name`` ("coco" or "mpii").

    Raises:
        ValueError: if ``name`` is not a known dataset.
    """
    try:
        return _KEYPOINT_SETS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown keypoint set {name!r}; expected one of {sorted(_KEYPOINT_SETS)}") from None


def flip_indices_from_names(names: list[str] | tuple[str, ...]) -> list[int]:
    """Derive flip indices from keypoint names by swapping ``left_*`` and ``right_*``.

    Used for configs built with custom ``id2label`` and no explicit ``flip_indices``.

    Raises:
        ValueError: if a ``left_*`` name has no ``right_*`` partner or vice versa (names the keypoint).
    """
    position = {name: index for index, name in enumerate(names)}
    indices = []
    for name in names:
        partner = name
        if name.startswith("left_"):
            partner = "right_" + name[len("left_") :]
        elif name.startswith("right_"):
            partner = "left_" + name[len("right_") :]
        if partner not in position:
            raise ValueError(f"keypoint {name!r} has no mirror keypoint {partner!r} among {list(names)}")
        indices.append(position[partner])
    return indices
