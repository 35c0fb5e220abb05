# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Convert MMPose checkpoints (0.x and 1.x spellings) into hfpose state dicts and saved models.

`convert_mmpose_state_dict` is the one renaming function; everything else (loading the `.pth`, building the config,
saving) is a thin wrapper around it.

Key spellings (see the golden `manifests/*.json`):
    * MMPose 1.x: `backbone.*`, `head.fc.*`, RLE flow `head.loss_module.flow_model.*`;
    * MMPose 0.x: `keypoint_head.*` for `head.*`, RLE flow `keypoint_head.loss.flow_model.*`
      (MMPose 1.x's own load hooks do exactly this renaming); backbone keys are the same in both.

hfpose layout of the regression models: transformers `ResNetBackbone` (or hfpose's MobileNetV2) under `backbone.`,
`head.fc.*`, RLE flow nets under `flow.{s,t}.*`. The RLE flow's constant buffers (`loc` = 0, `cov` = I, `mask` =
alternating `[0, 1]`/`[1, 0]`) are not stored by hfpose; the converter checks their values and drops them.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from pickle import UnpicklingError  # the exception class only: nothing here unpickles

import numpy as np
import torch
from transformers import ResNetConfig

from ..models.backbones import resnet_backbone_config
from ..models.deeppose import DeepPoseConfig, DeepPoseForPoseEstimation
from ..models.mobilenet_v2 import PoseMobileNetV2Config
from ..models.rle import RLEConfig, RLEForPoseEstimation, rle_coupling_masks

logger = logging.getLogger(__name__)

__all__ = [
    "TOPDOWN_REGRESSION_METHODS",
    "INTEGRAL_METHODS",
    "BOTTOMUP_METHODS",
    "extract_state_dict",
    "rename_v0x_keys",
    "convert_resnet_backbone_keys",
    "convert_mobilenet_v2_backbone_keys",
    "convert_mmpose_state_dict",
    "check_state_dict_matches",
    "build_regression_config",
    "convert_mmpose_checkpoint",
]

TOPDOWN_REGRESSION_METHODS = ("deeppose", "rle")
INTEGRAL_METHODS = ("ipr", "dsnt", "debias_ipr")
BOTTOMUP_METHODS = ("ae_hrnet", "ae_higherhrnet")
_MODEL_CLASSES = {"deeppose": (DeepPoseConfig, DeepPoseForPoseEstimation), "rle": (RLEConfig, RLEForPoseEstimation)}
_FLOW_PREFIX = "head.loss_module.flow_model."


class UnsafeCheckpointError(ValueError, UnpicklingError):
    """A checkpoint file needs more than tensors and plain containers to load (it could run code): refused."""


def load_checkpoint_file(path: str | Path):
    """Read an MMPose ``.pth`` with ``torch.load(weights_only=True)``: tensors and plain containers only.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        UnsafeCheckpointError: (a `ValueError`) if the file holds any other pickled object, naming the file and the
            global torch refused.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except UnpicklingError as error:
        raise UnsafeCheckpointError(
            f"{path} is not a plain weights file (weights_only load refused it; nothing was executed): {error}"
        ) from None


def extract_state_dict(checkpoint: Mapping) -> dict[str, torch.Tensor]:
    """Return the tensors of an MMPose checkpoint as a plain dict, float tensors cast to float32.

    Accepts `{'meta': ..., 'state_dict': {...}}`, `{'state_dict': {...}}` or a bare state dict. Drops MMPose's
    `_metadata` (module versions) and any non-tensor entries; float16/float64 → float32 (the golden fixtures store
    float16, released files float32); integer tensors (`num_batches_tracked`) keep their dtype.

    Raises:
        TypeError: if `checkpoint` is not a mapping, or holds no tensors.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f"checkpoint must be a mapping (state dict or {{'state_dict': ...}}), got {type(checkpoint)}")
    state_dict = checkpoint["state_dict"] if "state_dict" in checkpoint else checkpoint
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"checkpoint['state_dict'] must be a mapping, got {type(state_dict).__name__}")
    out = {}
    for key, value in state_dict.items():
        if key == "_metadata" or not isinstance(value, torch.Tensor):
            continue
        out[key] = value.float() if value.is_floating_point() else value
    if not out:
        raise TypeError("checkpoint holds no tensors")
    return out


def rename_v0x_keys(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """MMPose 0.x → 1.x spelling: `keypoint_head` → `head` anywhere in a key, then `head.loss.` → `head.loss_module.`
    (the RLE flow). 1.x keys pass unchanged, so the function is idempotent.

    Raises:
        ValueError: if two keys become the same (a checkpoint mixing both spellings of one tensor).
    """
    out = {}
    for key, value in state_dict.items():
        new_key = key.replace("keypoint_head", "head")
        if new_key.startswith("head.loss."):
            new_key = "head.loss_module." + new_key[len("head.loss.") :]
        if new_key in out:
            raise ValueError(f"checkpoint has both spellings of {new_key!r} (0.x and 1.x); keep one")
        out[new_key] = value
    return out


_RESNET_STEM = {"conv1.weight": "embedder.embedder.convolution.weight"}
_RESNET_BLOCK = re.compile(r"^layer(\d+)\.(\d+)\.(conv(\d)|bn(\d)|downsample\.(\d))\.(.+)$")


def _resnet_key(key: str) -> str | None:
    """MMPose ResNet key (without `backbone.`) → transformers `ResNetBackbone` key, or None if unknown."""
    if key in _RESNET_STEM:
        return _RESNET_STEM[key]
    if key.startswith("bn1."):
        return "embedder.embedder.normalization." + key[len("bn1.") :]
    match = _RESNET_BLOCK.match(key)
    if match is None:
        return None
    stage, block, _, conv, bn, downsample, leaf = match.groups()
    prefix = f"encoder.stages.{int(stage) - 1}.layers.{int(block)}."
    if conv is not None:
        return prefix + f"layer.{int(conv) - 1}.convolution.{leaf}" if leaf == "weight" else None
    if bn is not None:
        return prefix + f"layer.{int(bn) - 1}.normalization.{leaf}"
    if downsample == "0":
        return prefix + f"shortcut.convolution.{leaf}" if leaf == "weight" else None
    if downsample == "1":
        return prefix + f"shortcut.normalization.{leaf}"
    return None


def convert_resnet_backbone_keys(
    state_dict: Mapping[str, torch.Tensor],
    prefix: str = "backbone.",
    new_prefix: str = "backbone.",
    strict: bool = True,
) -> dict[str, torch.Tensor]:
    """Rename MMPose `ResNet` keys (`{prefix}conv1`, `bn1`, `layer{s}.{b}.conv{c}|bn{c}|downsample.{0,1}`) to
    transformers `ResNetBackbone` keys (`{new_prefix}embedder.embedder.*`,
    `encoder.stages.{s-1}.layers.{b}.layer.{c-1}.convolution|normalization`, `shortcut.convolution|normalization`).

    Keys outside `prefix` pass through unchanged. MMPose's default `style='pytorch'` ResNet (stride on the 3x3 conv)
    is transformers' `downsample_in_bottleneck=False`, so values need no change.

    Raises:
        ValueError: listing every key under `prefix` that is not a ResNet key (e.g. a MobileNetV2 or HRNet backbone),
            unless `strict=False` (then such keys pass through unchanged).
    """
    out, unknown = {}, []
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            out[key] = value
            continue
        new_key = _resnet_key(key[len(prefix) :])
        if new_key is None:
            unknown.append(key)
            out[key] = value
        else:
            out[new_prefix + new_key] = value
    if unknown and strict:
        raise ValueError(f"{len(unknown)} backbone keys are not MMPose ResNet keys: {unknown}")
    return out


def convert_mobilenet_v2_backbone_keys(
    state_dict: Mapping[str, torch.Tensor],
    prefix: str = "backbone.",
    new_prefix: str = "backbone.",
    strict: bool = True,
) -> dict[str, torch.Tensor]:
    """MMPose `MobileNetV2` keys → hfpose `PoseMobileNetV2Backbone` keys: identical names (`conv1.conv`, `conv1.bn`,
    `layer{i}.{j}.conv.{k}.conv|bn`, `conv2.*`), only the prefix changes.

    Raises:
        ValueError: listing every key under `prefix` that does not look like a MobileNetV2 key (unless
            `strict=False`: then such keys pass through unchanged).
    """
    pattern = re.compile(r"^(conv1|conv2)\.(conv|bn)\.|^layer\d+\.\d+\.conv\.\d+\.(conv|bn)\.")
    out, unknown = {}, []
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            out[key] = value
            continue
        rest = key[len(prefix) :]
        if pattern.match(rest) is None:
            unknown.append(key)
            out[key] = value
        else:
            out[new_prefix + rest] = value
    if unknown and strict:
        raise ValueError(f"{len(unknown)} backbone keys are not MMPose MobileNetV2 keys: {unknown}")
    return out


def _check_flow_constants(state_dict: dict[str, torch.Tensor], num_layers: int) -> None:
    """Check that the RLE flow's buffers hold the constants hfpose hard-codes (and drop them from `state_dict`)."""
    expected = {
        "loc": torch.zeros(2),
        "cov": torch.eye(2),
        "mask": rle_coupling_masks(num_layers),
    }
    for name, value in expected.items():
        key = _FLOW_PREFIX + name
        if key not in state_dict:
            continue  # reported as missing by check_state_dict_matches if it matters (it does not: not stored)
        found = state_dict.pop(key)
        if tuple(found.shape) != tuple(value.shape) or not torch.equal(found.float(), value):
            raise ValueError(
                f"{key} must be {value.tolist()} (the constant RealNVP base / masks hfpose hard-codes), "
                f"got {found.tolist()}"
            )


def _convert_backbone(state_dict: dict[str, torch.Tensor], config, strict: bool) -> dict[str, torch.Tensor]:
    backbone_config = config.backbone_config
    if isinstance(backbone_config, ResNetConfig):
        return convert_resnet_backbone_keys(state_dict, strict=strict)
    if isinstance(backbone_config, PoseMobileNetV2Config):
        return convert_mobilenet_v2_backbone_keys(state_dict, strict=strict)
    if not strict:
        return dict(state_dict)
    raise ValueError(
        f"no MMPose key mapping for backbone_config of type {type(backbone_config).__name__}; supported: ResNet "
        "(transformers ResNetConfig) and MobileNetV2 (hfpose PoseMobileNetV2Config)"
    )


def _expected_shapes(model_class, config) -> dict[str, tuple[int, ...]]:
    """Persistent state-dict keys and shapes of `model_class(config)`, built on the meta device (no memory, fast)."""
    with torch.device("meta"):
        model = model_class(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def check_state_dict_matches(
    state_dict: Mapping[str, torch.Tensor],
    expected: Mapping[str, tuple],
    what: str,
    origins: Mapping[str, str] | None = None,
) -> None:
    """Fail loudly unless `state_dict` has exactly the keys and shapes of `expected`.

    Args:
        origins: optional `{converted key: MMPose key}`, used to name the checkpoint's own key in the message.
    Raises:
        ValueError: listing every missing key, every unexpected key and every shape mismatch.
    """
    origins = origins or {}

    def name(key):
        return f"{key} (MMPose {origins[key]})" if origins.get(key, key) != key else key

    missing = [key for key in expected if key not in state_dict]
    unexpected = [name(key) for key in state_dict if key not in expected]
    mismatched = [
        f"{name(key)}: checkpoint {tuple(state_dict[key].shape)} vs model {tuple(expected[key])}"
        for key in expected
        if key in state_dict and tuple(state_dict[key].shape) != tuple(expected[key])
    ]
    if missing or unexpected or mismatched:
        lines = [f"MMPose checkpoint does not match {what}:"]
        if missing:
            lines.append(f"  {len(missing)} missing keys: {missing}")
        if unexpected:
            lines.append(f"  {len(unexpected)} unexpected keys: {unexpected}")
        if mismatched:
            lines.append(f"  {len(mismatched)} shape mismatches: {mismatched}")
        raise ValueError("\n".join(lines))


def _call_with_strict(converter, tensors, config, strict: bool):
    """Call a delegated converter, passing `strict=False` only to converters that accept it."""
    if strict or "strict" not in inspect.signature(converter).parameters:
        return converter(tensors, config)
    return converter(tensors, config, strict=False)


def convert_mmpose_state_dict(state_dict: Mapping, method: str, config, strict: bool = True) -> dict[str, torch.Tensor]:
    """Convert an MMPose checkpoint (0.x or 1.x spelling) into the state dict of the hfpose model of `method`.

    Args:
        state_dict: `{'meta', 'state_dict'}` as saved by MMPose, or a bare state dict (either key spelling; float16
            values are cast to float32; `_metadata` is dropped).
        method: "deeppose" or "rle" (handled here); "ipr", "dsnt", "debias_ipr" (delegated to
            `hfpose.hub.conversion_integral.convert_integral_head`, given the 1.x-spelled dict); "ae_hrnet",
            "ae_higherhrnet" (delegated to `hfpose.hub.conversion_bottomup.convert_bottomup`, given the extracted
            float32 dict in its original spelling).
        config: the hfpose config of the target model (`DeepPoseConfig` / `RLEConfig` for the methods handled here).
        strict: if False (partial initialisation, e.g. fine-tuning from another method's checkpoint), rename what can
            be renamed and skip the key / shape check; the caller loads what fits. Forwarded to the delegated
            converters only when False and only if they accept a `strict` argument.
    Returns:
        hfpose state dict (`backbone.*`, `head.fc.*`, RLE `flow.*`), loadable with `load_state_dict(strict=True)`.
    Raises:
        ValueError: unknown method; unsupported backbone; RLE flow constants with unexpected values; or, listing
            every offending key, missing / unexpected keys and shape mismatches against the model `config` describes.
        TypeError: `config` of the wrong class for `method`.
    """
    tensors = extract_state_dict(state_dict)
    if method in BOTTOMUP_METHODS:
        from .conversion_bottomup import convert_bottomup

        return _call_with_strict(convert_bottomup, tensors, config, strict)
    original_keys = list(tensors)
    tensors = rename_v0x_keys(tensors)
    if method in INTEGRAL_METHODS:
        from .conversion_integral import convert_integral_head

        return _call_with_strict(convert_integral_head, tensors, config, strict)
    if method not in _MODEL_CLASSES:
        known = TOPDOWN_REGRESSION_METHODS + INTEGRAL_METHODS + BOTTOMUP_METHODS
        raise ValueError(f"unknown method {method!r}; expected one of {list(known)}")

    config_class, model_class = _MODEL_CLASSES[method]
    if not isinstance(config, config_class):
        raise TypeError(f"method {method!r} needs a {config_class.__name__}, got {type(config).__name__}")

    if method == "rle":
        _check_flow_constants(tensors, config.flow_num_layers)
    # The renaming functions do not look at values: running them on {key: key} tells where each output key came from.
    origin_of_v1 = dict(zip(rename_v0x_keys(dict.fromkeys(original_keys)), original_keys))
    backbone_origins = _convert_backbone({key: key for key in tensors}, config, strict)
    converted, origins = {}, {}
    for key, value in _convert_backbone(tensors, config, strict).items():
        origin = origin_of_v1.get(backbone_origins[key], backbone_origins[key])
        if method == "rle" and key.startswith(_FLOW_PREFIX):
            key = "flow." + key[len(_FLOW_PREFIX) :]
        converted[key] = value
        origins[key] = origin
    if strict:
        check_state_dict_matches(
            converted, _expected_shapes(model_class, config), f"{model_class.__name__}({method})", origins
        )
    return converted


_BACKBONES = ("resnet50", "resnet101", "resnet152", "mobilenetv2")
_DATASET_INPUT_SIZES = {"coco": [192, 256], "mpii": [256, 256]}


def build_regression_config(method: str, backbone: str, dataset: str, input_size: list[int] | None = None):
    """Config of MMPose's `td-reg_{backbone}[_rle]-8xb64-210e_{dataset}-…` models.

    Args:
        method: "deeppose" or "rle".
        backbone: "resnet50", "resnet101", "resnet152" or "mobilenetv2".
        dataset: "coco" (input 192x256 w x h) or "mpii" (256x256); `input_size` overrides.
    Raises:
        ValueError: naming the unknown method, backbone or dataset.
    """
    if method not in _MODEL_CLASSES:
        raise ValueError(f"build_regression_config: method must be one of {list(_MODEL_CLASSES)}, got {method!r}")
    if backbone not in _BACKBONES:
        raise ValueError(f"backbone must be one of {list(_BACKBONES)}, got {backbone!r}")
    if dataset not in _DATASET_INPUT_SIZES:
        raise ValueError(f"dataset must be one of {list(_DATASET_INPUT_SIZES)}, got {dataset!r}")
    if backbone == "mobilenetv2":
        backbone_config = PoseMobileNetV2Config()
    else:
        backbone_config = resnet_backbone_config(int(backbone[len("resnet") :]))
    config_class = _MODEL_CLASSES[method][0]
    return config_class(
        backbone_config=backbone_config,
        dataset=dataset,
        input_size=list(input_size or _DATASET_INPUT_SIZES[dataset]),
    )


def _build_config(method: str, backbone: str, dataset: str):
    """Config for `convert_mmpose_checkpoint`: regression methods here, the other families through their modules."""
    if method in _MODEL_CLASSES:
        return build_regression_config(method, backbone, dataset)
    if method in BOTTOMUP_METHODS:
        from .conversion_bottomup import build_bottomup_config

        return build_bottomup_config(method, variant=backbone.rsplit("_", 1)[-1])  # "w32" or "hrnet_w32"
    if method in INTEGRAL_METHODS:
        from transformers import AutoConfig

        if not backbone.startswith("resnet") or not backbone[len("resnet") :].isdigit():
            raise ValueError(f"integral methods use a ResNet backbone (resnet50/101/152), got {backbone!r}")
        backbone_config = resnet_backbone_config(int(backbone[len("resnet") :]))
        return AutoConfig.for_model(f"hfpose_{method}", dataset=dataset, backbone_config=backbone_config)
    known = TOPDOWN_REGRESSION_METHODS + INTEGRAL_METHODS + BOTTOMUP_METHODS
    raise ValueError(f"unknown method {method!r}; expected one of {list(known)}")


def _compare_with_reference(model, method: str, reference_npz: str | Path, atol: float = 1e-4) -> dict[str, float]:
    """Run `model` on the reference `inputs` (and their flip) and compare with MMPose's raw head outputs."""
    reference = np.load(reference_npz, allow_pickle=False)
    inputs = torch.from_numpy(reference["inputs"]).float()
    errors = {}
    with torch.no_grad():
        for suffix, pixel_values in (("", inputs), ("_flip", inputs.flip(-1))):
            name = "head_out" + suffix
            if name not in reference.files:
                continue
            outputs = model(pixel_values)
            raw = outputs.keypoints
            if method == "rle":
                raw = torch.cat([outputs.keypoints, outputs.sigma_raw], dim=-1)
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
    for the bottom-up ones, `backbone` naming the HRNet variant, e.g. "w32"), converts with
    `convert_mmpose_state_dict`, loads strictly, optionally checks the raw head outputs against an MMPose reference
    npz (deeppose / rle: `inputs`, `head_out`, `head_out_flip`; atol 1e-4), then writes `config.json` +
    `model.safetensors` and, for top-down methods when `hfpose.image_processing_topdown` is available,
    `preprocessor_config.json`.

    Returns:
        The converted model (eval mode).
    Raises:
        ValueError: see `convert_mmpose_state_dict`, or a reference mismatch.
    """
    from transformers import AutoModelForPoseEstimation

    checkpoint = load_checkpoint_file(checkpoint_path)
    config = _build_config(method, backbone, dataset)
    state_dict = convert_mmpose_state_dict(checkpoint, method, config)
    if method in _MODEL_CLASSES:
        model = _MODEL_CLASSES[method][1](config)
    else:
        model = AutoModelForPoseEstimation.from_config(config)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    if reference_npz is not None:
        if method not in _MODEL_CLASSES:
            raise ValueError(f"reference_npz checks are implemented for {list(_MODEL_CLASSES)}, not {method!r}")
        errors = _compare_with_reference(model, method, reference_npz)
        logger.info("reference check passed: %s", json.dumps(errors))
    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    _save_processor(config, output_dir)
    return model


def _save_processor(config, output_dir: Path) -> None:
    """Write the image processor that matches the converted model: bottom-up (0.29 UDP resize + AE parser) for the
    associative-embedding models, top-down (affine crop to ``config.input_size``) for the others."""
    names = [config.id2label[index] for index in range(len(config.id2label))]
    if config.model_type in ("hfpose_ae_hrnet", "hfpose_ae_higherhrnet"):
        from ..image_processing_bottomup import BottomUpPoseImageProcessor

        processor = BottomUpPoseImageProcessor(input_size=int(min(config.input_size)),
                                               flip_indices=list(config.flip_indices), keypoint_names=names)
    else:
        from ..image_processing_topdown import TopDownPoseImageProcessor

        width, height = config.input_size
        processor = TopDownPoseImageProcessor(
            size={"height": height, "width": width}, flip_indices=list(config.flip_indices), keypoint_names=names
        )
    processor.save_pretrained(output_dir)
