"""ONNX export of every top-down method (tiny configs): onnxruntime matches PyTorch within 1e-4 at any batch size,
and the pipeline runs the exported graph on CPU."""

import json

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForPoseEstimation, pipeline

import hfpose  # noqa: F401
from hfpose.image_processing_topdown import TopDownPoseImageProcessor
from hfpose.models.backbones import resnet_backbone_config
from hfpose.onnx import OnnxPoseModel, export_onnx
from hfpose.pipelines import KeypointDetectionPipeline

METHODS = {
    "hfpose_deeppose": {"input_size": [48, 64]},
    "hfpose_rle": {"input_size": [48, 64]},
    "hfpose_ipr": {"input_size": [64, 64], "deconv_out_channels": [8, 8, 8]},
    "hfpose_dsnt": {"input_size": [64, 64], "deconv_out_channels": [8, 8, 8]},
    "hfpose_debias_ipr": {"input_size": [64, 64], "deconv_out_channels": [8, 8, 8]},
}


def tiny_model(model_type):
    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = AutoConfig.for_model(model_type, backbone_config=backbone, **METHODS[model_type])
    return AutoModelForPoseEstimation.from_config(config).eval()


@pytest.mark.parametrize("model_type", sorted(METHODS))
def test_export_matches_pytorch_with_dynamic_batch(model_type, tmp_path):
    model = tiny_model(model_type)
    result = export_onnx(model, tmp_path / "model.onnx", batch_size=2)
    expected_names = ["keypoints", "scores", "sigma"] if model_type == "hfpose_rle" else ["keypoints", "scores"]
    assert result["output_names"] == expected_names
    assert max(result["max_abs_diff"].values()) <= 1e-4
    runner = OnnxPoseModel(tmp_path / "model.onnx")  # config from model.config.json next to the file
    assert runner.config.model_type == model_type
    width, height = model.config.input_size
    generator = torch.Generator().manual_seed(1)
    for batch_size in (1, 5):  # neither is the traced batch size
        pixel_values = torch.randn(batch_size, 3, height, width, generator=generator)
        with torch.no_grad():
            expected = model(pixel_values=pixel_values)
        got = runner(pixel_values)
        for name in expected_names:
            assert got[name].shape == expected[name].shape
            np.testing.assert_allclose(got[name].numpy(), expected[name].numpy(), atol=1e-4, rtol=0)


def test_pipeline_runs_the_onnx_model_on_cpu(tmp_path, coco_mini):
    model = tiny_model("hfpose_rle")
    config = model.config
    processor = TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    )
    model.save_pretrained(tmp_path / "model")
    processor.save_pretrained(tmp_path / "model")
    export_onnx(tmp_path / "model", tmp_path / "model.onnx")
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    annotation = next(a for a in annotations["annotations"] if a["num_keypoints"] > 0 and not a["iscrowd"])
    image = next(i["file_name"] for i in annotations["images"] if i["id"] == annotation["image_id"])
    path = str(coco_mini / "val2017" / image)
    boxes = [annotation["bbox"], [10.0, 10.0, 80.0, 150.0]]

    expected = pipeline("keypoint-detection", model=str(tmp_path / "model"))(path, boxes=boxes)
    onnx_pipeline = KeypointDetectionPipeline(
        model=OnnxPoseModel(tmp_path / "model.onnx", config), image_processor=processor
    )
    got = onnx_pipeline(path, boxes=boxes)  # flip test on: a batch of 4 crops through onnxruntime
    assert len(got) == 2
    for person_got, person_expected in zip(got, expected):
        assert person_got["bbox"] == pytest.approx(person_expected["bbox"])
        xy_got = np.array([[k["x"], k["y"]] for k in person_got["keypoints"]])
        xy_expected = np.array([[k["x"], k["y"]] for k in person_expected["keypoints"]])
        np.testing.assert_allclose(xy_got, xy_expected, atol=1e-3)  # image px; 1e-4 normalized x crop size
        assert [k["score"] for k in person_got["keypoints"]] == pytest.approx(
            [k["score"] for k in person_expected["keypoints"]], abs=1e-5
        )


def test_bad_inputs(tmp_path):
    from transformers import ResNetBackbone, ResNetConfig

    from hfpose.models.associative_embedding import AssociativeEmbeddingConfig

    with pytest.raises(ValueError, match="covers the hfpose pose models.*'resnet'"):
        export_onnx(ResNetBackbone(ResNetConfig(depths=[1, 1, 1, 1])), tmp_path / "x.onnx")
    del AssociativeEmbeddingConfig
    with pytest.raises(FileNotFoundError, match="config.json"):
        export_onnx(tmp_path, tmp_path / "x.onnx")
    with pytest.raises(FileNotFoundError, match="no ONNX file"):
        OnnxPoseModel(tmp_path / "missing.onnx")


TINY_HRNET = dict(
    stem_channels=8,
    stage1_channels=4,
    stage1_num_blocks=1,
    hidden_sizes=[4, 8, 16, 32],
    num_modules=[1, 1, 1],
    num_blocks=[1, 1, 1],
)


@pytest.mark.parametrize("model_type", ["hfpose_ae_hrnet", "hfpose_ae_higherhrnet"])
def test_bottom_up_export_has_dynamic_batch_and_size(model_type, tmp_path):
    """One file for every input size: onnxruntime matches PyTorch within 1e-4 on batches and sizes other than the
    tracing example's, and returns the model's own output class (heatmaps tuple + tags)."""
    from hfpose.models.hrnet import HRNetConfig

    torch.manual_seed(0)
    config = AutoConfig.for_model(model_type, backbone_config=HRNetConfig(**TINY_HRNET), input_size=[128, 128])
    model = AutoModelForPoseEstimation.from_config(config).eval()
    result = export_onnx(model, tmp_path / "bu.onnx", batch_size=1)
    assert result["input_size"] == [128, 128]
    expected_names = (
        ["heatmaps.0", "heatmaps.1", "tags"] if model_type.endswith("higherhrnet") else ["heatmaps.0", "tags"]
    )
    assert result["output_names"] == expected_names
    assert max(result["max_abs_diff"].values()) <= 1e-4
    runner = OnnxPoseModel(tmp_path / "bu.onnx")  # config from bu.config.json
    for shape in [(2, 3, 96, 160), (1, 3, 192, 64)]:
        pixel_values = torch.randn(shape)
        got = runner(pixel_values=pixel_values)
        with torch.no_grad():
            expected = model(pixel_values=pixel_values)
        assert type(got) is type(expected)
        assert len(got.heatmaps) == len(expected.heatmaps)
        for ours, theirs in zip(got.heatmaps + (got.tags,), expected.heatmaps + (expected.tags,)):
            assert ours.shape == theirs.shape
            torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)


def test_the_pipeline_runs_an_onnx_model_as_it_is(tmp_path, monkeypatch):
    """An `OnnxPoseModel` is already a runtime: the pipeline's default optimization leaves it alone."""
    from hfpose.inference import should_optimize

    model = tiny_model("hfpose_rle")
    export_onnx(model, tmp_path / "m.onnx")
    runner = OnnxPoseModel(tmp_path / "m.onnx")
    monkeypatch.setenv("HFPOSE_OPTIMIZE", "1")
    assert should_optimize(model) and not should_optimize(runner)
    pipe = KeypointDetectionPipeline(
        model=runner, image_processor=TopDownPoseImageProcessor(size={"height": 64, "width": 48})
    )
    assert pipe.forward_model is runner
