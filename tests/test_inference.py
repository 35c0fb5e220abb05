"""`hfpose.inference.optimize_for_inference`: same outputs as the eager model (tiny models, fast) and, on the golden
chains (slow), MMPose's results within the golden README tolerances with the compiled + frozen forward.
"""

import warnings

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForPoseEstimation

import hfpose  # noqa: F401
from hfpose.image_processing_topdown import TopDownPoseImageProcessor
from hfpose.inference import OptimizedPoseModel, concatenate_outputs, optimize_for_inference
from hfpose.pipelines.keypoint_detection import KeypointDetectionPipeline


def _tiny(method="rle"):
    """A random-weight tiny model (ResNet widths 8-32, input 48x64 for regression, 64x64 for integral)."""
    from transformers import ResNetConfig

    torch.manual_seed(0)
    backbone = ResNetConfig(
        embedding_size=8,
        hidden_sizes=[8, 16, 24, 32],
        depths=[1, 1, 1, 1],
        layer_type="bottleneck",
        out_features=["stage4"],
    )
    input_size = [48, 64] if method in ("rle", "deeppose") else [64, 64]
    config = AutoConfig.for_model(f"hfpose_{method}", backbone_config=backbone.to_dict(), input_size=input_size)
    return AutoModelForPoseEstimation.from_config(config).eval()


def _inputs(batch, height=64, width=48, seed=0):
    return torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_eager_chunks_equal_the_full_batch_exactly():
    model = _tiny()
    x = _inputs(5)
    with torch.inference_mode():
        reference = model(pixel_values=x)
    for batch_size in (1, 2, None):
        out = optimize_for_inference(model, compile=False, batch_size=batch_size)(x)
        assert type(out) is type(reference)
        for key, value in reference.items():
            if isinstance(value, torch.Tensor):
                torch.testing.assert_close(out[key], value, rtol=0, atol=1e-6)


def test_concatenate_outputs_handles_tuples():
    from dataclasses import dataclass

    from transformers.utils import ModelOutput

    @dataclass
    class Out(ModelOutput):
        heatmaps: tuple | None = None
        tags: torch.Tensor | None = None

    parts = [
        Out(heatmaps=(torch.full((1, 2), float(i)), torch.full((1, 3), float(i))), tags=torch.full((1,), float(i)))
        for i in range(3)
    ]
    joined = concatenate_outputs(parts)
    assert joined.tags.tolist() == [0.0, 1.0, 2.0]
    assert joined.heatmaps[1].shape == (3, 3) and joined.heatmaps[0][:, 0].tolist() == [0.0, 1.0, 2.0]


def test_bad_arguments():
    model = _tiny()
    with pytest.raises(ValueError, match="batch_size"):
        optimize_for_inference(model, compile=False, batch_size=0)
    fast = optimize_for_inference(model, compile=False)
    with pytest.raises(ValueError, match="pixel_values"):
        fast(torch.zeros(3, 64, 48))
    with pytest.raises(ValueError, match="labels"):
        fast(_inputs(1), labels=torch.zeros(1, 17, 2))


def test_falls_back_to_eager_when_compile_fails(monkeypatch):
    model = _tiny()
    fast = OptimizedPoseModel(model, compile=True)

    def broken(*args, **kwargs):
        raise RuntimeError("no compiler")

    fast._forward = broken
    x = _inputs(2)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        out = fast(x)
    assert fast.compile is False
    with torch.inference_mode():
        torch.testing.assert_close(out.keypoints, model(pixel_values=x).keypoints)


def test_compiled_tiny_model_matches_eager_and_stands_in_for_the_pipeline_model(data_dir):
    model = _tiny()
    fast = optimize_for_inference(model)  # compile + freezing, chunks of 4, remainder 1 by 1
    x = _inputs(3)
    with torch.inference_mode():
        reference = model(pixel_values=x)
    out = fast(x)
    assert fast.stats.compiled_shapes == [(1, 3, 64, 48)] and fast.stats.compile_seconds > 0
    torch.testing.assert_close(out.keypoints, reference.keypoints, rtol=0, atol=1e-5)
    torch.testing.assert_close(out.sigma, reference.sigma, rtol=0, atol=1e-5)
    # Drop-in for the pipeline (it reads .config / .dtype / .device through the wrapper).
    processor = TopDownPoseImageProcessor(size={"height": 64, "width": 48}, flip_indices=model.config.flip_indices)
    image = str(data_dir / "coco-mini" / "val2017" / "000000000139.jpg")
    boxes = [[100.0, 100.0, 80.0, 160.0], [300.0, 150.0, 60.0, 120.0]]
    eager = KeypointDetectionPipeline(model=model, image_processor=processor)(image, boxes=boxes)
    pipe = KeypointDetectionPipeline(model=model, image_processor=processor)
    pipe.model = fast
    optimized = pipe(image, boxes=boxes)
    a = np.array([[k["x"], k["y"], k["score"]] for p in eager for k in p["keypoints"]])
    b = np.array([[k["x"], k["y"], k["score"]] for p in optimized for k in p["keypoints"]])
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-3)
    # 2 persons + flips = one chunk of 4; then 3 persons + flips = 4 + 1 + 1: no third graph.
    pipe(image, boxes=boxes + [[200.0, 120.0, 50.0, 100.0]])
    assert fast.stats.compiled_shapes == [(1, 3, 64, 48), (4, 3, 64, 48)]


_FROZEN_INTEGRAL = pytest.mark.xfail(
    reason="frozen graph: IPR flipped raw outputs 1.07e-4 > 1e-4 and keypoints 0.024 > 0.02 px; integral models "
    "therefore never take the Inductor path (hfpose.inference.should_optimize)",
    strict=False,
)


@pytest.mark.slow
@pytest.mark.golden
@pytest.mark.parametrize(
    ("fixture", "backend"),
    [(fixture, backend) for fixture in ("rle", "deeppose") for backend in ("inductor", "onnxruntime")]
    + [pytest.param("ipr", "inductor", marks=_FROZEN_INTEGRAL)]
    # the integral models' pipeline default: onnxruntime (head outputs, heatmaps and keypoints within the bounds
    # measured across CPU kernels and threads for eager, test_end_to_end_golden.MEASURED)
    + [(fixture, "onnxruntime") for fixture in ("ipr", "dsnt", "debias")],
)
def test_optimized_forward_keeps_golden_results(fixture, golden_dir, coco_mini, tmp_path, monkeypatch, backend):
    """The golden image → keypoints chain of tests/test_end_to_end_golden.py with the compiled + frozen forward."""
    import test_end_to_end_golden as chain

    backbone_state = torch.load(
        golden_dir / "models" / "resnet50_backbone_mmpose.pth", map_location="cpu", weights_only=True
    )["state_dict"]
    original = AutoModelForPoseEstimation.from_pretrained

    built = []

    def from_pretrained(*args, **kwargs):
        built.append(optimize_for_inference(original(*args, **kwargs), backend=backend))
        return built[-1]

    monkeypatch.setattr(chain.AutoModelForPoseEstimation, "from_pretrained", from_pretrained)
    monkeypatch.setattr(chain, "_MODELS", {})  # load (and optimize) afresh, not the eager models of earlier tests
    # MMPose's own network input (portable: no dependence on the fixtures' OpenCV pixels)
    golden, inputs, raw, heatmaps, predicted, scores = chain._run_chain(
        fixture, golden_dir, coco_mini, backbone_state, tmp_path, "mmpose_inputs"
    )
    assert built and built[0].compile and built[0].stats.compiled_shapes, "the chain ran the compiled forward"
    tolerance = chain.MEASURED[fixture]
    count = golden["inputs"].shape[0]
    np.testing.assert_allclose(raw[:count], golden["head_out"], atol=tolerance["head_out"])
    np.testing.assert_allclose(raw[count:], golden["head_out_flip"], atol=tolerance["head_out"])
    if heatmaps is not None:
        np.testing.assert_allclose(heatmaps[:count], golden["head_heatmaps"], atol=tolerance["heatmaps"])
    np.testing.assert_allclose(predicted, golden["keypoints"], atol=tolerance["keypoints"])
    np.testing.assert_allclose(scores, golden["keypoint_scores"], atol=1e-4)
    errors = {
        "keypoints_px": float(np.abs(predicted - golden["keypoints"]).max()),
        "head_out": float(np.abs(raw[:count] - golden["head_out"]).max()),
    }
    warnings.warn(f"{fixture} optimized vs golden: {errors}", stacklevel=1)


def test_should_optimize_top_down_on_cpu_only(monkeypatch):
    from hfpose import inference
    from hfpose.inference import should_optimize

    model = _tiny()
    monkeypatch.delenv("HFPOSE_OPTIMIZE", raising=False)
    assert should_optimize(model) and should_optimize(model, "cpu")
    assert not should_optimize(model, "meta")
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "0")
    assert not should_optimize(model)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    bottom_up = AutoModelForPoseEstimation.from_config(AutoConfig.for_model("hfpose_ae_hrnet"))
    assert should_optimize(bottom_up)  # onnxruntime (a dependency): one export for every input size
    assert should_optimize(_tiny("ipr"))  # integral models: onnxruntime (within the golden tolerances)
    for setting in ("all", "inductor"):
        monkeypatch.setenv("HFPOSE_OPTIMIZE", setting)
        assert not should_optimize(_tiny("ipr"))  # never the frozen Inductor graph (past the golden tolerances)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    monkeypatch.setattr(inference, "onnxruntime_available", lambda: False)
    assert not should_optimize(_tiny("ipr"))  # without onnxruntime: eager
    assert not should_optimize(bottom_up)  # without it: 33-45 s of Inductor compile per input size, opt-in
    assert should_optimize(model)  # Inductor
    for setting in ("all", "inductor"):
        monkeypatch.setenv("HFPOSE_OPTIMIZE", setting)
        assert should_optimize(bottom_up)  # one graph per input size, bounded (default_options)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "onnxruntime")
    assert not should_optimize(model)  # asked for onnxruntime, which is missing: eager


def test_default_options_per_family(monkeypatch):
    from hfpose import inference
    from hfpose.inference import default_options

    monkeypatch.delenv("HFPOSE_OPTIMIZE", raising=False)
    bottom_up = AutoModelForPoseEstimation.from_config(AutoConfig.for_model("hfpose_ae_hrnet"))
    assert default_options(_tiny()) == {"backend": "onnxruntime"}
    assert default_options(bottom_up) == {"batch_size": None, "backend": "onnxruntime"}
    assert default_options(_tiny("ipr")) == {"backend": "onnxruntime"}
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "inductor")
    assert default_options(_tiny()) == {}
    assert default_options(bottom_up) == {"batch_size": None, "max_shapes": 8}
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    monkeypatch.setattr(inference, "onnxruntime_available", lambda: False)
    assert default_options(_tiny()) == {}
    assert default_options(bottom_up) == {"batch_size": None, "max_shapes": 8}
    with pytest.raises(ImportError, match="pip install onnx onnxruntime"):
        optimize_for_inference(_tiny(), backend="onnxruntime")
    with pytest.raises(ValueError, match="backend must be one of"):
        optimize_for_inference(_tiny(), backend="tensorrt")


def test_onnxruntime_failure_falls_back_to_eager(monkeypatch):
    from hfpose import onnx_export

    def broken(*args, **kwargs):
        raise RuntimeError("exporter unavailable")

    monkeypatch.setattr(onnx_export, "export_network", broken)
    model = _tiny()
    fast = optimize_for_inference(model, backend="onnxruntime")
    pixel_values = _inputs(2)
    with pytest.warns(RuntimeWarning, match="exporter unavailable"):
        got = fast(pixel_values)
    with torch.inference_mode():
        expected = model(pixel_values=pixel_values)
    torch.testing.assert_close(got.keypoints, expected.keypoints, atol=0, rtol=0)
    assert fast.compile is False


@pytest.mark.parametrize("method", ["ipr", "dsnt", "debias_ipr"])
def test_integral_models_take_onnxruntime_and_match_eager(method, monkeypatch):
    """The integral family's default path (`should_optimize` + `default_options`: onnxruntime in chunks of 4): same
    output class, keypoints and heatmaps within float32 reordering of eager, at full chunks and a remainder."""
    from hfpose.inference import default_options, should_optimize

    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    model = _tiny(method)
    assert should_optimize(model)
    fast = optimize_for_inference(model, **default_options(model))
    assert fast.backend == "onnxruntime" and fast.batch_size == 4
    for batch in (2, 6):
        pixel_values = _inputs(batch, height=64, width=64, seed=batch)
        with torch.inference_mode():
            expected = model(pixel_values=pixel_values)
        got = fast(pixel_values)
        assert type(got) is type(expected)
        torch.testing.assert_close(got.keypoints, expected.keypoints, atol=1e-5, rtol=0)
        torch.testing.assert_close(got.heatmaps, expected.heatmaps, atol=1e-6, rtol=1e-4)
    assert fast.stats.compiled_shapes == [(2, 3, 64, 64), (4, 3, 64, 64)]


@pytest.mark.parametrize("method", ["rle", "deeppose"])
def test_onnxruntime_backend_matches_eager_at_any_batch(method):
    """One in-memory export serves every batch: full chunks of 4 and a remainder chunk, outputs within 1e-5 of eager,
    same output class and fields."""
    model = _tiny(method)
    fast = optimize_for_inference(model, backend="onnxruntime")
    for batch in (1, 4, 7):
        pixel_values = _inputs(batch, seed=batch)
        with torch.inference_mode():
            expected = model(pixel_values=pixel_values)
        got = fast(pixel_values)
        assert type(got) is type(expected)
        for name in ("keypoints", "scores") + (("sigma",) if method == "rle" else ()):
            torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=0)
    assert fast.stats.compiled_shapes == [(1, 3, 64, 48), (4, 3, 64, 48), (3, 3, 64, 48)]
    assert fast.stats.compile_seconds > 0 and fast._export is not None


def test_onnxruntime_threads_follow_torch_at_call_time(monkeypatch):
    """A wrapper built (and first called) under 2 torch threads, then called under 1, runs its second forward on an
    onnxruntime session with 1 intra-op thread (read from the session that ran), and back under 2 reuses the first
    session; outputs agree with eager under both."""
    import onnxruntime

    ran = []
    original_run = onnxruntime.InferenceSession.run

    def recording_run(self, *args, **kwargs):
        ran.append((id(self), self.get_session_options().intra_op_num_threads))
        return original_run(self, *args, **kwargs)

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", recording_run)
    model = _tiny()
    pixel_values = _inputs(2)
    with torch.inference_mode():
        expected = model(pixel_values=pixel_values)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        fast = optimize_for_inference(model, backend="onnxruntime")
        outputs = [fast(pixel_values)]
        torch.set_num_threads(1)
        outputs.append(fast(pixel_values))
        torch.set_num_threads(2)
        outputs.append(fast(pixel_values))
    finally:
        torch.set_num_threads(previous)
    assert [threads for _, threads in ran] == [2, 1, 2]
    assert ran[0][0] == ran[2][0] != ran[1][0]  # one session per thread count, kept
    assert sorted(fast._sessions) == [1, 2]
    for got in outputs:
        torch.testing.assert_close(got.keypoints, expected.keypoints, atol=1e-5, rtol=0)


def test_onnxruntime_backend_serves_every_bottom_up_size_with_one_export():
    from hfpose.models.hrnet import HRNetConfig

    torch.manual_seed(0)
    backbone = HRNetConfig(
        stem_channels=8,
        stage1_channels=4,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 16, 32],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )
    model = AutoModelForPoseEstimation.from_config(
        AutoConfig.for_model("hfpose_ae_higherhrnet", backbone_config=backbone)
    ).eval()
    fast = optimize_for_inference(model, batch_size=None, backend="onnxruntime")
    session = None
    for shape in [(2, 3, 128, 192), (2, 3, 160, 128), (1, 3, 96, 96)]:
        pixel_values = torch.randn(shape)
        with torch.inference_mode():
            expected = model(pixel_values=pixel_values)
        got = fast(pixel_values)
        session = session or fast._export[0]
        assert fast._export[0] is session and len(fast._sessions) == 1  # exported once, one session
        assert type(got) is type(expected) and len(got.heatmaps) == 2
        for ours, theirs in zip(got.heatmaps + (got.tags,), expected.heatmaps + (expected.tags,)):
            torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_optimize_is_idempotent_and_the_pipeline_never_wraps_twice(monkeypatch):
    """Wrapping an `OptimizedPoseModel` again compiled the wrapper around the compiled graph (1.52 F instead of
    1.24 F per person end to end): both entry points must hand the same object back."""
    model = _tiny()
    fast = optimize_for_inference(model, compile=False)
    assert optimize_for_inference(fast) is fast
    processor = TopDownPoseImageProcessor(size={"height": 64, "width": 48}, flip_indices=model.config.flip_indices)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    pipe = KeypointDetectionPipeline(model=model, image_processor=processor)
    pipe.model = fast
    assert pipe.forward_model is fast
    pipe.model = model  # replacing the model rebuilds the forward (here eager, optimization switched off)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "0")
    assert pipe.forward_model is model


def test_inference_tensors_and_normal_tensors_share_one_frozen_graph():
    """The pipeline's flip batch is built inside inference mode, the benchmark's warm-up input outside: Dynamo guards on
    that, and its silent recompile ran outside the freezing patch (unfrozen graph, 1.44 F instead of 1.18 F per
    person). Both must hit the one graph compiled for the shape."""
    from torch._dynamo.utils import counters

    model = _tiny()
    fast = optimize_for_inference(model, batch_size=None)
    x = _inputs(2)
    fast(x)
    graphs = counters["stats"]["unique_graphs"]
    with torch.inference_mode():
        flipped = torch.cat([x[:1], x[:1].flip(-1)])
        out = fast(flipped)
        reference = model(pixel_values=flipped)
    assert counters["stats"]["unique_graphs"] == graphs and fast.stats.compiled_shapes == [(2, 3, 64, 48)]
    torch.testing.assert_close(out.keypoints, reference.keypoints, rtol=0, atol=1e-5)


def test_max_shapes_bounds_the_compiled_graphs():
    model = _tiny()
    fast = OptimizedPoseModel(model, compile=True, batch_size=None, max_shapes=1)
    calls = []

    def stand_in(pixel_values):  # stands in for the compiled graph, so the test does not compile
        calls.append(tuple(pixel_values.shape))
        return model(pixel_values=pixel_values)

    fast._forward = stand_in
    fast(_inputs(2))
    fast(_inputs(2, seed=1))
    out = fast(_inputs(3))  # a third batch size: over the bound, eager
    assert calls == [(2, 3, 64, 48), (2, 3, 64, 48)]
    assert fast.stats.compiled_shapes == [(2, 3, 64, 48)] and fast.stats.eager_calls == 1
    with torch.inference_mode():
        torch.testing.assert_close(out.keypoints, model(pixel_values=_inputs(3)).keypoints, rtol=0, atol=0)
    with pytest.raises(ValueError, match="max_shapes"):
        OptimizedPoseModel(model, compile=False, max_shapes=0)


@pytest.fixture
def one_thread():
    """Run at 1 thread, a fixed count whatever earlier tests set (the compiled graph is built for it); the criteria
    below hold under the kernel settings of docs/portability.md (2 threads: eager put 100 % within 1e-3 px)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# Bottom-up people from the network's own maps vs MMPose's (bottomup029/hrnet_w32.npz, img0, 21 people x 17 keypoints).
# MMPose's parser is exact on MMPose's stored maps (checked first). On the network's own maps (within 1e-4 of MMPose's)
# float32 summation order moves ill-conditioned DARK steps and flips near-tie groupings, differently on every kernel
# set. Measured (docs/portability.md; default, ONEDNN_MAX_CPU_ISA=AVX2 / AVX512_CORE, mkldnn off, 1 thread; Inductor
# and onnxruntime): eager, optimized and optimized-vs-eager put 98.3-98.9 % of keypoints within 1e-3 px (AMD Zen 4,
# from the issue: 98.6 % and 99.2 %), and 20 of 21 people within 1 px on average (one person holds a near-tie keypoint
# 342 px away). Bounds: 95 % of keypoints (3x the worst miss rate, 1.7 %) and 90 % of people within 1 px on average
# after matching (the criterion of tests/hub/test_convert_bottomup_pipeline.py).
BOTTOM_UP_WITHIN_1E3_PX = 0.95


def _match_people(found, expected):
    """Hungarian matching on the mean keypoint distance; returns the per-keypoint distances of matched people."""
    from scipy.optimize import linear_sum_assignment

    cost = np.linalg.norm(found[:, None] - expected[None], axis=-1).mean(-1)
    rows, columns = linear_sum_assignment(cost)
    return np.linalg.norm(found[rows] - expected[columns], axis=-1)


def _bottom_up_stored_maps(golden_dir):
    """MMPose's stored parser inputs of img0 as raw (outputs, outputs_flipped) whose aggregation reproduces them:
    flipped = un-flip of the aggregate, so (a + a) / 2 = a; the tags are HigherHRNet's identical low-res planes."""
    from hfpose.keypoints import COCO_KEYPOINTS

    flip = COCO_KEYPOINTS.flip_indices
    heatmaps = torch.from_numpy(np.load(golden_dir / "bottomup029" / "hrnet_w32.npz")["img0_agg_heatmaps"])
    tags = torch.from_numpy(np.load(golden_dir / "bottomup029" / "higherhrnet_w32.npz")["img0_agg_tags_lowres"])

    def unflip(x):
        return x[:, flip].flip(3)

    return (
        {"heatmaps": (heatmaps,), "tags": tags[..., 0]},
        {"heatmaps": (unflip(heatmaps),), "tags": unflip(tags[..., 1])},
    )


@pytest.mark.golden
@pytest.mark.parametrize("backend", ["inductor", "onnxruntime"])
def test_optimized_bottom_up_keeps_golden_results(golden_dir, coco_mini, backend, one_thread):
    """HRNet-w32 AE with the stored random weights (bottomup029): the compiled + frozen network, run as the pipeline
    runs it (image and mirror image in one batch of 2), against MMPose's maps (atol 1e-4 on the sub-sampled maps and
    crops, rtol 1e-4 on channel sums), MMPose's grouping exactly on MMPose's stored maps, and the pipeline's people
    (eager and optimized) against MMPose's and each other's at the bounds above."""
    from hfpose.hub.convert_mmpose import build_bottomup_config, convert_bottomup
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.inference import default_options
    from hfpose.models.associative_embedding import AssociativeEmbeddingForPoseEstimation

    z = np.load(golden_dir / "bottomup029" / "hrnet_w32.npz")
    expected = z["img0_test_gpu_preds"][..., :2]
    processor = BottomUpPoseImageProcessor()
    # 1. Grouping on MMPose's stored maps: same people, same order, preds within the README's 1e-3 image px.
    outputs, outputs_flipped = _bottom_up_stored_maps(golden_dir)
    stored = processor.post_process_pose_estimation(
        outputs,
        base_size=torch.from_numpy(z["img0_base_size"][None]),
        scale=torch.from_numpy(z["img0_scale"][None]),
        outputs_flipped=outputs_flipped,
    )[0]
    assert len(stored) == len(expected)
    assert np.abs(np.stack([person["keypoints"] for person in stored]) - expected).max() <= 1e-3

    checkpoint = torch.load(
        golden_dir / "bottomup029" / "weights" / "hrnet_w32_coco_512x512_udp_random.pth", weights_only=True
    )
    config = build_bottomup_config("ae_hrnet", "w32")
    model = AssociativeEmbeddingForPoseEstimation(config)
    model.load_state_dict(convert_bottomup(checkpoint, config), strict=True)
    model.eval()
    options = {"batch_size": None, "backend": backend}
    assert default_options(model)["batch_size"] is None
    fast = optimize_for_inference(model, **options)
    pixel_values = torch.from_numpy(np.load(golden_dir / "bottomup029" / "resize.npz")["img0_input"])
    out = fast(torch.cat([pixel_values, pixel_values.flip(-1)]))
    assert fast.compile and fast.stats.compiled_shapes == [(2, *pixel_values.shape[1:])]
    errors = {}
    for index, view in enumerate(("orig", "flip")):
        prefix = f"img0_out_{view}"
        full = torch.cat([out.heatmaps[0][index : index + 1], out.tags[index : index + 1]], 1).numpy()
        assert tuple(full.shape) == tuple(z[f"{prefix}_s0_shape"])
        np.testing.assert_allclose(full[..., 1::4, 2::4], z[f"{prefix}_s0_sub4"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(full.astype(np.float64).sum((0, 2, 3)), z[f"{prefix}_s0_channel_sum"], rtol=1e-4)
        errors[view] = float(np.abs(full[..., 1::4, 2::4] - z[f"{prefix}_s0_sub4"]).max())
        if f"{prefix}_s0_crop" in z.files:
            y0, x0 = z[f"{prefix}_s0_crop_yx0"]
            np.testing.assert_allclose(full[..., y0 : y0 + 32, x0 : x0 + 32], z[f"{prefix}_s0_crop"], atol=1e-4, rtol=0)
    # 2. The pipeline on the network's own maps: eager vs compiled (same graph, already compiled) people, and MMPose's.
    image = str(coco_mini / "val2017" / str(z["img0_file_name"]))
    eager = KeypointDetectionPipeline(model=model, image_processor=processor)
    eager._forward_model, eager._forward_model_source = model, model
    compiled = KeypointDetectionPipeline(model=model, image_processor=processor)
    compiled._forward_model, compiled._forward_model_source = fast, model
    people = [np.array([[[k["x"], k["y"]] for k in p["keypoints"]] for p in pipe(image)]) for pipe in (eager, compiled)]
    assert len(fast.stats.compiled_shapes) == 1, "the pipeline reused the compiled graph"
    errors["people"] = [len(found) for found in people]
    assert len(people[0]) == len(people[1]) == len(expected)
    distances = {
        "eager": _match_people(people[0], expected),
        "optimized": _match_people(people[1], expected),
        "optimized_vs_eager": _match_people(people[1], people[0]),
    }
    for name, distance in distances.items():
        errors[f"{name}_within_1e-3px"] = float((distance <= 1e-3).mean())
        errors[f"{name}_people_within_1px"] = float((distance.mean(-1) < 1.0).mean())
    warnings.warn(f"bottom-up optimized vs golden: {errors}", stacklevel=1)  # measured before asserting
    for name, distance in distances.items():
        assert (distance <= 1e-3).mean() >= BOTTOM_UP_WITHIN_1E3_PX, (name, errors)
        assert (distance.mean(-1) < 1.0).mean() >= 0.9, (name, errors)


def test_transposed_conv_batchnorm_folding_is_exact():
    from hfpose.inference import fold_transposed_conv_batchnorm

    torch.manual_seed(0)
    head = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(8, 8, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU()
    )
    head[1].weight.data.uniform_(0.5, 2.0)
    head[1].bias.data.uniform_(-1, 1)
    head[1].running_mean.uniform_(-1, 1)
    head[1].running_var.uniform_(0.5, 2.0)
    head.eval()
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        reference = head(x)
        folded = fold_transposed_conv_batchnorm(head)
        assert isinstance(folded[1], torch.nn.Identity)
        torch.testing.assert_close(folded(x), reference, rtol=1e-5, atol=1e-5)
