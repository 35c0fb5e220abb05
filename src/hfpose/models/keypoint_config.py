# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Keypoint metadata of every hfpose model config, resolved and validated in one place.

Every config (top-down and bottom-up) carries ``id2label`` (K names), ``flip_indices`` (K ints), ``skeleton`` (limbs)
and ``sigmas`` (K OKS constants or None), so that a saved model is self-describing. `KeypointConfigMixin` keeps them
consistent with ``num_labels`` whichever way a config is made:

* ``Config()``: the set named by ``dataset`` ("coco" by default);
* ``Config(keypoint_set="my_set.yaml")`` (a file, a COCO-format annotation json, a mapping or a `KeypointSet`);
* ``Config(id2label={...})``: flip indices inferred from the names (``left_*``/``right_*`` ...), empty skeleton;
* ``Config(num_labels=K)``: K generic names ``keypoint_0 ...``, identity flip, empty skeleton, no sigmas (unless K is
  the size of the ``dataset`` set, which is then used);
* ``config.num_labels = K`` after construction: as above when K changes;
* ``Config.from_pretrained(dir, id2label=...)`` (fine-tuning): the saved ``flip_indices`` / ``skeleton`` / ``sigmas``
  are re-derived for the new names unless given too.
"""

from __future__ import annotations

from ..keypoints import _KEYPOINT_SETS, flip_indices_from_names, load_keypoint_set

__all__ = ["KEYPOINT_METADATA_KEYS", "KeypointConfigMixin", "init_keypoint_metadata"]

KEYPOINT_METADATA_KEYS = ("id2label", "label2id", "flip_indices", "skeleton", "sigmas")
_DERIVED_KEYS = ("label2id", "flip_indices", "skeleton", "sigmas")


def _generic_names(num_keypoints: int) -> dict[int, str]:
    return {index: f"keypoint_{index}" for index in range(num_keypoints)}


def init_keypoint_metadata(config, kwargs: dict | None = None) -> None:
    """Fill and validate ``id2label`` / ``label2id`` / ``flip_indices`` / ``skeleton`` / ``sigmas`` of ``config`` in
    place; call it first in ``__post_init__(self, **kwargs)`` with that ``kwargs`` (``num_labels`` and
    ``keypoint_set`` are taken out of it).

    Raises:
        ValueError: ``num_labels`` disagreeing with ``id2label``; ``id2label`` keys not ``0..K-1``; ``flip_indices``
            not an involutive permutation of ``range(K)`` (``flip[flip[k]] == k``); a ``skeleton`` index outside
            ``range(K)``; ``sigmas`` not K positive numbers; a name with a side marker and no mirror partner; no
            keypoint names at all (unknown ``dataset`` and no ``id2label`` / ``num_labels``). Each names the value.
    """
    kwargs = {} if kwargs is None else kwargs
    num_labels = kwargs.pop("num_labels", None)
    spec = kwargs.pop("keypoint_set", None)
    if spec is not None:
        keypoint_set = load_keypoint_set(spec)
        if config.id2label is not None and [config.id2label[k] for k in sorted(config.id2label, key=int)] != list(
            keypoint_set.names
        ):
            raise ValueError(f"id2label {config.id2label} disagrees with keypoint_set {keypoint_set.name!r}; give one")
        for key, value in keypoint_set.config_kwargs().items():
            if getattr(config, key, None) is None:
                setattr(config, key, value)
    known = _KEYPOINT_SETS.get(str(getattr(config, "dataset", None)).lower())

    if config.id2label is None:
        if num_labels is None or (known is not None and int(num_labels) == known.num_keypoints):
            if known is None:
                raise ValueError(
                    f"unknown keypoint set {getattr(config, 'dataset', None)!r} (dataset; known: "
                    f"{sorted(_KEYPOINT_SETS)}): give id2label, num_labels or keypoint_set"
                )
            config.id2label = known.id2label
        else:
            if int(num_labels) <= 0:
                raise ValueError(f"num_labels must be a positive number of keypoints, got {num_labels}")
            config.id2label = _generic_names(int(num_labels))
    id2label = {int(key): str(value) for key, value in config.id2label.items()}
    if sorted(id2label) != list(range(len(id2label))) or not id2label:
        raise ValueError(f"id2label keys must be 0..K-1, got {sorted(id2label)}")
    if num_labels is not None and int(num_labels) != len(id2label):
        raise ValueError(f"num_labels={num_labels} disagrees with id2label ({len(id2label)} names); give one of them")
    names = [id2label[index] for index in range(len(id2label))]
    num_keypoints = len(names)
    config.id2label = id2label
    config.label2id = {name: index for index, name in enumerate(names)}
    same_names = known is not None and list(known.names) == names

    if config.flip_indices is None:
        config.flip_indices = list(known.flip_indices) if same_names else flip_indices_from_names(names)
    flip = [int(v) for v in config.flip_indices]
    if sorted(flip) != list(range(num_keypoints)):
        raise ValueError(f"flip_indices must be a permutation of range({num_keypoints}) (K from id2label), got {flip}")
    for index, partner in enumerate(flip):
        if flip[partner] != index:
            raise ValueError(
                f"flip_indices must swap pairs: keypoint {index} -> {partner} but {partner} -> "
                f"{flip[partner]}; got {flip}"
            )
    config.flip_indices = flip

    if config.skeleton is None:
        config.skeleton = [list(link) for link in known.skeleton] if same_names else []
    config.skeleton = [[int(a), int(b)] for a, b in config.skeleton]
    for index, (a, b) in enumerate(config.skeleton):
        if not (0 <= a < num_keypoints and 0 <= b < num_keypoints):
            raise ValueError(f"skeleton[{index}]={[a, b]} has a keypoint index outside range({num_keypoints})")

    if getattr(config, "sigmas", None) is None:
        config.sigmas = list(known.sigmas) if same_names and known.sigmas is not None else None
    if config.sigmas is not None:
        sigmas = [float(v) for v in config.sigmas]
        if len(sigmas) != num_keypoints or not all(v > 0 for v in sigmas):
            raise ValueError(f"sigmas must be {num_keypoints} positive OKS constants (one per keypoint), got {sigmas}")
        config.sigmas = sigmas


class KeypointConfigMixin:
    """Mixin (before `PreTrainedConfig` in the bases) keeping ``num_labels``, ``id2label``, ``flip_indices``,
    ``skeleton`` and ``sigmas`` consistent; the config's ``__post_init__`` calls `init_keypoint_metadata`."""

    @property
    def num_labels(self) -> int | None:
        """Number of keypoints K (``len(id2label)``)."""
        return len(self.id2label) if self.id2label is not None else None

    @num_labels.setter
    def num_labels(self, num_labels: int):
        # A new K makes every per-keypoint field meaningless: generic names, identity flip, no limbs, no sigmas.
        if self.id2label is None or len(self.id2label) != int(num_labels):
            self.id2label = _generic_names(int(num_labels))
            self.label2id = {name: index for index, name in self.id2label.items()}
            self.flip_indices = list(range(int(num_labels)))
            self.skeleton = []
            self.sigmas = None

    @property
    def num_keypoints(self) -> int:
        return len(self.id2label)

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs):
        """`PreTrainedConfig.from_dict`, except that keypoint overrides (``id2label``, ``num_labels``,
        ``keypoint_set``, ``flip_indices``, ``skeleton``, ``sigmas``) are applied *before* validation, and the saved
        per-keypoint fields that were not overridden are re-derived for new names (fine-tuning to another set)."""
        overrides = {
            key: kwargs.pop(key) for key in (*KEYPOINT_METADATA_KEYS, "num_labels", "keypoint_set") if key in kwargs
        }
        if overrides:
            config_dict = dict(config_dict)
            saved = config_dict.get("id2label") or {}
            saved_names = [saved[k] for k in sorted(saved, key=int)]
            new_names = None
            if overrides.get("id2label") is not None:
                new_names = [overrides["id2label"][k] for k in sorted(overrides["id2label"], key=int)]
            elif overrides.get("keypoint_set") is not None:
                new_names = list(load_keypoint_set(overrides["keypoint_set"]).names)
            elif overrides.get("num_labels") is not None and int(overrides["num_labels"]) != len(saved_names):
                new_names = list(_generic_names(int(overrides["num_labels"])).values())
                config_dict.pop("id2label", None)
            if new_names is not None and new_names != saved_names:
                for key in _DERIVED_KEYS:
                    if key not in overrides:
                        config_dict.pop(key, None)
                if "id2label" not in overrides:
                    config_dict.pop("id2label", None)
            config_dict.update(overrides)
        return super().from_dict(config_dict, **kwargs)
