"""`hfpose.training.evaluation_loop.predict_bottomup` / `predict_topdown` (what ``hfpose evaluate`` runs): the images
and their mirror images in one forward, through the pipeline's optimized network when `should_optimize` says so."""

import numpy as np
import pytest
import torch

from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
from hfpose.image_processing_topdown import TopDownPoseImageProcessor
from hfpose.inference import OptimizedPoseModel
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from hfpose.models.hrnet import HRNetConfig
from hfpose.training.evaluation_loop import (
    _slice_outputs,
    coco_eval_images,
    coco_images,
    evaluation_forward,
    predict_bottomup,
    predict_topdown,
)

# Eager batch 2 vs two batch-1 forwards, or onnxruntime vs eager: float32 summation order only, amplified on this
# random tiny model by ill-conditioned DARK steps (as on the golden maps, see tests/test_inference.py): at least 90 % of
# the keypoints within 1e-2 image px, and every person's mean keypoint distance under 1 px.
WITHIN_1E2_PX = 0.9


def _assert_same_people(found, expected):
    assert len(found) == len(expected)
    if not found:
        return
    distance = np.linalg.norm(
        np.stack([p["keypoints"] for p in found]) - np.stack([p["keypoints"] for p in expected]), axis=-1
    )
    assert (distance <= 1e-2).mean() >= WITHIN_1E2_PX, distance
    assert (distance.mean(-1) < 1.0).all(), distance.mean(-1)


def _tiny_bottom_up():
    torch.manual_seed(0)
    backbone = HRNetConfig(
        stem_channels=8,
        stage1_channels=8,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 8, 8],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )
    model = AssociativeEmbeddingForPoseEstimation(AssociativeEmbeddingConfig(backbone_config=backbone)).eval()
    with torch.no_grad():  # maps of order 1, so that the parser finds people (the default init gives ~1e-10 maps)
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight)
        torch.nn.init.normal_(model.final_layer.weight, std=0.02)
    return model


@pytest.fixture(scope="module")
def records(coco_mini):
    images = coco_images(coco_mini / "annotations" / "person_keypoints_val2017.json", coco_mini / "val2017")
    return sorted(images, key=lambda record: str(record["path"]))[:2]


def _reference(model, processor, records):
    """The loop as it was: two separate batch-1 forwards per image (MMPose 0.29's order), eager."""
    people = []
    with torch.inference_mode():
        for record in records:
            inputs = processor(images=[str(record["path"])], return_tensors="pt")
            outputs = model(inputs["pixel_values"])
            flipped = model(inputs["pixel_values"].flip(-1))
            people.append(
                processor.post_process_pose_estimation(
                    outputs, base_size=inputs["base_size"], scale=inputs["scale"], outputs_flipped=flipped
                )[0]
            )
    return people


def _per_image(results, records):
    return [[r for r in results if r["image_id"] == record["image_id"]] for record in records]


def test_predict_bottomup_runs_image_and_mirror_as_one_batch(records):
    model = _tiny_bottom_up()
    processor = BottomUpPoseImageProcessor(input_size=128, detection_threshold=0.01)
    batches = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: batches.append(tuple(kwargs["pixel_values"].shape)), with_kwargs=True
    )
    try:
        results = predict_bottomup(model, processor, records, flip_test=True, optimize=False)
    finally:
        handle.remove()
    assert [shape[0] for shape in batches] == [2, 2]  # one forward per image: the image and its mirror image
    expected = _reference(model, processor, records)
    assert sum(len(people) for people in expected) > 0
    for found, reference in zip(_per_image(results, records), expected):
        _assert_same_people(found, reference)
        np.testing.assert_allclose([p["bbox_score"] for p in found], [p["score"] for p in reference], atol=1e-4)


def test_predict_bottomup_without_flip_runs_one_view(records):
    model = _tiny_bottom_up()
    processor = BottomUpPoseImageProcessor(input_size=128, detection_threshold=0.01)
    batches = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: batches.append(tuple(kwargs["pixel_values"].shape)), with_kwargs=True
    )
    try:
        predict_bottomup(model, processor, records[:1], flip_test=False, optimize=False)
    finally:
        handle.remove()
    assert [shape[0] for shape in batches] == [1]


def test_evaluation_forward_follows_should_optimize(monkeypatch):
    model = _tiny_bottom_up()
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "0")
    assert evaluation_forward(model) is model
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    fast = evaluation_forward(model)
    assert isinstance(fast, OptimizedPoseModel) and fast.backend == "onnxruntime" and fast.batch_size is None
    assert evaluation_forward(fast) is fast  # never wrapped twice
    assert evaluation_forward(model, optimize=False) is model


def test_predict_bottomup_optimized_matches_eager(records, monkeypatch):
    """The default optimized path (one ONNX export for every size) gives the eager people."""
    model = _tiny_bottom_up()
    processor = BottomUpPoseImageProcessor(input_size=128, detection_threshold=0.01)
    eager = predict_bottomup(model, processor, records, optimize=False)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    fast = evaluation_forward(model)
    optimized = predict_bottomup(fast, processor, records)
    assert len(fast.stats.compiled_shapes) == 2 and fast._export is not None  # two sizes, one export
    assert len(eager) > 0
    _assert_same_people(optimized, eager)


def test_slice_outputs_slices_tuples_of_heatmaps():
    model = _tiny_bottom_up()
    with torch.inference_mode():
        outputs = model(pixel_values=torch.randn(2, 3, 64, 64))
    second = _slice_outputs(outputs, slice(1, None))
    assert len(second.heatmaps) == len(outputs.heatmaps)
    torch.testing.assert_close(second.heatmaps[0], outputs.heatmaps[0][1:], rtol=0, atol=0)
    torch.testing.assert_close(second.tags, outputs.tags[1:], rtol=0, atol=0)


def _tiny_rle():
    from transformers import AutoConfig, AutoModelForPoseEstimation, ResNetConfig

    torch.manual_seed(0)
    backbone = ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], layer_type="bottleneck"
    )
    config = AutoConfig.for_model("hfpose_rle", backbone_config=backbone.to_dict(), input_size=[48, 64])
    return AutoModelForPoseEstimation.from_config(config).eval()


def test_predict_topdown_takes_the_optimized_forward_and_keeps_the_eager_keypoints(coco_mini, monkeypatch):
    """`hfpose evaluate` of a top-down model: the crops and their mirrors through one onnxruntime export (the
    pipeline's forward) give the eager keypoints to float32 rounding (measured at most 1.3e-4 px and 1.2e-7 in score on
    this tiny model, at 1 and 2 threads and with oneDNN at AVX2; bounds 1e-3 px and 1e-4); ``optimize=False`` and
    ``HFPOSE_OPTIMIZE=0`` run the model itself."""
    model = _tiny_rle()
    processor = TopDownPoseImageProcessor(
        size={"width": 48, "height": 64}, flip_indices=list(model.config.flip_indices)
    )
    ann_file = coco_mini / "annotations" / "person_keypoints_val2017.json"
    records = coco_eval_images(ann_file, coco_mini / "val2017")[:6]
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    calls = []
    handle = model.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        eager = predict_topdown(model, processor, records, batch_size=4, optimize=False)
        eager_calls = len(calls)
        optimized = predict_topdown(model, processor, records, batch_size=4)
    finally:
        handle.remove()
    assert eager_calls == 2  # 6 boxes in batches of 4 + mirrors: two forwards
    assert len(optimized) == len(eager) > 0
    for fast, reference in zip(optimized, eager, strict=True):
        assert fast["id"] == reference["id"]
        np.testing.assert_allclose(fast["keypoints"], reference["keypoints"], atol=1e-3)
        np.testing.assert_allclose(fast["keypoint_scores"], reference["keypoint_scores"], atol=1e-4)
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "0")
    assert evaluation_forward(model) is model
