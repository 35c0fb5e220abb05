# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Fast CPU inference for hfpose models: `torch.compile` with weight freezing, or onnxruntime, run in chunks.

`optimize_for_inference(model)` returns an `OptimizedPoseModel`: a drop-in callable for ``model(pixel_values=...)``
(same output class, same fields, same order of persons) whose forward is either (``backend="onnxruntime"``) the
network exported once to an in-memory ONNX graph with dynamic batch (and, for bottom-up models, dynamic height and
width) run by an onnxruntime CPU session, or (``backend="inductor"``, the function's default) the model compiled by
TorchInductor with ``freezing=True``. The pipeline picks onnxruntime when it is installed (`default_options`): it
measured faster end to end than the compiled graph for RLE and as fast for HRNet, with a much shorter warm-up per input
size (numbers in ``docs/performance.md``).

Inductor ``freezing=True`` turns the weights into constants of the graph, so that Inductor folds every BatchNorm
into its convolution and hands oneDNN pre-packed (blocked-layout) weights: this is the "oneDNN weight prepacking" lever,
done by the compiler rather than by `torch.jit.freeze` or IPEX.

Why chunks: on a CPU the per-image cost of a ResNet-50 forward grows with the batch (its activations at batch 1,
about 3 MB per 256x192 feature map, stay in the L2 cache; at batch 8 they do not), so the crops (and, with the flip
test, their mirror images) are fed to the compiled graph in chunks of ``batch_size`` (default 4, the fastest per image
measured, see ``docs/performance.md``), and the remainder one image at a time. So at most
two graphs are compiled per input size (batch ``batch_size`` and batch 1), however the number of persons changes
(``dynamic=False``).

Bottom-up models take the whole batch at once (``batch_size=None``: with the flip test, the image and its mirror image
in one forward). With onnxruntime one export (dynamic height and width, traced on a small 64x64 example) and one
session serve every input size, a new size costing about what a repeated one does (``docs/performance.md``). With
Inductor they get one graph per input size (the 79 coco-mini val images at 512 come in 12 sizes, 512 x a multiple of
64; `BottomUpPoseImageProcessor`'s opt-in ``pad_size_divisor`` buckets them into fewer); ``max_shapes`` bounds how many
are compiled, later sizes run the eager model (`default_options`).

Numerics: the compiled graph computes the same function in float32 with a different summation order (folded
BatchNorm, blocked convolutions), so outputs move by float32 rounding (measured on the golden RLE / integral chains:
see `tests/test_inference.py` and ``docs/performance.md``), well inside the golden tolerances.

Transposed convolutions (integral and HigherHRNet heads) get their BatchNorm folded by hfpose before compiling (on a
copy of the model), working around an Inductor freezing bug; see `fold_transposed_conv_batchnorm`.

When torch.compile cannot run (no C++ compiler for Inductor, an unsupported platform) the callable falls back to the
eager model, once, with a warning; ``compile=False`` asks for the eager path outright (chunking still applies).

Caveat: freezing copies the weights into the compiled graph. Changing the model's weights afterwards
(``load_state_dict``, training) is not seen by the optimized callable; build a new one.

Source: PyTorch 2 documentation, "TorchInductor CPU backend" (``torch._inductor.config.freezing``) and
``torch.compile``; measured choices in ``docs/performance.md``.
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import dataclass, field

import torch
import torch._inductor.config  # noqa: F401  (the `freezing` switch)

__all__ = [
    "BACKENDS",
    "OptimizedPoseModel",
    "optimize_for_inference",
    "concatenate_outputs",
    "should_optimize",
    "onnxruntime_available",
    "default_options",
    "fold_transposed_conv_batchnorm",
]

# Environment switch read by `should_optimize`: "0" / "false" / "no" / "off" turn the compiled path off (test suites,
# one-shot scripts for which the compile warm-up would not pay off).
OPTIMIZE_ENV = "HFPOSE_OPTIMIZE"


BACKENDS = ("inductor", "onnxruntime")


def onnxruntime_available() -> bool:
    """Whether the ``onnxruntime`` backend can run (``onnx`` and ``onnxruntime`` importable; both are hfpose
    dependencies)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


# `pose_family` values (a class attribute of every hfpose config, see `hfpose.models.pose_method`) whose pipeline
# default is the compiled path: regression (one fixed input size) and bottom-up (one graph per input size, bounded by
# ``max_shapes``). Read from the config, not from the method index, so that this module travels alone in remote code.
TOP_DOWN_OPTIMIZED_FAMILY = "regression"
BOTTOM_UP_OPTIMIZED_FAMILY = "bottom-up"
# Integral models (IPR, DSNT, Debias-IPR): onnxruntime only (the frozen Inductor graph moves them past the golden
# tolerances, onnxruntime does not; docs/performance.md).
INTEGRAL_FAMILY = "integral"


def _family(model) -> str | None:
    return getattr(getattr(model, "config", None), "pose_family", None)


def _setting() -> str:
    import os

    return os.environ.get(OPTIMIZE_ENV, "1").strip().lower()


_INDUCTOR_SETTINGS = ("all", "inductor")
# Side of the example image the bottom-up ONNX export traces (the network's total stride, 32, times 2).
_EXPORT_SIDE = 64


def should_optimize(model, device=None) -> bool:
    """Whether a pipeline should run ``model`` through `optimize_for_inference` by default (with `default_options`).

    ``$HFPOSE_OPTIMIZE``: ``1`` (default), ``inductor`` (alias ``all``), ``onnxruntime``, or ``0``/``false``/``no``/
    ``off`` (nothing). Only on CPU, and only for float32 weights (a model loaded with ``dtype=torch.bfloat16`` runs
    eagerly: the onnxruntime export and the frozen Inductor graph are float32 paths).
    - The regression family (``config.pose_family == "regression"``: RLE, DeepPose): always (unless off). Default
      backend onnxruntime when it is installed (`onnxruntime_available`; faster end to end than the compiled graph,
      with a shorter warm-up), else Inductor; both keep the golden results.
    - The bottom-up family (HRNet / HigherHRNet associative embedding): with onnxruntime installed, onnxruntime (one
      export with dynamic height and width serves every input size); with ``inductor``/``all``, Inductor (a long
      compile per input size, worth it only for many images of that size); without onnxruntime and by default, eager.
      Outputs stay within the bottomup029 tolerances.
    - The integral family (IPR, DSNT, Debias-IPR): onnxruntime when it is installed (unless ``inductor``/``all``), else
      eager; never Inductor: its softmax (``beta`` up to 10) amplifies the float32 reordering of the frozen graph past
      the golden tolerances (and compiling without freezing, which stays within them, is not faster), while the
      onnxruntime graph stays within them (IPR / DSNT / Debias-IPR golden chains, ``tests/test_inference.py``) at
      about half the eager time per crop.
    Measurements: ``docs/performance.md``.
    """
    setting = _setting()
    if setting in ("0", "false", "no", "off"):
        return False
    device = torch.device("cpu") if device is None else torch.device(device)
    if device.type != "cpu":
        return False
    parameter = next(model.parameters(), None) if isinstance(model, torch.nn.Module) else None
    if isinstance(model, torch.nn.Module) and parameter is None:
        return False  # no weights: already a runtime (`hfpose.onnx.OnnxPoseModel`), nothing to compile or export
    if parameter is not None and parameter.dtype != torch.float32:
        return False  # lower precision is opt-in and eager: the ONNX / frozen-graph paths are float32 only
    family = _family(model)
    if family == TOP_DOWN_OPTIMIZED_FAMILY:
        return setting != "onnxruntime" or onnxruntime_available()
    if family == BOTTOM_UP_OPTIMIZED_FAMILY:
        return setting in _INDUCTOR_SETTINGS or onnxruntime_available()
    if family == INTEGRAL_FAMILY:
        return setting not in _INDUCTOR_SETTINGS and onnxruntime_available()
    return False


def default_options(model) -> dict:
    """`optimize_for_inference` keyword arguments that measured fastest for ``model`` (``docs/performance.md``).

    Backend: onnxruntime when installed, unless ``$HFPOSE_OPTIMIZE`` is ``inductor``/``all`` (then, or without
    onnxruntime, Inductor). Top-down: chunks of 4 crops. Bottom-up: the whole batch (one image and its mirror image with
    the flip test) in one forward (``batch_size=None``); onnxruntime serves every input size with one export and one
    session per thread count; with Inductor at most 8 compiled input sizes per model (images of a ninth size and later
    run eagerly; the processor's ``pad_size_divisor`` reduces the number of sizes, at a cost in faithfulness).
    Integral models: onnxruntime, in chunks of 4 crops (their only optimized backend, see `should_optimize`).
    """
    if _family(model) == INTEGRAL_FAMILY:
        return {"backend": "onnxruntime"}
    runtime = _setting() not in _INDUCTOR_SETTINGS and onnxruntime_available()
    if _family(model) == BOTTOM_UP_OPTIMIZED_FAMILY:
        return {"batch_size": None, "backend": "onnxruntime"} if runtime else {"batch_size": None, "max_shapes": 8}
    return {"backend": "onnxruntime"} if runtime else {}


def concatenate_outputs(outputs: list):
    """Join model outputs of consecutive batch chunks along the batch axis.

    Args:
        outputs: non-empty list of `ModelOutput`s (or dicts) of the same class; tensor fields of shape ``(b_i, ...)``
            and tuples of such tensors (e.g. multi-resolution heatmaps) are concatenated; other fields are taken from
            the first chunk.

    Returns:
        One output of the same class with batch ``sum(b_i)``.
    """
    if len(outputs) == 1:
        return outputs[0]
    first = outputs[0]
    joined = {}
    for key, value in first.items():
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            joined[key] = torch.cat([out[key] for out in outputs])
        elif isinstance(value, tuple) and value and all(isinstance(v, torch.Tensor) for v in value):
            joined[key] = tuple(torch.cat([out[key][i] for out in outputs]) for i in range(len(value)))
        else:
            joined[key] = value
    return type(first)(**joined)


def _transposed_conv_batchnorm_pairs(model):
    """``(sequential, index)`` for every ``ConvTranspose2d`` directly followed by an eval ``BatchNorm2d``."""
    pairs = []
    for module in model.modules():
        if isinstance(module, torch.nn.Sequential):
            children = list(module)
            for index in range(len(children) - 1):
                if isinstance(children[index], torch.nn.ConvTranspose2d) and isinstance(
                    children[index + 1], torch.nn.BatchNorm2d
                ):
                    pairs.append((module, index))
    return pairs


def _has_transposed_conv_batchnorm(model) -> bool:
    return bool(_transposed_conv_batchnorm_pairs(model))


def fold_transposed_conv_batchnorm(model):
    """Fold every ``ConvTranspose2d -> BatchNorm2d`` pair of ``model`` (in place, eval statistics) into one
    ``ConvTranspose2d`` with bias; the BatchNorm becomes ``Identity``. Returns ``model``.

    Why: Inductor's freezing pass (torch 2.13, ``fx_passes/binary_folding.py``, ``_create_new_conv_node``) folds the
    BatchNorm's per-channel multiply into a convolution's weight along dimension 0. That is the output-channel axis of
    a ``Conv2d`` weight ``(out, in, kh, kw)`` but the *input*-channel axis of a ``ConvTranspose2d`` weight
    ``(in, out, kh, kw)``; when both have the same size (256 -> 256 deconvolutions of the integral and HigherHRNet
    heads) the check passes and the result is wrong (IPR logits off by up to 9 on the golden weights). Folding the
    BatchNorm ourselves, with `torch.nn.utils.fusion.fuse_conv_bn_eval(transpose=True)`, leaves nothing for that pass.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for sequential, index in _transposed_conv_batchnorm_pairs(model):
        conv, norm = sequential[index], sequential[index + 1]
        sequential[index] = fuse_conv_bn_eval(conv.eval(), norm.eval(), transpose=True)
        sequential[index + 1] = torch.nn.Identity()
    return model


@dataclass
class _Stats:
    compile_seconds: float = 0.0  # wall time of first calls (graph capture + Inductor codegen), per shape
    compiled_shapes: list = field(default_factory=list)
    eager_calls: int = 0  # forwards run eagerly because ``max_shapes`` graphs were already compiled


class OptimizedPoseModel:
    """Callable ``(pixel_values) -> model output`` built by `optimize_for_inference`.

    Attributes that the pipeline reads (``config``, ``dtype``, ``device``, ``can_generate`` ...) are looked up on the
    wrapped model, so an instance can stand in for it (``pipeline.model = optimize_for_inference(pipeline.model)``).

    Args:
        model: an hfpose model (`PreTrainedModel`) in eval mode.
        compile: compile with TorchInductor (``True``) or run eagerly in chunks (``False``).
        batch_size: images per forward (the remainder runs one by one); ``None`` runs the whole batch at once.
        channels_last: convert weights and inputs to channels-last memory format.
        freezing: Inductor ``freezing`` (constant weights, folded BatchNorm, oneDNN weight pre-packing).
        mode: `torch.compile` mode (``None``, ``"max-autotune-no-cudagraphs"`` ...).
        max_shapes: at most this many input shapes get a compiled graph (each costs a compile, 10-60 s, and memory);
            calls with another shape after that run the eager model. ``None``: no bound (Dynamo's own recompile limit
            still applies). Inductor only.
        backend: ``"inductor"`` (``torch.compile``) or ``"onnxruntime"``: the network exported once to an in-memory
            ONNX graph (`hfpose.onnx.export_network`; dynamic batch, and for bottom-up models dynamic height and
            width, so one export serves every input size) run by an onnxruntime CPU session; its export + session
            time is counted in ``stats.compile_seconds``. Threads follow torch's setting *at call time*: every call
            runs on a session with ``intra_op_num_threads = torch.get_num_threads()`` (onnxruntime fixes the thread
            count per session, so one session is built lazily per thread count from the same export and kept), so a
            later ``torch.set_num_threads(n)`` reaches the onnxruntime forward as it reaches the eager one.

    Raises:
        ValueError: bad ``batch_size``, ``max_shapes`` or ``backend``.
        ImportError: ``backend="onnxruntime"`` without onnx / onnxruntime installed.
    """

    def __init__(
        self,
        model,
        compile: bool = True,
        batch_size: int | None = 4,
        channels_last: bool = False,
        freezing: bool = True,
        mode: str | None = None,
        max_shapes: int | None = 8,
        backend: str = "inductor",
    ):
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None; got {batch_size!r}")
        if max_shapes is not None and (not isinstance(max_shapes, int) or max_shapes < 1):
            raise ValueError(f"max_shapes must be a positive int or None; got {max_shapes!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
        if backend == "onnxruntime" and not onnxruntime_available():
            raise ImportError("backend='onnxruntime' needs onnx and onnxruntime: pip install onnx onnxruntime")
        self.backend = backend
        self._export = None  # onnxruntime: (ONNX bytes, output names, output class), exported on the first call
        self._sessions = {}  # onnxruntime: one session per `torch.get_num_threads()` value seen at call time
        self.max_shapes = max_shapes
        self.model = model.eval()
        self.batch_size = batch_size
        self.channels_last = bool(channels_last)
        self.compile = bool(compile)
        self.freezing = bool(freezing)
        self.mode = mode
        self.stats = _Stats()
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self._forward = self.model
        if self.compile and self.backend == "inductor":
            target = self.model
            if self.freezing and _has_transposed_conv_batchnorm(self.model):
                target = fold_transposed_conv_batchnorm(copy.deepcopy(self.model))
            self._forward = torch.compile(target, mode=mode, dynamic=False)

    def __getattr__(self, name):
        # Only called for attributes not found on the wrapper: delegate to the wrapped model.
        if name in ("model", "_forward"):
            raise AttributeError(name)
        return getattr(self.model, name)

    def eval(self) -> OptimizedPoseModel:
        """Already in eval mode; returns the wrapper itself (so ``model.eval()`` chains keep the fast path)."""
        self.model.eval()
        return self

    def _compiled(self, pixel_values: torch.Tensor):
        # Every call runs under the compile settings, so that any (re)compilation Dynamo decides on is frozen too
        # (a recompile outside this patch would silently produce an unfrozen graph, about 1.2x slower); Dynamo's
        # recompile limit (8 graphs per code object by default) is raised to cover `max_shapes`.
        limit = max(torch._dynamo.config.recompile_limit, 2 * (self.max_shapes or 0) + 2)
        with torch._inductor.config.patch(freezing=self.freezing), torch._dynamo.config.patch(recompile_limit=limit):
            return self._forward(pixel_values=pixel_values)

    def _export_network(self, example: torch.Tensor) -> None:
        import io

        from .onnx_export import export_network

        start = time.perf_counter()
        buffer = io.BytesIO()
        if _family(self.model) == BOTTOM_UP_OPTIMIZED_FAMILY and min(example.shape[-2:]) >= _EXPORT_SIDE:
            # The export traces the network twice (a reference forward and the trace); its graph has dynamic batch,
            # height and width, so a small example gives the same graph: one 64x64 image exports HRNet-w32 in about
            # a third of the time of the 2 x 512x704 flip batch (3.7 s vs 11 s, outputs identical; docs/performance.md).
            example = example[:1, :, :_EXPORT_SIDE, :_EXPORT_SIDE]
        names, output_class = export_network(self.model, example.clone(), buffer)
        self._export = (buffer.getvalue(), names, output_class)
        self._build_session(torch.get_num_threads())
        self.stats.compile_seconds += time.perf_counter() - start

    def _build_session(self, num_threads: int):
        """The onnxruntime CPU session of the export with ``num_threads`` intra-op threads (built once, then kept)."""
        import onnxruntime

        if num_threads not in self._sessions:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = int(num_threads)
            options.inter_op_num_threads = 1
            # No busy-waiting between operators: on a shared machine a spinning thread steals the other's core (the
            # onnxruntime counterpart of OMP_WAIT_POLICY=PASSIVE).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[num_threads] = onnxruntime.InferenceSession(
                self._export[0], options, providers=["CPUExecutionProvider"]
            )
        return self._sessions[num_threads]

    def _onnxruntime(self, pixel_values: torch.Tensor):
        from .onnx_export import unflatten_outputs

        _, names, output_class = self._export
        num_threads = torch.get_num_threads()
        if num_threads not in self._sessions:  # a thread count not seen yet: one more session (counted as warm-up)
            start = time.perf_counter()
            self._build_session(num_threads)
            self.stats.compile_seconds += time.perf_counter() - start
        session = self._sessions[num_threads]
        shape = tuple(pixel_values.shape)
        if shape not in self.stats.compiled_shapes:
            self.stats.compiled_shapes.append(shape)
        values = session.run(names, {"pixel_values": pixel_values.detach().contiguous().numpy()})
        return unflatten_outputs(output_class, names, [torch.from_numpy(value) for value in values])

    def _run(self, pixel_values: torch.Tensor):
        if self.channels_last:
            pixel_values = pixel_values.contiguous(memory_format=torch.channels_last)
        if not self.compile:
            return self._forward(pixel_values=pixel_values)
        if self.backend == "onnxruntime":
            if self._export is None:
                try:
                    self._export_network(pixel_values)
                except Exception as error:  # noqa: BLE001 - export or session failure: fall back to eager once
                    warnings.warn(
                        f"ONNX export / onnxruntime failed ({type(error).__name__}: {error}); running the eager model",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    self.compile = False
                    return self.model(pixel_values=pixel_values)
            return self._onnxruntime(pixel_values)
        shape = tuple(pixel_values.shape)
        if shape in self.stats.compiled_shapes:
            return self._compiled(pixel_values)
        if self.max_shapes is not None and len(self.stats.compiled_shapes) >= self.max_shapes:
            self.stats.eager_calls += 1
            return self.model(pixel_values=pixel_values)
        start = time.perf_counter()
        try:
            output = self._compiled(pixel_values)
        except Exception as error:  # noqa: BLE001 - any compiler failure: fall back to eager once
            warnings.warn(
                f"torch.compile failed ({type(error).__name__}: {error}); running the eager model",
                RuntimeWarning,
                stacklevel=3,
            )
            self.compile = False
            self._forward = self.model
            return self.model(pixel_values=pixel_values)
        self.stats.compile_seconds += time.perf_counter() - start
        self.stats.compiled_shapes.append(shape)
        return output

    def __call__(self, pixel_values: torch.Tensor | None = None, **kwargs):
        """Run the model on ``pixel_values`` ``(B, 3, H, W)`` without gradients.

        Returns:
            The wrapped model's output (same class) for the B images, in order.

        Raises:
            ValueError: if ``pixel_values`` is missing or not 4-D, or other model inputs (labels ...) are given: the
                optimized callable is for inference only.
        """
        if kwargs:
            raise ValueError(f"OptimizedPoseModel takes only pixel_values; got {sorted(kwargs)}")
        if pixel_values is None or pixel_values.ndim != 4:
            raise ValueError("pixel_values must be a (B, 3, H, W) tensor")
        with torch.inference_mode():
            if self.compile and self.backend == "inductor" and not pixel_values.is_inference():
                # Dynamo guards on inference-ness: a tensor made outside inference mode and one made inside (the
                # pipeline's flip batch) would need two graphs of the same shape. One copy keeps them on one graph.
                pixel_values = pixel_values.clone()
            size = pixel_values.shape[0]
            step = size if self.batch_size is None else self.batch_size
            if size == step or (self.batch_size is None):
                return self._run(pixel_values)
            # Full chunks of `batch_size`, then the remainder one image at a time: two graph shapes at most (the
            # onnxruntime graph has a dynamic batch axis: the remainder goes in one chunk).
            full = size - size % step
            if self.backend == "onnxruntime":
                rest = [(full, size - full)] if size > full else []
            else:
                rest = [(i, 1) for i in range(full, size)]
            starts = [(i, step) for i in range(0, full, step)] + rest
            return concatenate_outputs([self._run(pixel_values[i : i + n]) for i, n in starts])

    def __repr__(self) -> str:
        return (
            f"OptimizedPoseModel({type(self.model).__name__}, backend={self.backend!r}, compile={self.compile}, "
            f"freezing={self.freezing}, "
            f"batch_size={self.batch_size}, channels_last={self.channels_last}, mode={self.mode!r})"
        )


def optimize_for_inference(
    model,
    compile: bool = True,
    batch_size: int | None = 4,
    channels_last: bool = False,
    freezing: bool = True,
    mode: str | None = None,
    max_shapes: int | None = 8,
    backend: str = "inductor",
) -> OptimizedPoseModel:
    """The fastest CPU inference path measured on this project's reference machine (see ``docs/performance.md``).

    Defaults: ``torch.compile`` (Inductor, ``dynamic=False``) with ``freezing=True``, chunks of 4 images per forward
    (remainder 1 by 1), NCHW memory format (channels-last measured no faster). The first call per input shape compiles
    (10-60 s on 1 core; Inductor's on-disk cache makes later processes faster); later calls reuse the graph.

    Args:
        model: hfpose model (top-down or bottom-up) on CPU.
        compile, batch_size, channels_last, freezing, mode, max_shapes: see `OptimizedPoseModel`; pipelines use
            `default_options` (``batch_size=None`` for bottom-up models).

    Returns:
        `OptimizedPoseModel`, a callable ``(pixel_values) -> output`` standing in for ``model``.

    Example:

    ```python
    >>> fast = optimize_for_inference(model)
    >>> outputs = fast(pixel_values)  # same class and fields as model(pixel_values)
    >>> fast.stats.compile_seconds  # one-off warm-up, report it separately
    ```

    An `OptimizedPoseModel` passed in is returned unchanged: wrapping it again would compile the wrapper around the
    compiled graph, which measured slower (``docs/performance.md``).
    """
    if isinstance(model, OptimizedPoseModel):
        return model
    return OptimizedPoseModel(
        model,
        compile=compile,
        batch_size=batch_size,
        channels_last=channels_last,
        freezing=freezing,
        mode=mode,
        max_shapes=max_shapes,
        backend=backend,
    )
