# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""``init_from``: start training from an hfpose model directory or an MMPose checkpoint.

MMPose's integral-regression recipes start from a heatmap-pretrained SimpleBaseline (``td-hm_res50``) and the
MobileNetV2 RLE recipe from MMPose's MobileNetV2 heatmap checkpoint: only the tensors whose (converted) names and
shapes exist in the model are loaded, and the report lists everything that was not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

__all__ = ["InitReport", "load_initial_weights"]


@dataclass
class InitReport:
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # model tensors that kept their initial values
    unexpected: list[str] = field(default_factory=list)  # checkpoint tensors with no place in the model
    mismatched: list[str] = field(default_factory=list)  # same name, different shape

    @property
    def reinitialised(self) -> list[str]:
        """Model tensors the checkpoint has under the same name but another shape (e.g. a head sized by another
        number of keypoints K): they keep their fresh initialisation."""
        return [entry.split(":", 1)[0] for entry in self.mismatched]

    def summary(self) -> str:
        fresh = self.reinitialised
        return (
            f"loaded {len(self.loaded)} tensors; re-initialised {len(fresh)} tensors ({', '.join(fresh[:8])}"
            f"{'...' if len(fresh) > 8 else ''}) whose shape differs (another number of keypoints?); "
            f"not loaded: {len(self.missing)} model tensors "
            f"({', '.join(self.missing[:8])}{'...' if len(self.missing) > 8 else ''}); "
            f"ignored {len(self.unexpected)} checkpoint tensors; {len(self.mismatched)} shape mismatches "
            f"({', '.join(self.mismatched[:8])})"
        )


def _read_state_dict(path: Path) -> tuple[dict[str, torch.Tensor], bool]:
    """Returns the state dict and whether it is in MMPose's layout."""
    if path.is_dir():
        from safetensors.torch import load_file

        files = sorted(path.glob("*.safetensors"))
        if not files:
            raise FileNotFoundError(f"init_from directory {path} has no *.safetensors weights")
        state_dict = {}
        for file in files:
            state_dict.update(load_file(str(file)))
        return state_dict, False
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path)), False
    from ..models.conversion_utils import load_checkpoint_file

    checkpoint = load_checkpoint_file(path)
    state_dict = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state_dict, dict):
        raise ValueError(f"init_from checkpoint {path} holds no state dict")
    return {k: v for k, v in state_dict.items() if isinstance(v, torch.Tensor)}, True


def load_initial_weights(model, init_from: str | Path, method: str) -> InitReport:
    """Load every tensor of ``init_from`` whose name and shape fit ``model``.

    Args:
        model: an hfpose `PreTrainedModel`.
        init_from: an hfpose model directory (safetensors), a ``.safetensors`` file, or an MMPose ``.pth`` checkpoint
            (read with ``torch.load(weights_only=True)``; keys renamed by the method's MMPose converter); a checkpoint
            whose keys have no ``backbone.``/``head.`` prefix is taken as a bare ImageNet backbone (torchvision ResNet,
            MMPose's HRNet ``pretrain_models``).
        method: the hfpose method of ``model`` (selects the key renaming for MMPose checkpoints).

    Raises:
        FileNotFoundError: if ``init_from`` does not exist.
        ValueError: if nothing at all could be loaded (the checkpoint does not match the model).
    """
    path = Path(init_from)
    if not path.exists():
        raise FileNotFoundError(f"init_from path does not exist: {path}")
    state_dict, is_mmpose = _read_state_dict(path)
    if is_mmpose:
        from ..models import get_method

        if not any(key.startswith(("backbone.", "head.", "keypoint_head.")) for key in state_dict):
            # A bare ImageNet backbone checkpoint (torchvision `resnet50-*.pth`, MMPose
            # `pretrain_models/hrnet_w32-*.pth`,
            # as MMPose's `init_cfg=dict(type='Pretrained', ...)` loads it): its keys are the backbone's own.
            state_dict = {f"backbone.{key}": value for key, value in state_dict.items()}
        state_dict = get_method(method).convert_state_dict(state_dict, model.config, strict=False)
    own = model.state_dict()
    report = InitReport()
    to_load = {}
    for key, tensor in state_dict.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(own[key].shape) != tuple(tensor.shape):
            report.mismatched.append(f"{key}: checkpoint {tuple(tensor.shape)} vs model {tuple(own[key].shape)}")
        else:
            to_load[key] = tensor.to(own[key].dtype)
            report.loaded.append(key)
    report.missing = [key for key in own if key not in to_load]
    if not to_load:
        raise ValueError(
            f"init_from {path} does not match this {type(model).__name__}: no tensor name and shape agree "
            f"({len(report.unexpected)} unexpected, {len(report.mismatched)} mismatched, e.g. "
            f"{(report.unexpected + report.mismatched)[:5]})"
        )
    model.load_state_dict(to_load, strict=False)
    return report
