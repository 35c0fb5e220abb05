"""RLE: config, tiny-model behaviour, hand-computed loss / flow, equivalence with MMPose's RLEHead and full model."""

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForPoseEstimation, ConvNextConfig

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.hub.convert_mmpose import build_regression_config, convert_mmpose_state_dict
from hfpose.keypoints import COCO_KEYPOINTS, MPII_KEYPOINTS
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.mobilenet_v2 import PoseMobileNetV2Config
from hfpose.models.rle import RLEConfig, RLEFlow, RLEForPoseEstimation, rle_loss

TINY_NAMES = {0: "nose", 1: "left_eye", 2: "right_eye", 3: "neck"}


def tiny_config(**overrides):
    kwargs = dict(
        backbone_config=resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], embedding_size=8),
        input_size=[48, 64],
        dataset="custom",
        id2label=TINY_NAMES,
        flow_hidden_size=8,
    )
    kwargs.update(overrides)
    return RLEConfig(**kwargs)


def tiny_batch(batch_size=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    pixel_values = torch.randn(batch_size, 3, 64, 48, generator=generator)
    labels = torch.rand(batch_size, 4, 2, generator=generator)
    label_weights = torch.tensor([[1.0, 1.0, 0.0, 1.0]] * batch_size)
    return pixel_values, labels, label_weights


# ----------------------------------------------------------------------------------------------------------- config
def test_default_config_is_mmpose_td_reg_res50_rle_coco():
    config = RLEConfig()
    assert config.model_type == "hfpose_rle"
    assert config.num_labels == 17 and config.id2label == COCO_KEYPOINTS.id2label
    assert config.flip_indices == COCO_KEYPOINTS.flip_indices
    assert config.skeleton == [list(link) for link in COCO_KEYPOINTS.skeleton]
    assert config.input_size == [192, 256]
    backbone = config.backbone_config
    assert backbone.model_type == "resnet" and list(backbone.depths) == [3, 4, 6, 3]
    assert backbone.out_features == ["stage4"] and backbone.downsample_in_bottleneck is False
    assert (config.flow_num_layers, config.flow_hidden_size) == (6, 64)
    assert config.loss_residual is True and config.q_distribution == "laplace" and config.size_average is True


def test_mpii_config():
    config = RLEConfig(dataset="mpii", input_size=[256, 256])
    assert config.num_labels == 16 and config.flip_indices == MPII_KEYPOINTS.flip_indices


def test_custom_names_derive_flip_indices():
    config = tiny_config()
    assert config.num_labels == 4 and config.flip_indices == [0, 2, 1, 3] and config.skeleton == []


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"q_distribution": "cauchy"}, "q_distribution"),
        ({"flip_indices": [0, 1, 1, 3]}, "flip_indices"),
        ({"input_size": [48]}, "input_size"),
        ({"input_size": [48, 0]}, "input_size"),
        ({"skeleton": [[0, 4]]}, r"skeleton\[0\]"),
        ({"flow_num_layers": 0}, "flow_num_layers"),
    ],
)
def test_config_rejects_bad_values(overrides, match):
    with pytest.raises(ValueError, match=match):
        tiny_config(**overrides)


def test_unknown_dataset_without_names_is_rejected():
    with pytest.raises(ValueError, match="unknown keypoint set"):
        RLEConfig(dataset="crowdpose")


# ------------------------------------------------------------------------------------------------------- tiny model
@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return RLEForPoseEstimation(tiny_config()).eval()


def test_tiny_forward_shapes_and_score_definition(tiny_model):
    pixel_values, _, _ = tiny_batch()
    with torch.no_grad():
        outputs = tiny_model(pixel_values)
    assert outputs.loss is None
    assert outputs.keypoints.shape == (2, 4, 2) and outputs.scores.shape == (2, 4)
    assert outputs.sigma.shape == (2, 4, 2) and outputs.sigma_raw.shape == (2, 4, 2)
    torch.testing.assert_close(outputs.sigma, torch.sigmoid(outputs.sigma_raw))
    torch.testing.assert_close(outputs.scores, 1 - outputs.sigma.mean(-1))
    assert bool(((outputs.scores > 0) & (outputs.scores < 1)).all())


def test_tiny_loss_backward_reaches_every_parameter():
    torch.manual_seed(1)
    model = RLEForPoseEstimation(tiny_config()).train()
    pixel_values, labels, label_weights = tiny_batch()
    outputs = model(pixel_values, labels=labels, label_weights=label_weights)
    assert torch.isfinite(outputs.loss)
    torch.testing.assert_close(outputs.loss, outputs.loss_flow + outputs.loss_residual)
    outputs.loss.backward()
    no_grad = [name for name, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert no_grad == []
    assert model.flow.s[0][0].weight.grad.abs().sum() > 0  # the flow is trained through the loss


def test_label_weights_default_and_zero(tiny_model):
    pixel_values, labels, _ = tiny_batch()
    with torch.no_grad():
        default = tiny_model(pixel_values, labels=labels).loss
        ones = tiny_model(pixel_values, labels=labels, label_weights=torch.ones(2, 4)).loss
        zero = tiny_model(pixel_values, labels=labels, label_weights=torch.zeros(2, 4)).loss
    torch.testing.assert_close(default, ones)
    assert zero.item() == 0.0


def test_bad_label_shapes_are_rejected(tiny_model):
    pixel_values, labels, _ = tiny_batch()
    with pytest.raises(ValueError, match="labels must have shape"):
        tiny_model(pixel_values, labels=labels[:, :3])
    with pytest.raises(ValueError, match="label_weights must have shape"):
        tiny_model(pixel_values, labels=labels, label_weights=torch.ones(2, 4, 1))
    with pytest.raises(ValueError, match="pixel_values"):
        tiny_model(pixel_values[0])


def test_tuple_output_and_hidden_states(tiny_model):
    pixel_values, labels, label_weights = tiny_batch()
    with torch.no_grad():
        as_dict = tiny_model(pixel_values, labels=labels, label_weights=label_weights, output_hidden_states=True)
        as_tuple = tiny_model(pixel_values, labels=labels, label_weights=label_weights, return_dict=False)
    assert len(as_dict.hidden_states) == 5
    torch.testing.assert_close(as_tuple[0], as_dict.loss)
    torch.testing.assert_close(as_tuple[3], as_dict.keypoints)


def test_save_and_reload_round_trip(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "config.json").is_file()
    stored = load_file(tmp_path / "model.safetensors")
    assert "flow.s.0.0.weight" in stored and not any(k.startswith("flow.mask") for k in stored)
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert type(reloaded) is RLEForPoseEstimation
    assert reloaded.config.flip_indices == [0, 2, 1, 3] and reloaded.config.num_labels == 4
    torch.testing.assert_close(reloaded.flow.mask, torch.tensor([[0.0, 1.0], [1.0, 0.0]] * 3), rtol=0, atol=0)
    pixel_values, labels, label_weights = tiny_batch()
    with torch.no_grad():
        before = tiny_model(pixel_values, labels=labels, label_weights=label_weights)
        after = reloaded(pixel_values, labels=labels, label_weights=label_weights)
    for name in ("keypoints", "sigma", "scores", "loss"):
        torch.testing.assert_close(after[name], before[name], rtol=0, atol=0)


def test_auto_classes_resolve():
    assert type(AutoConfig.for_model("hfpose_rle")) is RLEConfig
    model = AutoModelForPoseEstimation.from_config(tiny_config())
    assert type(model) is RLEForPoseEstimation


@pytest.mark.parametrize(
    "backbone_config",
    [
        ConvNextConfig(depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], out_features=["stage4"]),
        PoseMobileNetV2Config(widen_factor=0.25, last_channels=40),
    ],
    ids=["convnext", "mobilenet_v2"],
)
def test_backbone_swap_trains_and_round_trips(backbone_config, tmp_path):
    torch.manual_seed(2)
    model = RLEForPoseEstimation(tiny_config(backbone_config=backbone_config))
    assert model.head.fc.in_features == backbone_config.to_dict().get("hidden_sizes", [40])[-1]
    pixel_values, labels, label_weights = tiny_batch()
    loss = model(pixel_values, labels=labels, label_weights=label_weights).loss
    assert torch.isfinite(loss)
    loss.backward()
    model.eval().save_pretrained(tmp_path)
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert type(reloaded.config.backbone_config) is type(backbone_config)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values).keypoints, model(pixel_values).keypoints, rtol=0, atol=0)


# ------------------------------------------------------------------------------------- hand-computed flow and loss
def identity_flow(num_layers=6, hidden_size=8):
    """A flow whose scale and translation nets output 0, so G_phi is the standard normal."""
    flow = RLEFlow(num_layers, hidden_size)
    with torch.no_grad():
        for net in list(flow.s) + list(flow.t):
            net[4].weight.zero_()
            net[4].bias.zero_()
    return flow


def test_identity_flow_is_standard_normal():
    points = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.5, 3.0]])
    expected = -0.5 * (points**2).sum(1) - math.log(2 * math.pi)
    torch.testing.assert_close(identity_flow().log_prob(points), expected)


def test_flow_density_integrates_to_one():
    torch.manual_seed(3)
    flow = RLEFlow(6, 16)
    with torch.no_grad():
        for parameter in flow.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.3)
    grid = torch.linspace(-10, 10, 401)
    xx, yy = torch.meshgrid(grid, grid, indexing="xy")
    with torch.no_grad():
        density = flow.log_prob(torch.stack([xx.flatten(), yy.flatten()], 1)).exp()
    mass = density.sum().item() * (grid[1] - grid[0]).item() ** 2
    assert abs(mass - 1.0) < 2e-3  # a wrong log|det J| sign or a missing term breaks this


def test_flow_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        RLEFlow().log_prob(torch.zeros(3, 3))


def test_rle_loss_hand_computed_laplace_gaussian_and_flags():
    flow = identity_flow()
    coordinates = torch.tensor([[[0.5, 0.25], [0.1, 0.9]]])
    labels = torch.tensor([[[0.4, 0.45], [0.1, 0.7]]])
    sigma_raw = torch.tensor([[[0.0, math.log(3.0)], [-math.log(3.0), 0.0]]])  # sigma = .5, .75, .25, .5
    weights = torch.tensor([[1.0, 2.0]])

    sigma = np.array([[0.5, 0.75], [0.25, 0.5]])
    error = (np.array([[0.5, 0.25], [0.1, 0.9]]) - np.array([[0.4, 0.45], [0.1, 0.7]])) / (sigma + 1e-9)
    log_phi = -0.5 * (error**2).sum(1, keepdims=True) - math.log(2 * math.pi)
    w = np.array([[1.0], [2.0]])
    flow_term = ((np.log(sigma) - log_phi) * w).sum()
    laplace = ((np.log(2 * sigma) + np.abs(error)) * w).sum()
    gaussian = ((np.log(math.sqrt(2 * math.pi) * sigma) + 0.5 * error**2) * w).sum()

    loss_flow, loss_residual = rle_loss(coordinates, sigma_raw, labels, weights, flow)
    assert loss_flow.item() == pytest.approx(flow_term, rel=1e-5)
    assert loss_residual.item() == pytest.approx(laplace, rel=1e-5)
    _, loss_gauss = rle_loss(coordinates, sigma_raw, labels, weights, flow, q_distribution="gaussian")
    assert loss_gauss.item() == pytest.approx(gaussian, rel=1e-5)
    loss_flow_only, zero = rle_loss(coordinates, sigma_raw, labels, weights, flow, residual=False)
    assert zero.item() == 0.0 and loss_flow_only.item() == pytest.approx(flow_term, rel=1e-5)
    # size_average divides by the batch size B: a batch of two equal samples gives the same averaged loss
    doubled = [torch.cat([t, t]) for t in (coordinates, sigma_raw, labels, weights)]
    averaged = sum(rle_loss(*doubled, flow))
    summed = sum(rle_loss(*doubled, flow, size_average=False))
    assert averaged.item() == pytest.approx(flow_term + laplace, rel=1e-5)
    assert summed.item() == pytest.approx(2 * (flow_term + laplace), rel=1e-5)
    with pytest.raises(ValueError, match="q_distribution"):
        rle_loss(coordinates, sigma_raw, labels, weights, flow, q_distribution="cauchy")


# --------------------------------------------------------------------------------------- golden: MMPose RLEHead
def _head_fixture(golden_dir, name):
    fixture = np.load(golden_dir / "heads" / f"{name}.npz", allow_pickle=False)
    weights = {k: v.float() for k, v in load_file(golden_dir / "heads" / f"{name}.safetensors").items()}
    num_keypoints = fixture["forward_out"].shape[1]
    input_size = [int(v) for v in json.loads(str(fixture["meta_json"]))["input_size_wh"]]
    config = RLEConfig(
        dataset="coco" if num_keypoints == 17 else "mpii",
        input_size=input_size,
        backbone_config=resnet_backbone_config(
            50, depths=[1, 1, 1, 1], hidden_sizes=[8, 8, 8, weights["fc.weight"].shape[1]], embedding_size=8
        ),
    )
    model = RLEForPoseEstimation(config).eval()
    model.head.fc.load_state_dict({"weight": weights["fc.weight"], "bias": weights["fc.bias"]})
    prefix = "loss_module.flow_model."
    flow_weights = {k[len(prefix) :]: v for k, v in weights.items() if k[len(prefix) :][:2] in ("s.", "t.")}
    model.flow.load_state_dict(flow_weights, strict=True)
    return fixture, weights, model


@pytest.mark.golden
@pytest.mark.parametrize("name", ["rle_head", "rle_head_mpii"])
def test_golden_rle_head(golden_dir, name):
    fixture, weights, model = _head_fixture(golden_dir, name)
    w_in, h_in = model.config.input_size
    assert model.config.flip_indices == fixture["flip_indices"].tolist()
    # the flow constants hfpose hard-codes are the ones in MMPose's state dict
    np.testing.assert_array_equal(model.flow.mask.numpy(), weights["loss_module.flow_model.mask"].numpy())
    np.testing.assert_array_equal(weights["loss_module.flow_model.loc"].numpy(), np.zeros(2))
    np.testing.assert_array_equal(weights["loss_module.flow_model.cov"].numpy(), np.eye(2))

    with torch.no_grad():
        for suffix in ("", "_flip"):
            feats = torch.from_numpy(fixture["feats" + suffix])
            output = model.forward_head(feats)
            raw = torch.cat([output.keypoints, output.sigma_raw], -1)
            reference = fixture["forward_out" + suffix]
            np.testing.assert_allclose(raw[..., :2].numpy(), reference[..., :2], rtol=0, atol=1e-5)
            np.testing.assert_allclose(raw.numpy(), reference, rtol=0, atol=1e-4)

        # predict without flip: keypoints x (w, h) in input pixels; scores = mean(1 - sigma)
        plain = model.forward_head(torch.from_numpy(fixture["feats"]))
        np.testing.assert_allclose(
            plain.keypoints.double().numpy() * [w_in, h_in], fixture["predict_noflip_keypoints"], rtol=0, atol=1e-3
        )
        np.testing.assert_allclose(plain.scores.numpy(), fixture["predict_noflip_scores"], rtol=0, atol=1e-5)

        # predict with flip, done outside the model as the contract says (x <- 1 - x - 1/w_in, permute, average sigma)
        flipped = model.forward_head(torch.from_numpy(fixture["feats_flip"]))
        flip = fixture["flip_indices"]
        keypoints_back = flipped.keypoints[:, flip].clone()
        keypoints_back[..., 0] = 1 - keypoints_back[..., 0] - 1 / w_in
        keypoints = (plain.keypoints + keypoints_back) / 2
        sigma = (plain.sigma + flipped.sigma[:, flip]) / 2
        np.testing.assert_allclose(
            keypoints.double().numpy() * [w_in, h_in], fixture["predict_keypoints"], rtol=0, atol=1e-3
        )
        np.testing.assert_allclose((1 - sigma.mean(-1)).numpy(), fixture["predict_scores"], rtol=0, atol=1e-5)
        np.testing.assert_allclose(
            ((plain.scores + flipped.scores[:, flip]) / 2).numpy(), fixture["predict_scores"], rtol=0, atol=1e-5
        )

        # flow alone
        log_prob = model.flow.log_prob(torch.from_numpy(fixture["flow_points"]))
        np.testing.assert_allclose(log_prob.numpy(), fixture["flow_log_prob"], rtol=1e-5, atol=1e-4)

        # loss through the model, and through rle_loss on MMPose's own predictions
        labels = torch.from_numpy(fixture["loss_keypoint_labels"])
        label_weights = torch.from_numpy(fixture["loss_keypoint_weights"])
        outputs = model.forward_head(torch.from_numpy(fixture["feats"]), labels=labels, label_weights=label_weights)
        np.testing.assert_allclose(outputs.loss.item(), fixture["loss_kpt"], rtol=1e-4)
        direct = sum(
            rle_loss(
                torch.from_numpy(fixture["loss_pred_coords"]),
                torch.from_numpy(fixture["loss_pred_sigma_raw"]),
                labels,
                label_weights,
                model.flow,
            )
        )
        np.testing.assert_allclose(direct.item(), fixture["loss_kpt"], rtol=1e-4)


# --------------------------------------------------------------------------------- golden: full MMPose RLE model
@pytest.fixture(scope="module")
def rle_full(golden_dir):
    models = golden_dir / "models"
    fixture = np.load(models / "rle_outputs.npz", allow_pickle=False)
    backbone = torch.load(models / "resnet50_backbone_mmpose.pth", map_location="cpu", weights_only=True)
    head = torch.load(models / "rle_head_mmpose.pth", map_location="cpu", weights_only=True)
    checkpoint = {"meta": head["meta"], "state_dict": {**backbone["state_dict"], **head["state_dict"]}}
    config = build_regression_config("rle", "resnet50", "coco")
    model = RLEForPoseEstimation(config).eval()
    model.load_state_dict(convert_mmpose_state_dict(checkpoint, "rle", config), strict=True)
    inputs = torch.from_numpy(fixture["inputs"])
    with torch.no_grad():
        outputs = {
            "": model(inputs, output_hidden_states=True),
            "_flip": model(inputs.flip(-1), output_hidden_states=True),
        }
    return fixture, outputs


@pytest.mark.golden
@pytest.mark.parametrize("suffix", ["", "_flip"])
def test_golden_full_model_neck_and_head(rle_full, suffix):
    fixture, outputs = rle_full
    output = outputs[suffix]
    neck = output.hidden_states[-1].mean(dim=(2, 3)).numpy()
    np.testing.assert_allclose(neck, fixture["neck_out" + suffix], rtol=1e-4, atol=1e-4)
    raw = torch.cat([output.keypoints, output.sigma_raw], -1).numpy()
    np.testing.assert_allclose(raw, fixture["head_out" + suffix], rtol=0, atol=1e-4)


@pytest.mark.golden
@pytest.mark.parametrize("suffix", ["", "_flip"])
def test_golden_full_model_backbone_float32_noise_bound(rle_full, suffix):
    """Backbone features at the float32 noise level of this 50-layer random network.

    A float64 run of the same network differs from MMPose's float32 `backbone_out` by up to 4.8e-4 (values up to 18),
    so no float32 implementation can promise the README's atol 1e-4 + rtol 1e-4 on every element (see the xfail
    below). Measured across kernels (docs/portability.md): the share of elements beyond it is 0.04 % (default, 2
    threads), 0.07 % (1 thread), 0.83 % (ONEDNN_MAX_CPU_ISA=AVX2, 1 thread), 2.2 % (torch.backends.mkldnn off); the
    largest atol needed with rtol 1e-4 is 2.2e-4 / 3.0e-4 / 5.0e-4 / 6.8e-4. Bounds: < 5 % of elements (2.3x the
    worst) and every element within 1.5e-3 + 1e-4·|ref| (2.2x the worst).
    """
    fixture, outputs = rle_full
    feature_map = outputs[suffix].hidden_states[-1].numpy()
    reference = fixture["backbone_out" + suffix]
    excess = np.abs(feature_map - reference) - (1e-4 + 1e-4 * np.abs(reference))
    assert (excess > 0).mean() < 0.05
    np.testing.assert_allclose(feature_map, reference, rtol=1e-4, atol=1.5e-3)


@pytest.mark.golden
@pytest.mark.xfail(
    reason="float32 accumulation-order noise exceeds atol 1e-4 + rtol 1e-4 on ~0.07% of elements "
    "(a float64 run exceeds it too); reported to the lead",
    strict=False,
)
@pytest.mark.parametrize("suffix", ["", "_flip"])
def test_golden_full_model_backbone_readme_tolerance(rle_full, suffix):
    fixture, outputs = rle_full
    np.testing.assert_allclose(
        outputs[suffix].hidden_states[-1].numpy(), fixture["backbone_out" + suffix], rtol=1e-4, atol=1e-4
    )


@pytest.mark.golden
def test_golden_full_model_keypoints_in_image_pixels(rle_full):
    """End to end with the README's flip averaging and input → image mapping (final keypoints atol 1e-2 px)."""
    fixture, outputs = rle_full
    w_in, h_in = 192, 256
    plain, flipped = outputs[""], outputs["_flip"]
    flip = fixture["flip_indices"]
    back = flipped.keypoints[:, flip].clone()
    back[..., 0] = 1 - back[..., 0] - 1 / w_in
    keypoints_in = ((plain.keypoints + back) / 2).double().numpy() * [w_in, h_in]
    scale, center = fixture["input_scale"].astype(np.float64), fixture["input_center"].astype(np.float64)
    keypoints_image = keypoints_in / [w_in, h_in] * scale[:, None] + center[:, None] - 0.5 * scale[:, None]
    np.testing.assert_allclose(keypoints_image, fixture["keypoints"], rtol=0, atol=1e-2)
    scores = (1 - ((plain.sigma + flipped.sigma[:, flip]) / 2).mean(-1)).numpy()
    np.testing.assert_allclose(scores, fixture["keypoint_scores"], rtol=0, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backbone, dataset", [("resnet50", "coco"), ("resnet101", "coco"), ("resnet152", "coco"),
                          ("mobilenetv2", "coco"), ("resnet50", "mpii")]
)  # fmt: skip
def test_full_size_configs_forward(backbone, dataset):
    config = build_regression_config("rle", backbone, dataset)
    model = RLEForPoseEstimation(config).train()  # batch statistics: a random deep net in eval mode saturates sigma
    w_in, h_in = config.input_size
    with torch.no_grad():
        outputs = model(torch.randn(2, 3, h_in, w_in), labels=torch.rand(2, config.num_labels, 2))
    assert outputs.keypoints.shape == (2, config.num_labels, 2)
    assert torch.isfinite(outputs.loss) and bool(torch.isfinite(outputs.keypoints).all())
