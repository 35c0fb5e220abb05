# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Shared helpers of the MMPose checkpoint converters (`models/<method>/convert_mmpose_<method>.py`).

Reading a `.pth` safely, MMPose's 0.x → 1.x key spelling, the backbone key mappings (MMPose ResNet → transformers
`ResNetBackbone`, MMPose MobileNetV2 → hfpose `PoseMobileNetV2Backbone`) and the strict key / shape check. This module
imports no hfpose model, so every method's converter can use it and none imports another's.

Key spellings (see the golden `manifests/*.json`):
    * MMPose 1.x: `backbone.*`, `head.*`;
    * MMPose 0.x: `keypoint_head.*` for `head.*`, `keypoint_head.loss.*` for `head.loss_module.*`
      (MMPose 1.x's own load hooks do exactly this renaming); backbone keys are the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from pickle import UnpicklingError  # the exception class only: nothing here unpickles

import torch
from transformers import ResNetConfig

__all__ = [
    "UnsafeCheckpointError",
    "check_state_dict_matches",
    "convert_backbone_keys",
    "convert_mobilenet_v2_backbone_keys",
    "convert_resnet_backbone_keys",
    "expected_state_dict_shapes",
    "extract_state_dict",
    "load_checkpoint_file",
    "rename_v0x_keys",
    "strip_head_prefix",
]

_MOBILENET_V2_MODEL_TYPE = "hfpose_mobilenet_v2"


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


def convert_backbone_keys(
    state_dict: Mapping[str, torch.Tensor], backbone_config, strict: bool = True
) -> dict[str, torch.Tensor]:
    """Rename the `backbone.*` keys for the backbone `backbone_config` describes (ResNet or MobileNetV2).

    Raises:
        ValueError: for any other backbone (unless `strict=False`: then the keys pass unchanged), or see
            `convert_resnet_backbone_keys` / `convert_mobilenet_v2_backbone_keys`.
    """
    if isinstance(backbone_config, ResNetConfig):
        return convert_resnet_backbone_keys(state_dict, strict=strict)
    if getattr(backbone_config, "model_type", None) == _MOBILENET_V2_MODEL_TYPE:
        return convert_mobilenet_v2_backbone_keys(state_dict, strict=strict)
    if not strict:
        return dict(state_dict)
    raise ValueError(
        f"no MMPose key mapping for backbone_config of type {type(backbone_config).__name__}; supported: ResNet "
        "(transformers ResNetConfig) and MobileNetV2 (hfpose PoseMobileNetV2Config)"
    )


def expected_state_dict_shapes(model_class, config) -> dict[str, tuple[int, ...]]:
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


def strip_head_prefix(key: str, prefixes: tuple[str, ...]) -> str:
    """`key` without the first of `prefixes` it starts with (unchanged when it starts with none)."""
    for prefix in prefixes:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key
