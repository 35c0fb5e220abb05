# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""ONNX export of top-down hfpose networks and an onnxruntime runner that stands in for the PyTorch model.

`export_onnx(model_or_dir, path)` exports the network only (no pre- or post-processing) with `torch.onnx.export`
(the TorchScript-based exporter, `dynamo=False`, which needs no `onnxscript`), with a dynamic batch axis:

    input   pixel_values  float32 (batch, 3, height, width), RGB, ImageNet-normalized (the image processor's output)
    outputs keypoints     float32 (batch, K, 2), normalized input coordinates (input px / (w, h))
            scores        float32 (batch, K) in [0, 1]
            sigma         float32 (batch, K, 2), RLE only (post-sigmoid scale, needed by flip-test post-processing)

`OnnxPoseModel(path, config)` runs such a file with onnxruntime on CPU and returns the same fields as the PyTorch
model (`OnnxPoseEstimatorOutput`), so `TopDownPoseImageProcessor.post_process_pose_estimation`, flip test included,
works on its outputs unchanged. `onnx` and `onnxruntime` are dependencies of hfpose (the pipeline's default
CPU backend, `hfpose.inference`).

Bottom-up models (AE HRNet / HigherHRNet) are exported with dynamic batch, height and width (one file for every input
size; grouping stays outside the network):

    input   pixel_values  float32 (batch, 3, height, width), height and width multiples of 32
    outputs heatmaps.0 [, heatmaps.1]  float32 (batch, K, h_s, w_s), one per output resolution (the model's `heatmaps`)
            tags          float32 (batch, K * tag_dim, h_0, w_0)

and `OnnxPoseModel` returns the model's own output class (`AssociativeEmbeddingPoseEstimatorOutput`), so
`BottomUpPoseImageProcessor.post_process_pose_estimation` works on it unchanged. `export_network` is the shared
exporter: `hfpose.inference.optimize_for_inference(..., backend="onnxruntime")` uses it to build an in-memory session.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers.utils import ModelOutput

from .models import method_of, pose_methods
from .onnx_export import _pick, export_network, flat_output_names, unflatten_outputs
from .progress import step_line

__all__ = [
    "ONNX_OUTPUT_NAMES",
    "OnnxPoseEstimatorOutput",
    "OnnxPoseModel",
    "export_network",
    "export_onnx",
    "flat_output_names",
    "onnx_output_names",
    "unflatten_outputs",
]

ONNX_OUTPUT_NAMES = ("keypoints", "scores", "sigma")


@dataclass
class OnnxPoseEstimatorOutput(ModelOutput):
    r"""
    keypoints (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`): normalized input coordinates.
    scores (`torch.FloatTensor` of shape `(batch_size, num_keypoints)`): keypoint scores in [0, 1].
    sigma (`torch.FloatTensor` of shape `(batch_size, num_keypoints, 2)`, *optional*): RLE's σ.
    """

    keypoints: torch.FloatTensor | None = None
    scores: torch.FloatTensor | None = None
    sigma: torch.FloatTensor | None = None


def _load_model(model_or_dir):
    if isinstance(model_or_dir, nn.Module):
        return model_or_dir
    from transformers import AutoModelForPoseEstimation

    from .models import register_models

    register_models()  # AutoModelForPoseEstimation knows the hfpose models

    path = Path(model_or_dir)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model_dir {path} has no config.json (not a saved hfpose model directory)")
    return AutoModelForPoseEstimation.from_pretrained(path)


def onnx_output_names(model: nn.Module) -> tuple[str, ...]:
    """The `ONNX_OUTPUT_NAMES` a model returns (RLE: keypoints, scores, sigma; others: keypoints, scores).

    Raises:
        ValueError: if the model is not a top-down hfpose model.
    """
    model_type = getattr(model.config, "model_type", None)
    top_down = [method.model_type for method in pose_methods().values() if method.onnx_output_names is not None]
    if model_type not in top_down:
        raise ValueError(f"ONNX export covers the top-down models {top_down}; got {model_type!r}")
    return method_of(model_type).onnx_output_names


def export_onnx(
    model_or_dir,
    output_path: str | Path,
    opset_version: int = 17,
    batch_size: int = 2,
    check: bool = True,
    atol: float = 1e-4,
    verbose: bool = False,
) -> dict:
    """Export an hfpose network to ONNX: top-down models with a dynamic batch axis, bottom-up models with dynamic
    batch, height and width (see the module docstring for the inputs and outputs).

    Args:
        model_or_dir: an hfpose model or a directory written by `save_pretrained`.
        output_path: the `.onnx` file to write; `config.json` of the model is written next to it as
            `<stem>.config.json` so `OnnxPoseModel` can find the keypoint names and flip indices.
        opset_version: ONNX opset.
        batch_size: batch of the random example used for tracing.
        check: run the exported graph with onnxruntime on a batch of a *different* size (`batch_size + 1`; bottom-up
            also 64 px wider) and compare with PyTorch.
        atol: largest absolute difference accepted by the check.
        verbose: print a numbered line per stage with its time (`hfpose.progress.step_line`; the bottom-up export
            takes about a minute on 2 CPU cores).

    Returns:
        `{"path", "output_names", "input_size" [w, h] of the tracing example, "max_abs_diff" (when checked)}`.

    Raises:
        ValueError: not an hfpose pose model, or (check) outputs that differ by more than `atol` (names the output).
        ImportError: `check=True` without onnxruntime installed (a dependency of hfpose: `pip install onnxruntime`).
    """
    model = _load_model(model_or_dir).eval()
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    known = [method.model_type for method in pose_methods().values()]
    if model_type not in known:
        raise ValueError(f"ONNX export covers the hfpose pose models {known}; got {model_type!r}")
    bottom_up = method_of(model_type).bottom_up
    if bottom_up:
        size = getattr(model.config, "input_size", 512)
        width, height = (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))
        names = None
    else:
        names = list(onnx_output_names(model))
        width, height = model.config.input_size
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(batch_size, 3, height, width, generator=generator)
    stages = 2 if check else 1
    started = step_line(1, stages, f"tracing {type(model).__name__} at {width}x{height} into {output_path}", verbose)
    names, _ = export_network(model, example, str(output_path), opset_version=opset_version, names=names)
    model.config.to_json_file(str(_config_path(output_path)))
    result = {"path": str(output_path), "output_names": list(names), "input_size": [width, height]}
    if check:
        started = step_line(
            2, 2, f"exported in {time.time() - started:.1f} s; checking onnxruntime against PyTorch", verbose
        )
        pixel_values = torch.randn(batch_size + 1, 3, height, width + (64 if bottom_up else 0), generator=generator)
        if bottom_up:
            pixel_values = pixel_values[..., : height - 32, :]  # a different height too
        runner = OnnxPoseModel(output_path, model.config)
        with torch.no_grad():
            expected = model(pixel_values=pixel_values, return_dict=True)
        got = runner(pixel_values=pixel_values)
        differences = {name: float((_pick(got, name) - _pick(expected, name)).abs().max()) for name in names}
        result["max_abs_diff"] = differences
        bad = {name: diff for name, diff in differences.items() if not diff <= atol}
        if bad:
            raise ValueError(f"ONNX outputs differ from PyTorch by more than atol={atol}: {bad}")
    if verbose:
        print(f"done in {time.time() - started:.1f} s", flush=True)
    return result


def _config_path(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.stem + ".config.json")


class OnnxPoseModel(nn.Module):
    """An exported hfpose network run by onnxruntime (CPU), callable like the PyTorch model.

    `model(pixel_values)` takes a `(B, 3, H, W)` float tensor (any batch size; any multiple-of-32 size for bottom-up
    files) and returns, as float32 CPU tensors in the conventions of the PyTorch model, an `OnnxPoseEstimatorOutput`
    with `keypoints`, `scores` (and `sigma` for RLE) for top-down files, or the bottom-up model's own output class
    (`heatmaps` tuple and `tags`) for bottom-up files. It has no parameters; `config` is the hfpose config (keypoint
    names, flip indices, input size).

    Args:
        path: the `.onnx` file.
        config: the model's config (a `PreTrainedConfig`); default: the `<stem>.config.json` written by
            `export_onnx` (needs hfpose's Auto classes, i.e. `import hfpose`).
        num_threads: onnxruntime intra-op threads (0 = onnxruntime's default).

    Raises:
        ImportError: onnxruntime is not installed (a dependency of hfpose: `pip install onnxruntime`).
        FileNotFoundError: `path` (or the default config file) does not exist.
    """

    main_input_name = "pixel_values"

    def __init__(self, path: str | Path, config=None, num_threads: int = 0):
        super().__init__()
        try:
            import onnxruntime
        except ImportError as error:  # pragma: no cover - exercised only without the extra
            raise ImportError("OnnxPoseModel needs onnxruntime: pip install onnx onnxruntime") from error
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX file at {path}")
        if config is None:
            config_file = _config_path(path)
            if not config_file.is_file():
                raise FileNotFoundError(f"no config for {path}: pass config= or keep {config_file.name} next to it")
            from transformers import AutoConfig

            from .models import register_models

            register_models()

            config = AutoConfig.for_model(**json.loads(config_file.read_text()))
        self.config = config
        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = int(num_threads)
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.output_class = OnnxPoseEstimatorOutput
        if getattr(config, "pose_family", None) == "bottom-up":
            self.output_class = method_of(config).output_class
        self.register_buffer("_device_anchor", torch.zeros(()), persistent=False)

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def can_generate(self) -> bool:  # asked by transformers' Pipeline
        return False

    def forward(self, pixel_values: torch.Tensor, **kwargs) -> OnnxPoseEstimatorOutput:
        """Run the graph; extra keyword arguments (`return_dict`, ...) are ignored."""
        array = pixel_values.detach().cpu().numpy().astype(np.float32, copy=False)
        values = self.session.run(self.output_names, {"pixel_values": array})
        return unflatten_outputs(self.output_class, self.output_names, [torch.from_numpy(v) for v in values])
