# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The keypoint-detection task for pose models that are not hfpose's: transformers' `VitPoseForPoseEstimation` and
any top-down ``*ForPoseEstimation`` whose image processor follows VitPose's contract (written out in
``docs/architecture.md``, "The keypoint-detection task's processor contract"):

- ``processor(images=[image], boxes=[boxes], return_tensors="pt")``: ``boxes`` COCO ``[x, y, w, h]`` in image
  pixels; returns ``pixel_values`` ``(P, C, h, w)``, one crop per box, in box order;
- ``model(pixel_values=...)``: an output whose ``heatmaps`` is ``(P, K, H, W)`` (VitPose+ also gets its
  ``dataset_index``, see `foreign_forward_inputs`);
- ``processor.post_process_pose_estimation(outputs, boxes=[boxes])``: one list per image of one dict per box with
  ``keypoints`` ``(K, 2)`` (x, y) in image pixels and ``scores`` ``(K,)``.

The task reads nothing else from them. In particular it does not use the ``bbox`` VitPose's post-processing returns
(transformers 5.23 builds it from the crop's centre and its scale in units of 200 px, ``[cx, cy, cx + sw - 1,
cy + sh - 1]``, neither the input box nor xyxy of it): every person's ``bbox`` is the COCO box it was cropped from,
as for hfpose's models. Keypoint names come from ``model.config.id2label``. The flip test averages the heatmaps with
those of the mirrored crops flipped back (width reversed, left/right channels swapped, no one-pixel shift: ViTPose's
UDP test setting, ``shift_heatmap=False``) before the processor decodes them, so it works for any processor of this
contract; it needs the left/right pairs (see `foreign_flip_indices`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..codecs.flip import flip_heatmaps
from ..keypoints import flip_indices_from_names

__all__ = [
    "foreign_flip_indices",
    "foreign_forward_inputs",
    "foreign_keypoint_names",
    "is_hfpose_processor",
    "post_process_foreign",
]


HFPOSE_PROCESSORS = ("TopDownPoseImageProcessor", "BottomUpPoseImageProcessor")


def is_hfpose_processor(image_processor) -> bool:
    """Whether the pipeline's processor is one of hfpose's (which take ``center``/``scale``/``outputs_flipped``), or a
    subclass. By class name, as `KeypointDetectionPipeline.is_bottom_up`: a `trust_remote_code` copy of hfpose's
    processor (`hfpose.hub.remote_code`) is another class object with the same name."""
    return any(cls.__name__ in HFPOSE_PROCESSORS for cls in type(image_processor).__mro__)


def foreign_keypoint_names(config, num_keypoints: int) -> list[str]:
    """The K keypoint names of a foreign model, from ``config.id2label``.

    Raises:
        ValueError: if ``config.id2label`` does not name exactly the K heatmap channels (names the fix).
    """
    id2label = {int(index): name for index, name in (getattr(config, "id2label", None) or {}).items()}
    if sorted(id2label) != list(range(num_keypoints)):
        raise ValueError(
            f"{type(config).__name__}.id2label has {len(id2label)} names for the model's {num_keypoints} heatmap "
            f"channels; set config.id2label to one name per keypoint (e.g. hfpose.COCO_KEYPOINTS.id2label)"
        )
    return [id2label[index] for index in range(num_keypoints)]


def foreign_flip_indices(config, image_processor) -> list[int] | None:
    """Left/right permutation for the flip test of a foreign model, or None when it cannot be known.

    In order: the processor's or the config's ``flip_indices``; else derived from the ``id2label`` names when at
    least one left/right pair is named (``left_*``/``right_*``, or VitPose checkpoints' ``L_*``/``R_*``,
    case-insensitive). Unnamed keypoints (``LABEL_0`` ...) give None: mirroring them would silently swap nothing.
    """
    for owner in (image_processor, config):
        indices = getattr(owner, "flip_indices", None)
        if indices:
            return [int(v) for v in indices]
    id2label = getattr(config, "id2label", None) or {}
    names = [str(id2label[key]).lower() for key in sorted(id2label, key=int)]
    names = ["left_" + n[2:] if n.startswith("l_") else "right_" + n[2:] if n.startswith("r_") else n for n in names]
    if not any(n.startswith("left_") for n in names):
        return None
    try:
        return flip_indices_from_names(names)
    except ValueError:
        return None


def foreign_forward_inputs(model, pixel_values: torch.Tensor) -> dict:
    """Inputs besides ``pixel_values`` that a foreign model's forward needs.

    VitPose+ (a mixture-of-experts backbone, ``backbone_config.num_experts > 1``) needs ``dataset_index`` (which
    expert MLP each crop uses): 0 for every crop, the COCO-body expert (the VitPose+ model cards: "0 is the best for
    human pose estimation"). Nothing for other models.
    """
    backbone_config = getattr(getattr(model, "config", None), "backbone_config", None)
    if getattr(backbone_config, "num_experts", 1) > 1:
        return {"dataset_index": torch.zeros(pixel_values.shape[0], dtype=torch.long, device=pixel_values.device)}
    return {}


def post_process_foreign(image_processor, outputs, outputs_flipped, boxes: np.ndarray, flip_indices) -> list[dict]:
    """One image's persons from a foreign model: ``[{"keypoints": (K, 2) image px, "scores": (K,)}, ...]``.

    Args:
        outputs: the model output for the ``P`` crops (``heatmaps`` ``(P, K, H, W)``).
        outputs_flipped: the output for the mirrored crops, or None (no flip test).
        boxes (`np.ndarray` of shape `(P, 4)`): the COCO ``[x, y, w, h]`` boxes the crops were cut from.
        flip_indices: the left/right permutation (required with ``outputs_flipped``).

    Raises:
        ValueError: a flip test without `flip_indices`, or an output without ``heatmaps`` (names the fix).
    """
    heatmaps = getattr(outputs, "heatmaps", None)
    if not isinstance(heatmaps, torch.Tensor) or heatmaps.ndim != 4:
        raise ValueError(
            f"{type(outputs).__name__} has no (P, K, H, W) `heatmaps`; the keypoint-detection task "
            "serves foreign top-down models whose output has them (see docs/architecture.md)"
        )
    if outputs_flipped is not None:
        if not flip_indices:
            raise ValueError(
                "flip_test=True needs the left/right keypoint pairs: set flip_indices on the image "
                "processor or the model config, or name the keypoints left_*/right_* in id2label"
            )
        heatmaps = 0.5 * (heatmaps + flip_heatmaps(outputs_flipped.heatmaps, flip_indices))
        outputs = type(outputs)(heatmaps=heatmaps)
    persons = image_processor.post_process_pose_estimation(outputs, boxes=[boxes.tolist()])[0]
    return [
        {"keypoints": _numpy(person["keypoints"]), "scores": _numpy(person["scores"]).reshape(-1)} for person in persons
    ]


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().float().numpy()
    return np.asarray(value, dtype=np.float32)
