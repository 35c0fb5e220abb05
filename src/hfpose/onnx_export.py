# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Export of an hfpose network to an ONNX graph, shared by `hfpose.onnx` (files) and `hfpose.inference`
(in-memory onnxruntime sessions). Kept free of model imports so that remote code (`hfpose.hub.remote_code`) built
for one model does not pull in the others.

Outputs are flattened to named tensors: a tensor field keeps its name (``keypoints``, ``tags``), a tuple-of-tensors
field becomes ``name.0``, ``name.1`` ... (bottom-up ``heatmaps``); `unflatten_outputs` rebuilds the model's output.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

__all__ = ["export_network", "flat_output_names", "unflatten_outputs"]


def flat_output_names(outputs) -> list[str]:
    """Names of the tensors of a model output, in field order: a tensor field is ``name``, a tuple-of-tensors field
    (bottom-up ``heatmaps``) is ``name.0``, ``name.1`` ...; other fields (``None`` losses) are left out."""
    names = []
    for key, value in outputs.items():
        if isinstance(value, torch.Tensor):
            names.append(key)
        elif isinstance(value, tuple) and value and all(isinstance(item, torch.Tensor) for item in value):
            names.extend(f"{key}.{index}" for index in range(len(value)))
    return names


def _pick(outputs, name: str) -> torch.Tensor:
    key, _, index = name.partition(".")
    return outputs[key][int(index)] if index else outputs[key]


def unflatten_outputs(output_class, names, values):
    """Inverse of `flat_output_names`: ``output_class(**fields)`` from flat ``names`` / tensors ``values``."""
    fields: dict = {}
    for name, value in zip(names, values):
        key, _, index = name.partition(".")
        if index:
            fields.setdefault(key, {})[int(index)] = value
        else:
            fields[key] = value
    return output_class(
        **{
            key: tuple(value[i] for i in sorted(value)) if isinstance(value, dict) else value
            for key, value in fields.items()
        }
    )


class _FlatWrapper(nn.Module):
    """`pixel_values -> tuple of the tensors named by flat_output_names`, the form `torch.onnx.export` traces."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model = model
        self.names = list(names)

    def forward(self, pixel_values: torch.Tensor):
        outputs = self.model(pixel_values=pixel_values, return_dict=True)
        return tuple(_pick(outputs, name) for name in self.names)


def export_network(
    model: nn.Module,
    example: torch.Tensor,
    f,
    opset_version: int = 17,
    dynamic_spatial: bool | None = None,
    names: list[str] | None = None,
) -> tuple[list[str], type]:
    """Export ``model``'s network (eval mode, no pre/post-processing) to ONNX with the TorchScript-based exporter.

    Args:
        model: an hfpose model.
        example: ``(B, 3, H, W)`` float32 input used for tracing.
        f: file path or binary file object (``io.BytesIO`` for an in-memory graph).
        opset_version: ONNX opset.
        dynamic_spatial: also make height and width dynamic (default: for bottom-up models, whose input size follows
            the image); the batch axis is always dynamic.
        names: the outputs to export (default: every tensor, `flat_output_names`).

    Returns:
        ``(output_names, output_class)``: the flat output names (`flat_output_names`) and the model's output class,
        for `unflatten_outputs`.
    """
    model = model.eval()
    if dynamic_spatial is None:
        dynamic_spatial = getattr(model.config, "pose_family", None) == "bottom-up"
    with torch.no_grad():
        reference = model(pixel_values=example, return_dict=True)
    names = flat_output_names(reference) if names is None else list(names)
    input_axes = {0: "batch", 2: "height", 3: "width"} if dynamic_spatial else {0: "batch"}
    dynamic_axes = {"pixel_values": input_axes}
    for name in names:
        dims = {0: "batch"}
        if dynamic_spatial and _pick(reference, name).ndim == 4:
            dims.update({2: f"{name}_height", 3: f"{name}_width"})
        dynamic_axes[name] = dims
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
        # The wrapper must be in eval mode too: the exporter restores the wrapper's own mode afterwards, recursively.
        torch.onnx.export(
            _FlatWrapper(model, names).eval(),
            (example,),
            f,
            input_names=["pixel_values"],
            output_names=names,
            dynamic_axes=dynamic_axes,
            opset_version=opset_version,
            dynamo=False,
        )
    return names, type(reference)
