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

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "KeypointSet",
    "COCO_KEYPOINTS",
    "MPII_KEYPOINTS",
    "DEFAULT_OKS_SIGMA",
    "get_keypoint_set",
    "load_keypoint_set",
    "infer_flip_pairs",
    "flip_indices_from_names",
]


@dataclass(frozen=True)
class KeypointSet:
    """Names, flip pairs, skeleton links, OKS sigmas and joint weights of one dataset's keypoints.

    Fields (K = ``len(names)``; every index is 0-based):
        name: a short identifier of the set ("coco", "mpii", "my_factory_landmarks").
        names: the K keypoint names, in the order of the annotation arrays.
        flip_pairs: ``(left, right)`` index pairs that swap under a horizontal flip; keypoints in no pair map to
            themselves.
        skeleton: ``(a, b)`` index pairs joined by a limb when drawing.
        sigmas: K per-keypoint OKS constants, or None when the dataset defines none (then evaluate with PCK, or
            use `sigmas_or_default` knowing that the AP is not comparable to published numbers).
        joint_weights: K per-keypoint loss weights (MMPose ``dataset_keypoint_weights``), or None for all ones.
        grouping_order: the order in which bottom-up associative embedding groups keypoints (COCO: MMPose's torso
            first order); None means ``range(K)``, see `grouping_order_or_default`.

    Raises (from construction):
        ValueError: duplicate or empty names, an index outside ``range(K)``, a keypoint in two flip pairs, or
            sigmas / joint weights / grouping order of the wrong length or sign (each message names the item).
    """

    name: str
    names: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()
    sigmas: tuple[float, ...] | None = None
    # MMPose's grouping order for associative embedding (torso first); None when not defined.
    grouping_order: tuple[int, ...] | None = field(default=None)
    joint_weights: tuple[float, ...] | None = None

    def __post_init__(self):
        names = tuple(str(n) for n in self.names)
        if not names:
            raise ValueError(f"keypoint set {self.name!r} has no keypoint names")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates or any(not n for n in names):
            raise ValueError(f"keypoint set {self.name!r}: names must be unique and non-empty; repeated: {duplicates}")
        num = len(names)
        pairs = tuple(_index_pair(p, names, "flip_pairs", i) for i, p in enumerate(self.flip_pairs))
        seen: dict[int, int] = {}
        for i, (a, b) in enumerate(pairs):
            for k in (a, b):
                if k in seen or a == b:
                    raise ValueError(
                        f"flip_pairs[{i}]={[a, b]}: keypoint {names[k]!r} is already in a flip pair "
                        f"or pairs with itself"
                    )
                seen[k] = i
        links = tuple(_index_pair(p, names, "skeleton", i) for i, p in enumerate(self.skeleton))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "flip_pairs", pairs)
        object.__setattr__(self, "skeleton", links)
        for attr in ("sigmas", "joint_weights"):
            value = getattr(self, attr)
            if value is not None:
                value = tuple(float(v) for v in value)
                if len(value) != num or not all(np.isfinite(v) and v > 0 for v in value):
                    raise ValueError(
                        f"keypoint set {self.name!r}: {attr} must be {num} positive numbers (one per "
                        f"keypoint), got {list(value)}"
                    )
                object.__setattr__(self, attr, value)
        if self.grouping_order is not None:
            order = tuple(int(v) for v in self.grouping_order)
            if sorted(order) != list(range(num)):
                raise ValueError(
                    f"keypoint set {self.name!r}: grouping_order must be a permutation of range({num}), "
                    f"got {list(order)}"
                )
            object.__setattr__(self, "grouping_order", order)

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

    def sigmas_or_default(self) -> np.ndarray:
        """OKS sigmas `(K,)` float64; `DEFAULT_OKS_SIGMA` for every keypoint (with a warning) when the set has none."""
        if self.sigmas is not None:
            return self.sigmas_array()
        warn_default_sigmas(self.name, self.num_keypoints)
        return np.full(self.num_keypoints, DEFAULT_OKS_SIGMA, dtype=np.float64)

    def grouping_order_or_default(self) -> list[int]:
        """Bottom-up grouping order: the set's own, else ``range(K)`` (keypoints grouped in annotation order)."""
        return list(self.grouping_order) if self.grouping_order is not None else list(range(self.num_keypoints))

    def config_kwargs(self) -> dict:
        """Keyword arguments that put this set into any hfpose model config:
        ``id2label``, ``flip_indices``, ``skeleton`` and ``sigmas``."""
        return {
            "id2label": self.id2label,
            "flip_indices": self.flip_indices,
            "skeleton": [list(link) for link in self.skeleton],
            "sigmas": None if self.sigmas is None else list(self.sigmas),
        }

    # ------------------------------------------------------------------------------------------------ file format
    def to_dict(self) -> dict:
        """The keypoint-set file format (names in place of indices, so the file reads on its own)::

        name: my_set
        keypoints: [nose, left_eye, right_eye]
        flip_pairs: [[left_eye, right_eye]]
        skeleton: [[nose, left_eye], [nose, right_eye]]
        sigmas: [0.026, 0.025, 0.025]     # optional
        joint_weights: [1.0, 1.0, 1.0]    # optional
        grouping_order: [0, 1, 2]         # optional (bottom-up)
        """
        out = {
            "name": self.name,
            "keypoints": list(self.names),
            "flip_pairs": [[self.names[a], self.names[b]] for a, b in self.flip_pairs],
            "skeleton": [[self.names[a], self.names[b]] for a, b in self.skeleton],
        }
        for attr in ("sigmas", "joint_weights", "grouping_order"):
            if getattr(self, attr) is not None:
                out[attr] = list(getattr(self, attr))
        return out

    @classmethod
    def from_dict(cls, values: dict, source: str = "keypoint set") -> KeypointSet:
        """Read the `to_dict` format; `flip_pairs` and `skeleton` entries may be names or 0-based indices. Without
        `flip_pairs`, they are inferred from the names (`infer_flip_pairs`).

        Raises:
            ValueError: unknown key or missing ``keypoints`` (names the key), or any error of the constructor.
        """
        if not isinstance(values, dict):
            raise TypeError(f"{source}: a keypoint set must be a mapping, got {type(values).__name__}")
        allowed = {"name", "keypoints", "flip_pairs", "skeleton", "sigmas", "joint_weights", "grouping_order"}
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {unknown}; expected some of {sorted(allowed)}")
        if "keypoints" not in values:
            raise ValueError(f"{source}: 'keypoints' (the list of keypoint names) is required")
        names = tuple(str(n) for n in values["keypoints"])
        flip_pairs = values.get("flip_pairs")
        if flip_pairs is None:
            flip_pairs = infer_flip_pairs(names)
        return cls(
            name=str(values.get("name", "custom")),
            names=names,
            flip_pairs=tuple(tuple(p) for p in flip_pairs),
            skeleton=tuple(tuple(p) for p in values.get("skeleton") or ()),
            sigmas=values.get("sigmas"),
            joint_weights=values.get("joint_weights"),
            grouping_order=values.get("grouping_order"),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write the `to_dict` format as YAML (``.yaml``/``.yml``) or JSON (anything else)."""
        path = Path(path)
        if path.suffix in (".yaml", ".yml"):
            import yaml

            path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None))
        else:
            path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> KeypointSet:
        """Read a keypoint-set file (YAML or JSON, the `to_dict` format) or, when the file has ``categories``, the
        keypoint category of a COCO-format annotation file (`from_coco`).

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: if the file is not valid YAML / JSON or not a keypoint set (names the file and the problem).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"keypoint set file not found: {path}")
        text = path.read_text()
        import yaml

        try:
            values = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
        except (yaml.YAMLError, json.JSONDecodeError) as error:
            raise ValueError(
                f"{path}: not valid {'YAML' if path.suffix in ('.yaml', '.yml') else 'JSON'}: {error}"
            ) from None
        if isinstance(values, dict) and "categories" in values:
            return cls.from_coco(values, source=str(path))
        return cls.from_dict(values, source=str(path))

    @classmethod
    def from_coco(
        cls,
        annotations,
        category_id: int | None = None,
        flip_pairs=None,
        sigmas=None,
        name=None,
        source: str | None = None,
    ) -> KeypointSet:
        """The keypoint set of a COCO-format annotation file: ``categories[].keypoints`` (names) and
        ``categories[].skeleton`` (1-based links, as the COCO format stores them; converted to 0-based).

        Args:
            annotations: path of the json, or its parsed dict.
            category_id: which category, when several have keypoints (default: the only one).
            flip_pairs: explicit ``(left, right)`` pairs (names or indices); default: the category's ``flip_pairs``
                entry if any, else inferred from the names.
            sigmas: K OKS sigmas; default: the category's ``sigmas`` entry if any (not part of the COCO format but
                written by some tools), else COCO's when the names are COCO's, else None.
            name: the set's name (default: the category's ``name``).

        Raises:
            ValueError: no category with keypoints, several without ``category_id``, a skeleton index outside
                ``1..K``, or a name with a left/right marker and no mirror partner (names the item and the fix).
        """
        if not isinstance(annotations, dict):
            source = source or str(annotations)
            with open(annotations) as handle:
                annotations = json.load(handle)
        source = source or "annotations"
        categories = [c for c in annotations.get("categories") or [] if isinstance(c, dict) and c.get("keypoints")]
        if category_id is not None:
            categories = [c for c in categories if c.get("id") == category_id]
        if len(categories) != 1:
            found = [c.get("id") for c in categories]
            raise ValueError(
                f"{source}: expected one category with 'keypoints'"
                f"{'' if category_id is None else f' and id {category_id}'}, found {found}; "
                "pass category_id to choose one"
            )
        category = categories[0]
        names = tuple(str(n) for n in category["keypoints"])
        skeleton = []
        for index, link in enumerate(category.get("skeleton") or []):
            a, b = (int(v) for v in link)
            if not (1 <= a <= len(names) and 1 <= b <= len(names)):
                raise ValueError(
                    f"{source}: categories skeleton[{index}]={[a, b]} is outside 1..{len(names)} "
                    "(COCO skeleton links are 1-based)"
                )
            skeleton.append((a - 1, b - 1))
        if sigmas is None:
            sigmas = category.get("sigmas")
        if sigmas is None and names == COCO_KEYPOINTS.names:
            sigmas = COCO_KEYPOINTS.sigmas
        if flip_pairs is None:
            flip_pairs = category.get("flip_pairs")  # not COCO's format either; written by `export_coco_format`
        if flip_pairs is None:
            try:
                flip_pairs = infer_flip_pairs(names)
            except ValueError as error:
                raise ValueError(f"{source}: {error}") from None
        return cls(
            name=str(name or category.get("name") or "custom"),
            names=names,
            flip_pairs=tuple(tuple(p) for p in flip_pairs),
            skeleton=tuple(skeleton),
            sigmas=sigmas,
            grouping_order=COCO_KEYPOINTS.grouping_order if names == COCO_KEYPOINTS.names else None,
        )


def _index_pair(pair, names: tuple[str, ...], what: str, index: int) -> tuple[int, int]:
    """A ``(a, b)`` pair of names or 0-based indices as two indices into ``names``."""
    pair = tuple(pair)
    if len(pair) != 2:
        raise ValueError(f"{what}[{index}]={list(pair)} must be a pair of keypoint names or indices")
    out = []
    for item in pair:
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"{what}[{index}]: unknown keypoint name {item!r}; known: {list(names)}")
            out.append(names.index(item))
        else:
            value = int(item)
            if not 0 <= value < len(names):
                raise ValueError(f"{what}[{index}]={list(pair)} has an index outside range({len(names)})")
            out.append(value)
    return out[0], out[1]


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
        (15, 13),
        (13, 11),
        (16, 14),
        (14, 12),
        (11, 12),
        (5, 11),
        (6, 12),
        (5, 6),
        (5, 7),
        (6, 8),
        (7, 9),
        (8, 10),
        (1, 2),
        (0, 1),
        (0, 2),
        (1, 3),
        (2, 4),
        (3, 5),
        (4, 6),
    ),  # fmt: skip
    # COCO keypoint evaluation constants (cocoapi `COCOeval.Params.kpt_oks_sigmas`).
    sigmas=(
        0.026,
        0.025,
        0.025,
        0.035,
        0.035,
        0.079,
        0.079,
        0.072,
        0.072,
        0.062,
        0.062,
        0.107,
        0.107,
        0.087,
        0.087,
        0.089,
        0.089,
    ),  # fmt: skip
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
        (0, 1),
        (1, 2),
        (2, 6),
        (6, 3),
        (3, 4),
        (4, 5),
        (6, 7),
        (7, 8),
        (8, 9),
        (8, 12),
        (12, 11),
        (11, 10),
        (8, 13),
        (13, 14),
        (14, 15),
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


# A side marker is a whole token at the start or the end of a name: left_eye / l_eye / eye_left / eye_l (also with
# "-" or " " as the separator, any case). The partner swaps left<->right (l<->r) and keeps everything else.
_SIDE_PATTERNS = (
    re.compile(r"^(?P<side>left|right|l|r)(?P<rest>[_\- ].+)$", re.IGNORECASE),
    re.compile(r"^(?P<rest>.+[_\- ])(?P<side>left|right|l|r)$", re.IGNORECASE),
)
_OPPOSITE = {"left": "right", "right": "left", "l": "r", "r": "l"}


def _mirror_name(name: str) -> str | None:
    """The mirror partner's name of ``name`` (``left_eye`` -> ``right_eye``), or None when it has no side marker."""
    for pattern in _SIDE_PATTERNS:
        match = pattern.match(name)
        if match:
            side = match.group("side")
            opposite = _OPPOSITE[side.lower()]
            opposite = opposite.upper() if side.isupper() else opposite.capitalize() if side[0].isupper() else opposite
            if match.start("side") == 0:
                return opposite + name[len(side) :]
            return name[: match.start("side")] + opposite
    return None


def infer_flip_pairs(names) -> tuple[tuple[int, int], ...]:
    """Flip pairs from keypoint names: ``left_*``/``right_*``, ``l_*``/``r_*``, ``*_left``/``*_right`` and
    ``*_l``/``*_r`` (separators ``_``, ``-`` or a space; any case) swap; other names map to themselves.

    Returns:
        `tuple[tuple[int, int], ...]`: ``(left_index, right_index)`` pairs, in the order of the left names.

    Raises:
        ValueError: if a name with a side marker has no mirror partner among ``names`` (names both and the fix).
    """
    names = [str(n) for n in names]
    position = {name: index for index, name in enumerate(names)}
    pairs = []
    for index, name in enumerate(names):
        partner = _mirror_name(name)
        if partner is None:
            continue
        if partner not in position:
            raise ValueError(
                f"keypoint {name!r} has no mirror keypoint {partner!r} among {names}; give flip_pairs "
                "(or flip_indices) explicitly"
            )
        if _is_left(name):
            pairs.append((index, position[partner]))
    return tuple(pairs)


def _is_left(name: str) -> bool:
    for pattern in _SIDE_PATTERNS:
        match = pattern.match(name)
        if match:
            return match.group("side").lower() in ("left", "l")
    return False


def flip_indices_from_names(names: list[str] | tuple[str, ...]) -> list[int]:
    """Derive flip indices from keypoint names (see `infer_flip_pairs` for the name forms).

    Used for configs built with custom ``id2label`` and no explicit ``flip_indices``.

    Raises:
        ValueError: if a name with a side marker has no mirror partner (names the keypoint).
    """
    indices = list(range(len(names)))
    for left, right in infer_flip_pairs(names):
        indices[left], indices[right] = right, left
    return indices


# Used for OKS (AP, OKS-NMS) when a keypoint set defines no sigmas: between COCO's face (0.025-0.035) and limb
# (0.062-0.107) constants. An AP computed with it is not comparable to any published number.
DEFAULT_OKS_SIGMA = 0.05


def warn_default_sigmas(name: str, num_keypoints: int) -> None:
    logger.warning(
        "keypoint set %r has no OKS sigmas: using %s for all %d keypoints; the AP is then not comparable to published "
        "numbers (give 'sigmas' in the keypoint-set file, or evaluate with PCK)",
        name,
        DEFAULT_OKS_SIGMA,
        num_keypoints,
    )


def load_keypoint_set(spec) -> KeypointSet:
    """A `KeypointSet` from ``"coco"`` / ``"mpii"``, a keypoint-set file (YAML/JSON), a COCO-format annotation file,
    a `to_dict`-format mapping, or a `KeypointSet` (returned as is).

    Raises:
        ValueError / FileNotFoundError: from `get_keypoint_set`, `KeypointSet.load` or `KeypointSet.from_dict`.
    """
    if isinstance(spec, KeypointSet):
        return spec
    if isinstance(spec, dict):
        return KeypointSet.from_dict(spec)
    if isinstance(spec, str) and spec.lower() in _KEYPOINT_SETS:
        return _KEYPOINT_SETS[spec.lower()]
    if isinstance(spec, (str, os.PathLike)):
        return KeypointSet.load(spec)
    raise TypeError(f"keypoint set must be a name, a file path, a mapping or a KeypointSet, got {type(spec).__name__}")
