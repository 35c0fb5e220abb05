"""Shared checks of the three integral models (IPR, DSNT, Debias-IPR), called from their test modules.

Tiny configs: ResNet depths (1, 1, 1, 1), input 64x64 (the integral configs need multiples of 32), two deconvolutions
of 8 channels -> 8x8 heatmaps. Golden head checks use a tiny backbone whose last stage has the 2048 channels of the
fixture features and feed the fixture's `feats` to `forward_head`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForPoseEstimation

from hfpose.codecs.flip import flip_coordinates, flip_heatmaps
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.integral_utils import (
    debias_coordinates,
    flat_softmax,
    heatmap_mse_loss,
    js_divergence_loss,
    smooth_l1_coordinate_loss,
    soft_argmax,
)

HEAD_WEIGHTS = "models/integral_head_mmpose.pth"
MMPOSE_HEAD_PREFIX = "simplebaseline_head."


def tiny_config(config_class, **overrides):
    kwargs = dict(
        backbone_config=resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 8, 8, 16], embedding_size=8),
        input_size=[64, 64],
        deconv_out_channels=[8, 8],
        deconv_kernel_sizes=[4, 4],
    )
    kwargs.update(overrides)
    return config_class(**kwargs)


def head_golden_config(config_class, **overrides):
    """Full-size head (2048 -> 3 x 256 deconvolutions -> 17) on a tiny backbone ending in 2048 channels."""
    backbone = resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 8, 8, 2048], embedding_size=8)
    return config_class(backbone_config=backbone, **overrides)


def random_targets(model, batch_size=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    num_keypoints = model.config.num_keypoints
    width, height = model.config.heatmap_size
    labels = torch.rand(batch_size, num_keypoints, 2, generator=generator)
    weights = (torch.rand(batch_size, num_keypoints, generator=generator) > 0.3).float()
    target = torch.rand(batch_size, num_keypoints, height, width, generator=generator)
    target = target / target.sum(dim=(-2, -1), keepdim=True)
    return labels, weights, target


def expected_keypoints(logits, config, debias):
    coords = soft_argmax(flat_softmax(logits, config.beta))
    return debias_coordinates(coords, logits) if debias else coords


# ------------------------------------------------------------------------------------------------ tiny-model checks


def check_forward_shapes_and_decoding(config_class, model_class, debias):
    torch.manual_seed(0)
    model = model_class(tiny_config(config_class)).eval()
    pixel_values = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        outputs = model(pixel_values)
    num_keypoints = model.config.num_keypoints
    assert num_keypoints == 17 and model.config.num_labels == 17
    assert model.config.heatmap_size == [8, 8]
    assert outputs.keypoints.shape == (2, num_keypoints, 2)
    assert outputs.scores.shape == (2, num_keypoints)
    assert outputs.heatmaps.shape == outputs.logits.shape == (2, num_keypoints, 8, 8)
    assert outputs.loss is None and outputs.loss_coordinates is None and outputs.loss_heatmap is None
    torch.testing.assert_close(outputs.scores, torch.ones(2, num_keypoints), atol=0, rtol=0)
    torch.testing.assert_close(outputs.heatmaps.sum(dim=(-2, -1)), torch.ones(2, num_keypoints), atol=1e-5, rtol=0)
    torch.testing.assert_close(outputs.heatmaps, flat_softmax(outputs.logits, model.config.beta), atol=1e-7, rtol=0)
    torch.testing.assert_close(
        outputs.keypoints, expected_keypoints(outputs.logits, model.config, debias), atol=1e-6, rtol=0
    )
    as_tuple = model(pixel_values, return_dict=False)
    assert isinstance(as_tuple, tuple)
    torch.testing.assert_close(as_tuple[0], outputs.keypoints, atol=1e-6, rtol=0)
    with_hidden = model(pixel_values, output_hidden_states=True)
    assert len(with_hidden.hidden_states) == 5  # stem + 4 stages
    # MMPose HeatmapHead init: (de)convolutions normal(0, 0.001), bias 0, BatchNorm (1, 0).
    head = model.head
    assert 0.0005 < head.final_layer.weight.std().item() < 0.002 and head.final_layer.bias.abs().max().item() == 0
    assert 0.0005 < head.deconv_layers[0].weight.std().item() < 0.002
    assert torch.equal(head.deconv_layers[1].weight, torch.ones(8))
    assert torch.equal(head.deconv_layers[1].bias, torch.zeros(8))


def check_loss_and_backward(config_class, model_class, heatmap_loss):
    torch.manual_seed(0)
    model = model_class(tiny_config(config_class, coordinate_loss_weight=2.0, heatmap_loss_weight=0.5)).train()
    labels, weights, target = random_targets(model)
    outputs = model(torch.randn(2, 3, 64, 64), labels=labels, label_weights=weights, target_heatmaps=target)
    expected_coordinates = 2.0 * smooth_l1_coordinate_loss(outputs.keypoints, labels, weights)
    expected_heatmap = 0.5 * heatmap_loss(outputs.heatmaps, target, weights)
    torch.testing.assert_close(outputs.loss_coordinates, expected_coordinates, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(outputs.loss_heatmap, expected_heatmap, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(outputs.loss, expected_coordinates + expected_heatmap, rtol=1e-6, atol=1e-8)
    outputs.loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.head.final_layer.weight.grad.abs().sum() > 0
    assert model.backbone.embedder.embedder.convolution.weight.grad.abs().sum() > 0


def check_loss_options_and_bad_inputs(config_class, model_class):
    torch.manual_seed(0)
    model = model_class(tiny_config(config_class)).eval()
    pixel_values = torch.randn(2, 3, 64, 64)
    labels, weights, target = random_targets(model)
    with pytest.raises(ValueError, match="target_heatmaps"):
        model(pixel_values, labels=labels, label_weights=weights)
    with pytest.raises(ValueError, match="labels must have shape"):
        model(pixel_values, labels=labels[:, :3], target_heatmaps=target)
    with pytest.raises(ValueError, match="label_weights must have shape"):
        model(pixel_values, labels=labels, label_weights=weights[:, :3], target_heatmaps=target)
    with pytest.raises(ValueError, match="target_heatmaps must have the shape"):
        model(pixel_values, labels=labels, target_heatmaps=target[..., :4])
    with pytest.raises(ValueError, match="without labels"):
        model(pixel_values, target_heatmaps=target)
    with pytest.raises(ValueError, match="pixel_values"):
        model(pixel_values[0])
    # label_weights default to ones; heatmap_loss_weight=0 needs no target heatmaps and gives the coordinate loss.
    coordinates_only = model_class(tiny_config(config_class, heatmap_loss_weight=0.0)).eval()
    coordinates_only.load_state_dict(model.state_dict())
    with torch.no_grad():
        out = coordinates_only(pixel_values, labels=labels)
        full = model(pixel_values, labels=labels, label_weights=torch.ones(2, 17), target_heatmaps=target)
    assert out.loss_heatmap is None
    torch.testing.assert_close(out.loss, out.loss_coordinates, atol=0, rtol=0)
    torch.testing.assert_close(out.loss, full.loss_coordinates, atol=1e-7, rtol=1e-6)


def check_config_validation(config_class):
    for kwargs, message in [
        ({"input_size": [48, 64]}, "multiples of the backbone stride"),
        ({"input_size": [64]}, "input_size"),
        ({"deconv_kernel_sizes": [4, 4, 5]}, r"deconv_kernel_sizes\[2\] = 5"),
        ({"deconv_kernel_sizes": [4, 4]}, "same length"),
        ({"beta": 0.0}, "beta must be positive"),
        ({"heatmap_loss_weight": -1.0}, "heatmap_loss_weight"),
        ({"flip_indices": [0] * 17}, "flip_indices"),
        ({"dataset": "crowdpose"}, "crowdpose"),
    ]:
        with pytest.raises(ValueError, match=message):
            config_class(**kwargs)
    mpii = config_class(dataset="mpii")
    assert mpii.num_keypoints == 16 and mpii.flip_indices == [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]


def check_save_load_and_auto(config_class, model_class, model_type, tmp_path):
    torch.manual_seed(0)
    model = model_class(tiny_config(config_class, beta=3.0)).eval()
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == model_type and saved["beta"] == 3.0 and saved["input_size"] == [64, 64]
    assert AutoConfig.from_pretrained(tmp_path).__class__ is config_class
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert type(reloaded) is model_class
    assert not any("linspace" in key for key in reloaded.state_dict())
    pixel_values = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        before, after = model(pixel_values), reloaded(pixel_values)
    torch.testing.assert_close(after.logits, before.logits, atol=0, rtol=0)
    torch.testing.assert_close(after.keypoints, before.keypoints, atol=0, rtol=0)
    assert isinstance(AutoConfig.for_model(model_type), config_class)


# ------------------------------------------------------------------------------------------------ golden head checks


def load_head_weights(golden_dir):
    """MMPose head weights (`head.` stripped = the fixtures' head keys) -> hfpose `head.*` keys, float32."""
    state_dict = torch.load(golden_dir / HEAD_WEIGHTS, map_location="cpu", weights_only=True)["state_dict"]
    head = {key[len("head.") :]: value for key, value in state_dict.items() if key.startswith("head.")}
    converted = {}
    for key, value in head.items():
        if key.startswith("linspace_"):
            continue  # checked by tests/hub/test_conversion_integral.py, computed on the fly by hfpose
        assert key.startswith(MMPOSE_HEAD_PREFIX), key
        converted["head." + key[len(MMPOSE_HEAD_PREFIX) :]] = value.float() if value.is_floating_point() else value
    return converted


def build_golden_head_model(config_class, model_class, golden_dir, **overrides):
    model = model_class(head_golden_config(config_class, **overrides)).eval()
    result = model.load_state_dict(load_head_weights(golden_dir), strict=False)
    assert result.unexpected_keys == []
    assert all(key.startswith("backbone.") for key in result.missing_keys)
    return model


def assert_loss_close(actual, expected, name):
    expected = float(expected)
    atol = 1e-6 if abs(expected) < 1e-3 else 0.0
    assert abs(float(actual) - expected) <= atol + 1e-4 * abs(expected), f"{name}: {float(actual)} vs {expected}"


def check_golden_head(
    model,
    fixture,
    heatmap_loss_key,
    debias,
    coordinate_loss_key="loss_term0_SmoothL1Loss",
    check_network_predict=True,
    heatmap_atol=1e-5,
    coordinate_atol=1e-5,
):
    """Compare `model.forward_head` on the fixture features with MMPose's head outputs, flip test and losses.

    The `predict_*` keypoints (atol 1e-3 input px) are checked twice: decoded from MMPose's own `forward_logits`
    (isolates the decoding and flip test), and, if `check_network_predict`, from this model's forward pass.
    `heatmap_atol` / `coordinate_atol` bound the network's softmax heatmaps and their expected coordinates (normalized
    units); a sharper softmax (Debias-IPR, beta = 10) amplifies the logits' float32 noise (docs/portability.md).
    """
    meta = json.loads(str(fixture["meta_json"]))
    config = model.config
    assert config.beta == meta["beta"]
    assert list(config.input_size) == meta["input_size_wh"] and config.heatmap_size == meta["heatmap_size_wh"]
    flip_indices = fixture["flip_indices"].tolist()
    assert config.flip_indices == flip_indices
    input_size = np.asarray(meta["input_size_wh"], dtype=np.float64)

    with torch.no_grad():
        out = model.forward_head(torch.from_numpy(fixture["feats"]).float())
        out_flip = model.forward_head(torch.from_numpy(fixture["feats_flip"]).float())
        np.testing.assert_allclose(out.logits.numpy(), fixture["forward_logits"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(out.heatmaps.numpy(), fixture["forward_heatmaps"], atol=heatmap_atol, rtol=0)
        np.testing.assert_allclose(out.keypoints.numpy(), fixture["forward_coords"], atol=coordinate_atol, rtol=0)
        np.testing.assert_allclose(
            out_flip.heatmaps.numpy(), fixture["forward_heatmaps_flip"], atol=heatmap_atol, rtol=0
        )
        np.testing.assert_allclose(
            out_flip.keypoints.numpy(), fixture["forward_coords_flip"], atol=coordinate_atol, rtol=0
        )

        # Flip test, as the processor does it: x <- 1 - x - 1 / w_in (input width, not heatmap width), joints permuted.
        flip_back = flip_coordinates(out_flip.keypoints, flip_indices, True, tuple(meta["input_size_wh"]))
        np.testing.assert_allclose(flip_back.numpy(), fixture["forward_coords_flip_back"], atol=coordinate_atol, rtol=0)
        if check_network_predict:
            keypoints = (out.keypoints.double().numpy() + flip_back.double().numpy()) / 2 * input_size
            np.testing.assert_allclose(keypoints, fixture["predict_keypoints"], atol=1e-3, rtol=0)
            np.testing.assert_allclose(out.keypoints.double().numpy() * input_size,
                                       fixture["predict_noflip_keypoints"], atol=1e-3, rtol=0)  # fmt: skip
        # Decoding and flip test alone, from MMPose's own logits / flipped coordinates.
        decoded = expected_keypoints(torch.from_numpy(fixture["forward_logits"]), config, debias).double()
        np.testing.assert_allclose(decoded.numpy() * input_size, fixture["predict_noflip_keypoints"], atol=1e-3, rtol=0)
        reference_flip = torch.from_numpy(fixture["forward_coords_flip"]).double()
        decoded_back = flip_coordinates(reference_flip, flip_indices, True, tuple(meta["input_size_wh"]))
        np.testing.assert_allclose(decoded_back.numpy(), fixture["forward_coords_flip_back"], atol=1e-6, rtol=0)
        np.testing.assert_allclose(((decoded + decoded_back) / 2).numpy() * input_size,
                                   fixture["predict_keypoints"], atol=1e-3, rtol=0)  # fmt: skip
        np.testing.assert_allclose(out.scores.numpy(), fixture["predict_scores"], atol=1e-5, rtol=0)
        np.testing.assert_allclose(out.scores.numpy(), fixture["predict_noflip_scores"], atol=1e-5, rtol=0)
        # Averaged heatmaps (shift_heatmap=True only moves the flipped maps one column right; keypoints unaffected).
        average = (out.heatmaps + flip_heatmaps(out_flip.heatmaps, flip_indices, shift_heatmap=True)) / 2
        np.testing.assert_allclose(average.numpy(), fixture["predict_avg_heatmaps"], atol=heatmap_atol, rtol=0)

        # Losses on the codec's targets (labels = input-space keypoints / input size).
        labels = torch.from_numpy(fixture["loss_keypoint_labels"]).float()
        np.testing.assert_allclose(
            fixture["loss_keypoints_input_space"] / input_size, fixture["loss_keypoint_labels"], atol=1e-6, rtol=0
        )
        loss_out = model.forward_head(
            torch.from_numpy(fixture["feats"]).float(),
            labels=labels,
            label_weights=torch.from_numpy(fixture["loss_keypoint_weights"]).float(),
            target_heatmaps=torch.from_numpy(fixture["loss_gt_heatmaps"]).float(),
        )
    coordinate_reference = fixture[coordinate_loss_key]
    assert_loss_close(loss_out.loss_coordinates, coordinate_reference, coordinate_loss_key)
    if heatmap_loss_key is None:
        assert loss_out.loss_heatmap is None
    else:
        assert_loss_close(loss_out.loss_heatmap, fixture[heatmap_loss_key], heatmap_loss_key)
    assert_loss_close(loss_out.loss, fixture["loss_kpt"], "loss_kpt")
    return {
        "heatmaps": float(np.abs(out.heatmaps.numpy() - fixture["forward_heatmaps"]).max()),
        "coords": float(np.abs(out.keypoints.numpy() - fixture["forward_coords"]).max()),
    }


__all__ = [
    "tiny_config",
    "check_forward_shapes_and_decoding",
    "check_loss_and_backward",
    "check_loss_options_and_bad_inputs",
    "check_config_validation",
    "check_save_load_and_auto",
    "build_golden_head_model",
    "check_golden_head",
    "heatmap_mse_loss",
    "js_divergence_loss",
]
