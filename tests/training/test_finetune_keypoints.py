"""Fine-tuning a converted 17-keypoint MMPose checkpoint to another keypoint set (K = 14)."""

import logging

import pytest
import torch

import hfpose  # noqa: F401
from hfpose.hub.convert_mmpose import convert_mmpose_checkpoint
from hfpose.models.rle import RLEForPoseEstimation
from hfpose.training.initialization import load_initial_weights

# 14 joints of a sports set (LSP-like order, side suffixes): flips inferred from the names.
SPORTS14 = [
    "ankle_r",
    "knee_r",
    "hip_r",
    "hip_l",
    "knee_l",
    "ankle_l",
    "wrist_r",
    "elbow_r",
    "shoulder_r",
    "shoulder_l",
    "elbow_l",
    "wrist_l",
    "neck",
    "head_top",
]


@pytest.fixture(scope="module")
def converted_rle(golden_dir, tmp_path_factory):
    models = golden_dir / "models"
    backbone = torch.load(models / "resnet50_backbone_mmpose.pth", map_location="cpu", weights_only=True)
    head = torch.load(models / "rle_head_mmpose.pth", map_location="cpu", weights_only=True)
    root = tmp_path_factory.mktemp("finetune")
    path = root / "rle_res50.pth"
    torch.save({"meta": head["meta"], "state_dict": {**backbone["state_dict"], **head["state_dict"]}}, path)
    model = convert_mmpose_checkpoint(path, "rle", "resnet50", "coco", root / "converted")
    return root / "converted", {key: value.clone() for key, value in model.state_dict().items()}


@pytest.mark.golden
def test_from_pretrained_to_14_keypoints_keeps_the_backbone_and_reinitialises_only_k_sized_tensors(
    converted_rle, caplog
):
    model_dir, coco_state = converted_rle
    id2label = dict(enumerate(SPORTS14))
    with caplog.at_level(logging.WARNING):
        model = RLEForPoseEstimation.from_pretrained(model_dir, id2label=id2label, ignore_mismatched_sizes=True)
    config = model.config
    assert config.num_labels == 14 and config.id2label == id2label
    assert config.flip_indices == [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13]
    assert config.skeleton == [] and config.sigmas is None  # COCO's links and sigmas do not carry over
    state = model.state_dict()
    changed = sorted(key for key in state if state[key].shape != coco_state[key].shape)
    assert changed == ["head.fc.bias", "head.fc.weight"]
    assert state["head.fc.weight"].shape == (14 * 4, 2048)
    for key, value in state.items():
        if key not in changed:  # backbone, RLE flow (K-independent, 2-D) and buffers: bit-exact
            assert torch.equal(value, coco_state[key]), key
    # the new head is freshly initialised (finite, not the checkpoint's rows, not all zeros)
    assert torch.isfinite(state["head.fc.weight"]).all() and state["head.fc.weight"].abs().sum() > 0
    assert not torch.equal(state["head.fc.weight"], coco_state["head.fc.weight"][: 14 * 4])
    assert "head.fc.weight" in caplog.text and "mismatch" in caplog.text.lower()


@pytest.mark.golden
def test_init_from_reports_what_was_reinitialised(converted_rle):
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig

    model_dir, coco_state = converted_rle
    config = RLEConfig(id2label=dict(enumerate(SPORTS14)), backbone_config=resnet_backbone_config(50))
    model = RLEForPoseEstimation(config)
    report = load_initial_weights(model, model_dir, method="rle")
    assert sorted(report.reinitialised) == ["head.fc.bias", "head.fc.weight"]
    summary = report.summary()
    assert "re-initialised 2 tensors (" in summary and "head.fc.weight" in summary and "head.fc.bias" in summary
    state = model.state_dict()
    assert torch.equal(
        state["backbone.embedder.embedder.convolution.weight"],
        coco_state["backbone.embedder.embedder.convolution.weight"],
    )
    assert all(torch.equal(state[k], coco_state[k]) for k in state if not k.startswith("head.fc."))
