# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Convert MMPose checkpoints (0.x and 1.x spellings) into hfpose state dicts and saved models.

Each method converts its own checkpoints (`hfpose/models/<method>/convert_mmpose_<method>.py`, named by its
declaration's `convert_state_dict`); the helpers they share (safe `.pth` reading, 0.x → 1.x renaming, backbone key
mappings, the strict key / shape check) live in `hfpose.models.conversion_utils`. This module is the front door:
`convert_mmpose_state_dict(state_dict, method, config)` picks the method's converter through the method index,
`convert_mmpose_checkpoint` adds loading the `.pth`, building the config, the optional reference check and saving.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ..models import get_method, method_of, pose_methods
from ..models.conversion_utils import (
    UnsafeCheckpointError,
    check_state_dict_matches,
    convert_mobilenet_v2_backbone_keys,
    convert_resnet_backbone_keys,
    extract_state_dict,
    load_checkpoint_file,
    rename_v0x_keys,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BOTTOMUP_CHECKPOINTS",
    "UnsafeCheckpointError",
    "build_bottomup_config",
    "build_regression_config",
    "check_state_dict_matches",
    "convert_bottomup",
    "convert_integral_head",
    "convert_mmpose_checkpoint",
    "convert_mmpose_state_dict",
    "convert_mobilenet_v2_backbone_keys",
    "convert_resnet_backbone_keys",
    "extract_state_dict",
    "load_checkpoint_file",
    "rename_v0x_keys",
]


def convert_mmpose_state_dict(state_dict: Mapping, method: str, config, strict: bool = True) -> dict[str, torch.Tensor]:
    """Convert an MMPose checkpoint (0.x or 1.x spelling) into the state dict of the hfpose model of `method`.

    Args:
        state_dict: `{'meta', 'state_dict'}` as saved by MMPose, or a bare state dict (either key spelling; float16
            values are cast to float32; `_metadata` is dropped).
        method: a declared method (`hfpose.models.pose_methods()`: "deeppose", "rle", "ipr", "dsnt", "debias_ipr",
            "ae_hrnet", "ae_higherhrnet"); its `convert_state_dict` does the work.
        config: the hfpose config of the target model (`DeepPoseConfig` for "deeppose", ...).
        strict: if False (partial initialisation, e.g. fine-tuning from another method's checkpoint), rename what can
            be renamed and skip the key / shape check; the caller loads what fits.
    Returns:
        hfpose state dict (`backbone.*`, `head.*`, RLE `flow.*`, ...), loadable with `load_state_dict(strict=True)`.
    Raises:
        ValueError: unknown method; unsupported backbone; constants (RLE flow, integral linspaces) with unexpected
            values; or, listing every offending key, missing / unexpected keys and shape mismatches against the model
            `config` describes.
        TypeError: `config` of the wrong class for `method`.
    """
    return get_method(method).convert_state_dict(state_dict, config, strict=strict)


def _methods_of_family(family: str) -> list:
    return [method for method in pose_methods().values() if method.family == family]


def build_regression_config(method: str, backbone: str, dataset: str, input_size: list[int] | None = None):
    """Config of MMPose's `td-reg_{backbone}[_rle]-8xb64-210e_{dataset}-…` models.

    Args:
        method: a regression method ("deeppose" or "rle").
        backbone: "resnet50", "resnet101", "resnet152" or "mobilenetv2".
        dataset: "coco" (input 192x256 w x h) or "mpii" (256x256); `input_size` overrides.
    Raises:
        ValueError: naming the unknown method, backbone or dataset.
    """
    names = [other.name for other in _methods_of_family("regression")]
    if method not in names:
        raise ValueError(f"build_regression_config: method must be one of {names}, got {method!r}")
    return get_method(method).build_config(backbone, dataset, input_size)


def build_bottomup_config(method: str, variant: str = "w32", **kwargs):
    """Config of a bottom-up model: `method` "ae_hrnet" → `AssociativeEmbeddingConfig`, "ae_higherhrnet" →
    `HigherHRNetConfig`, with the HRNet `variant` ("w32" / "w48"); `kwargs` override config fields.

    Raises:
        ValueError: unknown `method` or `variant`.
    """
    names = [other.name for other in _methods_of_family("bottom-up")]
    if method not in names:
        raise ValueError(f"method must be one of {names}, got {method!r}")
    return get_method(method).build_config(variant, "coco", **kwargs)


def _convert_for_family(family: str, state_dict: Mapping, config, strict: bool) -> dict[str, torch.Tensor]:
    methods = _methods_of_family(family)
    for method in methods:
        if type(config) is method.config_class:
            return method.convert_state_dict(state_dict, config, strict=strict)
    names = [method.config_class.__name__ for method in methods]
    raise TypeError(f"config must be one of: {' or '.join(names)}; got {type(config).__name__}")


def convert_bottomup(state_dict: Mapping, config, strict: bool = True) -> dict[str, torch.Tensor]:
    """Convert an MMPose HRNet-AE / HigherHRNet-AE checkpoint into the state dict of the bottom-up model of `config`
    (`AssociativeEmbeddingConfig` or `HigherHRNetConfig`); see
    `hfpose.models.associative_embedding.convert_mmpose_associative_embedding.convert_bottomup_state_dict`.

    Raises:
        TypeError: `config` is not a bottom-up config, or `state_dict` is not a mapping of tensors.
        ValueError: (strict) listing every missing key, unexpected key and shape mismatch.
    """
    return _convert_for_family("bottom-up", state_dict, config, strict)


def convert_integral_head(state_dict: Mapping, config, strict: bool = True) -> dict[str, torch.Tensor]:
    """Convert an MMPose IPR / DSNT / Debias-IPR checkpoint into the state dict of the integral model of `config`
    (`IPRConfig`, `DSNTConfig` or `DebiasIPRConfig`); see
    `hfpose.models.ipr.convert_mmpose_ipr.convert_integral_state_dict`.

    Raises:
        TypeError: `config` is not one of the integral configs.
        ValueError: see `convert_integral_state_dict`.
    """
    return _convert_for_family("integral", state_dict, config, strict)


# MMPose config name → (hfpose method, HRNet variant) of the released bottom-up checkpoints (from the declarations).
BOTTOMUP_CHECKPOINTS: dict[str, tuple[str, str]] = {
    name: (method.name, backbone)
    for method in _methods_of_family("bottom-up")
    for name, backbone in method.mmpose_checkpoints.items()
}


def _compare_with_reference(model, head_output, reference_npz: str | Path, atol: float = 1e-4) -> dict[str, float]:
    """Run `model` on the reference `inputs` (and their flip) and compare with MMPose's raw head outputs."""
    reference = np.load(reference_npz, allow_pickle=False)
    inputs = torch.from_numpy(reference["inputs"]).float()
    errors = {}
    with torch.no_grad():
        for suffix, pixel_values in (("", inputs), ("_flip", inputs.flip(-1))):
            name = "head_out" + suffix
            if name not in reference.files:
                continue
            raw = head_output(model(pixel_values))
            errors[name] = float(np.abs(raw.numpy() - reference[name]).max())
    bad = {name: error for name, error in errors.items() if not error <= atol}
    if bad:
        raise ValueError(f"converted model differs from {reference_npz}: max |diff| {bad} > atol {atol}")
    return errors


def convert_mmpose_checkpoint(
    checkpoint_path: str | Path,
    method: str,
    backbone: str,
    dataset: str,
    output_dir: str | Path,
    reference_npz: str | Path | None = None,
):
    """Convert an MMPose `.pth` into a saved hfpose model directory.

    Loads the file with `torch.load(..., weights_only=True)`, builds the config (`build_regression_config` for
    deeppose / rle; `hfpose_<method>` with a ResNet for the integral methods; `build_bottomup_config(method, variant)`
    for the bottom-up ones, `backbone` naming the HRNet variant, e.g. "w32"; all through the method's declaration,
    `PoseMethod.build_config`), converts with
    `convert_mmpose_state_dict`, loads strictly, optionally checks the raw head outputs against an MMPose reference
    npz (deeppose / rle: `inputs`, `head_out`, `head_out_flip`; atol 1e-4), then writes `config.json` +
    `model.safetensors` and, for top-down methods when `hfpose.image_processing_topdown` is available,
    `preprocessor_config.json`.

    Returns:
        The converted model (eval mode).
    Raises:
        ValueError: see `convert_mmpose_state_dict`, or a reference mismatch.
    """
    declaration = get_method(method)
    checkpoint = load_checkpoint_file(checkpoint_path)
    config = declaration.build_config(backbone, dataset)
    state_dict = convert_mmpose_state_dict(checkpoint, method, config)
    model = declaration.model_class(config)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    if reference_npz is not None:
        if declaration.head_output is None:
            checked = [name for name, other in pose_methods().items() if other.head_output is not None]
            raise ValueError(f"reference_npz checks are implemented for {checked}, not {method!r}")
        errors = _compare_with_reference(model, declaration.head_output, reference_npz)
        logger.info("reference check passed: %s", json.dumps(errors))
    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    _save_processor(config, output_dir)
    return model


def _save_processor(config, output_dir: Path) -> None:
    """Write the image processor that matches the converted model: bottom-up (0.29 UDP resize + AE parser) for the
    associative-embedding models, top-down (affine crop to ``config.input_size``) for the others."""
    names = [config.id2label[index] for index in range(len(config.id2label))]
    if method_of(config).bottom_up:
        from ..image_processing_bottomup import BottomUpPoseImageProcessor

        processor = BottomUpPoseImageProcessor(
            input_size=int(min(config.input_size)), flip_indices=list(config.flip_indices), keypoint_names=names
        )
    else:
        from ..image_processing_topdown import TopDownPoseImageProcessor

        width, height = config.input_size
        processor = TopDownPoseImageProcessor(
            size={"height": height, "width": width}, flip_indices=list(config.flip_indices), keypoint_names=names
        )
    processor.save_pretrained(output_dir)
