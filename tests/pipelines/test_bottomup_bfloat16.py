"""Bottom-up models in bfloat16, end to end, with a tiny random AE HRNet (fast; the converted golden HRNet-w32 is in
tests/test_precision_golden.py): ``pipeline(..., dtype=torch.bfloat16)`` runs the network in bfloat16 and hands float32
maps to the grouping, and the processor's post-processing also takes bfloat16 outputs directly (a model loaded with
``from_pretrained(..., dtype=torch.bfloat16)`` and called by hand)."""

import numpy as np
import pytest
import torch
from transformers import AutoModelForPoseEstimation, pipeline

import hfpose  # noqa: F401
from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from hfpose.models.hrnet import HRNetConfig

TINY_BACKBONE = dict(
    stem_channels=8,
    stage1_channels=4,
    stage1_num_blocks=1,
    hidden_sizes=[4, 8, 16, 32],
    num_modules=[1, 1, 1],
    num_blocks=[1, 1, 1],
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    config = AssociativeEmbeddingConfig(backbone_config=HRNetConfig(**TINY_BACKBONE), input_size=[128, 128])
    model = AssociativeEmbeddingForPoseEstimation(config).eval()
    directory = tmp_path_factory.mktemp("tiny_ae")
    model.save_pretrained(directory)
    # a tiny random network's maps stay low: a zero detection threshold lets the grouping find people
    BottomUpPoseImageProcessor(input_size=128, detection_threshold=0.0).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def image_path(coco_mini):
    return sorted((coco_mini / "val2017").glob("*.jpg"))[0]


def test_bottom_up_pipeline_in_bfloat16_post_processes_float32(model_dir, image_path, monkeypatch):
    float32 = pipeline("keypoint-detection", model=str(model_dir))
    low = pipeline("keypoint-detection", model=str(model_dir), dtype=torch.bfloat16)
    assert float32.model.dtype == torch.float32 and low.model.dtype == torch.bfloat16
    assert low.forward_model is low.model  # eager: the onnxruntime / Inductor paths are float32 only
    seen = []
    original = BottomUpPoseImageProcessor.post_process_pose_estimation

    def recording(self, outputs, **kwargs):
        flipped = kwargs["outputs_flipped"]
        seen.append({t.dtype for t in (*outputs["heatmaps"], outputs["tags"], *flipped["heatmaps"], flipped["tags"])})
        return original(self, outputs, **kwargs)

    monkeypatch.setattr(BottomUpPoseImageProcessor, "post_process_pose_estimation", recording)
    persons = low(str(image_path))
    reference = float32(str(image_path))
    assert seen == [{torch.float32}, {torch.float32}]  # bfloat16 run first, then the float32 one
    assert len(persons) > 0 and len(reference) > 0
    keypoints = np.array([[k["x"], k["y"]] for p in persons for k in p["keypoints"]])
    assert np.isfinite(keypoints).all()


def test_processor_post_processes_bfloat16_outputs_directly(model_dir, image_path):
    from PIL import Image

    model = AutoModelForPoseEstimation.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    processor = BottomUpPoseImageProcessor.from_pretrained(model_dir)
    inputs = processor(images=[np.asarray(Image.open(image_path).convert("RGB"))], return_tensors="pt")
    pixel_values = inputs["pixel_values"].to(torch.bfloat16)
    with torch.inference_mode():
        outputs, flipped = model(pixel_values), model(pixel_values.flip(-1))
        reference = AutoModelForPoseEstimation.from_pretrained(model_dir).eval()(inputs["pixel_values"])
    assert outputs.heatmaps[0].dtype == torch.bfloat16
    people = processor.post_process_pose_estimation(
        outputs, base_size=inputs["base_size"], scale=inputs["scale"], outputs_flipped=flipped
    )[0]
    assert len(people) > 0 and all(p["keypoints"].dtype == np.float32 for p in people)
    # The maps themselves: bfloat16 rounding (2^-9 relative) amplified by the tiny random network. Measured 0.0079 of
    # the float32 map range, the same at AVX512_CORE and AVX2, 1 and 2 threads; bound 2x.
    deviation = (outputs.heatmaps[0].float() - reference.heatmaps[0]).abs().max()
    assert 0 < float(deviation / reference.heatmaps[0].abs().max()) < 0.016
