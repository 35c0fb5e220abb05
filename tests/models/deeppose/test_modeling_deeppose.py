"""DeepPose: config, tiny-model behaviour, hand-computed loss, and equivalence with MMPose's RegressionHead / model."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForPoseEstimation, ConvNextConfig

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.hub.convert_mmpose import build_regression_config, convert_mmpose_state_dict
from hfpose.keypoints import COCO_KEYPOINTS
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.deeppose import DeepPoseConfig, DeepPoseForPoseEstimation, smooth_l1_keypoint_loss

TINY_NAMES = {0: "nose", 1: "left_eye", 2: "right_eye", 3: "neck"}


def tiny_config(**overrides):
    kwargs = dict(
        backbone_config=resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], embedding_size=8),
        input_size=[48, 64],
        dataset="custom",
        id2label=TINY_NAMES,
    )
    kwargs.update(overrides)
    return DeepPoseConfig(**kwargs)


def tiny_batch(batch_size=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    pixel_values = torch.randn(batch_size, 3, 64, 48, generator=generator)
    labels = torch.rand(batch_size, 4, 2, generator=generator)
    label_weights = torch.tensor([[1.0, 0.0, 1.0, 1.0]] * batch_size)
    return pixel_values, labels, label_weights


def test_default_config_is_mmpose_td_reg_res50_coco():
    config = DeepPoseConfig()
    assert config.model_type == "hfpose_deeppose"
    assert config.num_labels == 17 and config.id2label == COCO_KEYPOINTS.id2label
    assert config.label2id["nose"] == 0
    assert config.flip_indices == COCO_KEYPOINTS.flip_indices and config.input_size == [192, 256]
    assert list(config.backbone_config.depths) == [3, 4, 6, 3] and config.backbone_config.out_features == ["stage4"]
    assert config.smooth_l1_beta == 1.0


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="smooth_l1_beta"):
        tiny_config(smooth_l1_beta=-1.0)
    with pytest.raises(ValueError, match="flip_indices"):
        tiny_config(flip_indices=[0, 1, 2])


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return DeepPoseForPoseEstimation(tiny_config()).eval()


def test_tiny_forward_loss_and_backward():
    torch.manual_seed(1)
    model = DeepPoseForPoseEstimation(tiny_config()).train()
    pixel_values, labels, label_weights = tiny_batch()
    outputs = model(pixel_values, labels=labels, label_weights=label_weights)
    assert outputs.keypoints.shape == (2, 4, 2)
    torch.testing.assert_close(outputs.scores, torch.ones(2, 4))
    assert torch.isfinite(outputs.loss)
    outputs.loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_smooth_l1_hand_computed():
    predictions = torch.tensor([[[0.0, 0.5], [3.0, 1.0]]])
    labels = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    weights = torch.tensor([[1.0, 0.5]])
    # weighted differences: (-1, .5, 1.5, 0) -> 0.5, 0.125, 1.0, 0.0 ; mean over 4 = 1.625 / 4
    assert smooth_l1_keypoint_loss(predictions, labels, weights).item() == pytest.approx(1.625 / 4)
    # beta 2: 0.25, 0.0625, 0.5625, 0 -> mean 0.21875
    assert smooth_l1_keypoint_loss(predictions, labels, weights, beta=2.0).item() == pytest.approx(0.21875)


def test_bad_label_shapes_are_rejected(tiny_model):
    pixel_values, labels, _ = tiny_batch()
    with pytest.raises(ValueError, match="labels must have shape"):
        tiny_model(pixel_values, labels=labels.transpose(1, 2))
    with pytest.raises(ValueError, match="label_weights must have shape"):
        tiny_model(pixel_values, labels=labels, label_weights=torch.ones(2, 5))


def test_save_and_reload_round_trip_and_auto_classes(tiny_model, tmp_path):
    assert type(AutoConfig.for_model("hfpose_deeppose")) is DeepPoseConfig
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert type(reloaded) is DeepPoseForPoseEstimation and reloaded.config.num_labels == 4
    pixel_values, labels, label_weights = tiny_batch()
    with torch.no_grad():
        before = tiny_model(pixel_values, labels=labels, label_weights=label_weights)
        after = reloaded(pixel_values, labels=labels, label_weights=label_weights)
    torch.testing.assert_close(after.keypoints, before.keypoints, rtol=0, atol=0)
    torch.testing.assert_close(after.loss, before.loss, rtol=0, atol=0)


def test_convnext_backbone_swap():
    backbone_config = ConvNextConfig(depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], out_features=["stage4"])
    model = DeepPoseForPoseEstimation(tiny_config(backbone_config=backbone_config))
    pixel_values, labels, label_weights = tiny_batch()
    outputs = model(pixel_values, labels=labels, label_weights=label_weights)
    assert outputs.keypoints.shape == (2, 4, 2) and torch.isfinite(outputs.loss)
    outputs.loss.backward()


@pytest.mark.golden
def test_golden_regression_head(golden_dir):
    fixture = np.load(golden_dir / "heads" / "regression_head.npz", allow_pickle=False)
    weights = {k: v.float() for k, v in load_file(golden_dir / "heads" / "regression_head.safetensors").items()}
    w_in, h_in = json.loads(str(fixture["meta_json"]))["input_size_wh"]
    config = DeepPoseConfig(
        input_size=[w_in, h_in],
        backbone_config=resnet_backbone_config(
            50, depths=[1, 1, 1, 1], hidden_sizes=[8, 8, 8, weights["fc.weight"].shape[1]], embedding_size=8
        ),
    )
    model = DeepPoseForPoseEstimation(config).eval()
    model.head.fc.load_state_dict({"weight": weights["fc.weight"], "bias": weights["fc.bias"]}, strict=True)
    with torch.no_grad():
        plain = model.forward_head(torch.from_numpy(fixture["feats"]))
        flipped = model.forward_head(torch.from_numpy(fixture["feats_flip"]))
        np.testing.assert_allclose(plain.keypoints.numpy(), fixture["forward_out"], rtol=0, atol=1e-5)
        np.testing.assert_allclose(flipped.keypoints.numpy(), fixture["forward_out_flip"], rtol=0, atol=1e-5)
        np.testing.assert_allclose(
            plain.keypoints.double().numpy() * [w_in, h_in], fixture["predict_noflip_keypoints"], rtol=0, atol=1e-3
        )
        np.testing.assert_allclose(plain.scores.numpy(), fixture["predict_noflip_scores"], rtol=0, atol=1e-5)
        flip = fixture["flip_indices"]
        back = flipped.keypoints[:, flip].clone()
        back[..., 0] = 1 - back[..., 0] - 1 / w_in
        keypoints = ((plain.keypoints + back) / 2).double().numpy() * [w_in, h_in]
        np.testing.assert_allclose(keypoints, fixture["predict_keypoints"], rtol=0, atol=1e-3)
        np.testing.assert_allclose(plain.scores.numpy(), fixture["predict_scores"], rtol=0, atol=1e-5)
        outputs = model.forward_head(
            torch.from_numpy(fixture["feats"]),
            labels=torch.from_numpy(fixture["loss_keypoint_labels"]),
            label_weights=torch.from_numpy(fixture["loss_keypoint_weights"]),
        )
    loss_reference = float(fixture["loss_kpt"])
    atol = 1e-6 if loss_reference < 1e-3 else 0.0
    np.testing.assert_allclose(outputs.loss.item(), loss_reference, rtol=1e-4, atol=atol)


@pytest.fixture(scope="module")
def deeppose_full(golden_dir):
    models = golden_dir / "models"
    fixture = np.load(models / "deeppose_outputs.npz", allow_pickle=False)
    backbone = torch.load(models / "resnet50_backbone_mmpose.pth", map_location="cpu", weights_only=True)
    head = torch.load(models / "deeppose_head_mmpose.pth", map_location="cpu", weights_only=True)
    checkpoint = {"meta": head["meta"], "state_dict": {**backbone["state_dict"], **head["state_dict"]}}
    config = build_regression_config("deeppose", "resnet50", "coco")
    model = DeepPoseForPoseEstimation(config).eval()
    model.load_state_dict(convert_mmpose_state_dict(checkpoint, "deeppose", config), strict=True)
    inputs = torch.from_numpy(fixture["inputs"])
    with torch.no_grad():
        outputs = {
            "": model(inputs, output_hidden_states=True),
            "_flip": model(inputs.flip(-1), output_hidden_states=True),
        }
    return fixture, outputs


@pytest.mark.golden
@pytest.mark.parametrize("suffix", ["", "_flip"])
def test_golden_full_model(deeppose_full, suffix):
    fixture, outputs = deeppose_full
    neck = outputs[suffix].hidden_states[-1].mean(dim=(2, 3)).numpy()
    np.testing.assert_allclose(neck, fixture["neck_out" + suffix], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(outputs[suffix].keypoints.numpy(), fixture["head_out" + suffix], rtol=0, atol=1e-4)


@pytest.mark.golden
def test_golden_full_model_keypoints_in_image_pixels(deeppose_full):
    fixture, outputs = deeppose_full
    w_in = 192
    flip = fixture["flip_indices"]
    back = outputs["_flip"].keypoints[:, flip].clone()
    back[..., 0] = 1 - back[..., 0] - 1 / w_in
    normalized = ((outputs[""].keypoints + back) / 2).double().numpy()
    scale, center = fixture["input_scale"].astype(np.float64), fixture["input_center"].astype(np.float64)
    keypoints_image = normalized * scale[:, None] + center[:, None] - 0.5 * scale[:, None]
    np.testing.assert_allclose(keypoints_image, fixture["keypoints"], rtol=0, atol=1e-2)
    np.testing.assert_allclose(outputs[""].scores.numpy(), fixture["keypoint_scores"], rtol=0, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["resnet50", "resnet101", "resnet152"])
def test_full_size_configs_forward(backbone):
    config = build_regression_config("deeppose", backbone, "coco")
    model = DeepPoseForPoseEstimation(config).train()
    with torch.no_grad():
        outputs = model(torch.randn(2, 3, 256, 192), labels=torch.rand(2, 17, 2))
    assert outputs.keypoints.shape == (2, 17, 2) and torch.isfinite(outputs.loss)
