# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Gradient (activation) checkpointing for the backbones hfpose uses: ResNet (transformers' `ResNetBackbone`, which
has no checkpointing of its own), hfpose's MobileNetV2 and HRNet.

`make_checkpointable(module)` turns a stage of a backbone into a checkpointing unit *in place*: its class becomes a
subclass of transformers' `GradientCheckpointingLayer` (the flag `PreTrainedModel.gradient_checkpointing_enable()`
sets, with the `_gradient_checkpointing_func` it assigns), so parameter names, state dicts and `from_pretrained` are
unchanged. When the flag is on and the module is in training mode, its forward runs under `torch.utils.checkpoint`
(non-reentrant by default in transformers 5): its inner activations are freed after the forward pass and recomputed
during the backward pass, which gives the same gradients for less memory and about one extra forward pass of compute.

Units: the 4 `encoder.stages` of a ResNet, the 7 inverted-residual `layer*` of MobileNetV2, every `HRNetModule` (and
stage-1 `layer1`) of HRNet.

Caveat: BatchNorm running statistics are updated again during the recomputation (so a checkpointed training step
moves them twice, as with any recompute-based checkpointing of a BatchNorm network); gradients are unaffected.
"""

from __future__ import annotations

from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

__all__ = ["NonReentrantCheckpointingMixin", "make_backbone_checkpointable", "make_checkpointable"]

_CLASSES: dict[type, type] = {}


def _checkpointed_class(cls: type) -> type:
    """``cls`` with transformers' `GradientCheckpointingLayer` in front: that base wraps the inherited ``forward`` so it
    runs under ``self._gradient_checkpointing_func`` while ``gradient_checkpointing`` is on and the module trains."""
    if issubclass(cls, GradientCheckpointingLayer):
        return cls
    if cls not in _CLASSES:
        name = f"Checkpointed{cls.__name__}"
        new = type(name, (GradientCheckpointingLayer, cls), {"__module__": __name__, "__qualname__": name})
        globals()[name] = new  # importable by name, so pickling a model still works
        _CLASSES[cls] = new
    return _CLASSES[cls]


def make_checkpointable(module: nn.Module) -> nn.Module:
    """Make ``module`` a checkpointing unit in place (see the module docstring); returns it."""
    module.__class__ = _checkpointed_class(type(module))
    return module


def make_backbone_checkpointable(backbone: nn.Module) -> nn.Module:
    """Mark the stages of a transformers `ResNetBackbone` as checkpointing units (other backbones are left as they
    are: hfpose's own mark their units themselves); returns ``backbone``."""
    from transformers import ResNetBackbone

    if isinstance(backbone, ResNetBackbone):
        for stage in backbone.encoder.stages:
            make_checkpointable(stage)
    return backbone


class NonReentrantCheckpointingMixin:
    """For models built on HRNet, whose multi-branch modules take and return lists of branch tensors: reentrant
    checkpointing (``use_reentrant=True``, PyTorch's old default) passes gradients only through tensors given and
    returned directly, so it would silently drop the gradients of every branch. It is refused; the default
    (non-reentrant, transformers 5) is exact.

    Raises:
        ValueError: from `activation_checkpointing_enable` / `gradient_checkpointing_enable` with
            ``use_reentrant=True``.
    """

    def activation_checkpointing_enable(self, activation_checkpointing_kwargs=None, *args, **kwargs):
        if (activation_checkpointing_kwargs or {}).get("use_reentrant"):
            raise ValueError(
                f"{type(self).__name__}: use_reentrant=True cannot carry gradients through HRNet's lists of branch "
                "tensors; leave gradient_checkpointing_kwargs unset (non-reentrant checkpointing, exact gradients)"
            )
        return super().activation_checkpointing_enable(activation_checkpointing_kwargs, *args, **kwargs)
