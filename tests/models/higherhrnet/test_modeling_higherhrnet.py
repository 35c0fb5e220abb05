# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HigherHRNet-AE: head structure, two-resolution loss (MMPose 0.29 golden), tiny model, golden w32 forward."""

import copy
import hashlib

import numpy as np
import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from transformers import AutoConfig, AutoModelForPoseEstimation

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.hub.convert_mmpose import build_bottomup_config, convert_bottomup
from hfpose.models.associative_embedding import multi_resolution_ae_loss
from hfpose.models.higherhrnet import HigherHRNetConfig, HigherHRNetForPoseEstimation
from hfpose.models.hrnet import HRNetConfig

TINY_BACKBONE = dict(
    stem_channels=8,
    stage1_channels=4,
    stage1_num_blocks=1,
    hidden_sizes=[4, 8, 16, 32],
    num_modules=[1, 1, 1],
    num_blocks=[1, 1, 1],
)


def tiny_config(**kwargs) -> HigherHRNetConfig:
    return HigherHRNetConfig(backbone_config=HRNetConfig(**TINY_BACKBONE), **kwargs)


def gaussian_targets(batch_size, num_keypoints, size, points):
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    heatmaps = torch.zeros(batch_size, num_keypoints, size, size)
    for b in range(batch_size):
        for x, y in points[b]:
            for k in range(num_keypoints):
                peak = torch.exp(-((xs - x * size) ** 2 + (ys - y * size) ** 2) / 2.0)
                heatmaps[b, k] = torch.maximum(heatmaps[b, k], peak)
    return heatmaps


def synthetic_batch(batch_size=2, num_keypoints=17, size=16, seed=0):
    """Targets at 1/4 (`size`) and 1/2 (`2·size`) for 2 people per image, plus packed AE joints at 1/4."""
    g = torch.Generator().manual_seed(seed)
    points = (torch.rand(batch_size, 2, 2, generator=g) * 0.8 + 0.1).tolist()  # (B, people, xy) in [0.1, 0.9]
    joints = torch.zeros(batch_size, 30, num_keypoints, 2, dtype=torch.long)
    for b in range(batch_size):
        for p, (x, y) in enumerate(points[b]):
            for k in range(num_keypoints):
                joints[b, p, k] = torch.tensor([k * size * size + int(y * size) * size + int(x * size), 1])
    heatmaps = tuple(gaussian_targets(batch_size, num_keypoints, s, points) for s in (size, 2 * size))
    masks = tuple(torch.ones(batch_size, s, s) for s in (size, 2 * size))
    return heatmaps, masks, joints


def test_config_defaults_and_validation():
    config = HigherHRNetConfig()
    assert config.num_deconv_layers == 1 and config.num_basic_blocks == 4
    assert config.heatmap_loss_factors == [1.0, 1.0] and config.push_loss_factor == config.pull_loss_factor == 0.001
    assert config.num_keypoints == 17 and config.backbone_config.hidden_sizes[0] == 32
    assert HigherHRNetConfig.from_variant("w48").backbone_config.hidden_sizes[0] == 48
    with pytest.raises(StrictDataclassClassValidationError, match="heatmap_loss_factors"):
        HigherHRNetConfig(heatmap_loss_factors=[1.0])
    with pytest.raises(StrictDataclassClassValidationError, match="num_deconv_layers"):
        HigherHRNetConfig(num_deconv_layers=0, heatmap_loss_factors=[1.0])


def test_head_structure():
    model = HigherHRNetForPoseEstimation(tiny_config())
    deconv = model.deconv_layers[0][0][0]
    assert isinstance(deconv, torch.nn.ConvTranspose2d) and deconv.bias is None
    assert deconv.weight.shape == (4 + 34, 4, 4, 4)  # concat(features, 17 heatmaps + 17 tags) -> C
    assert (deconv.stride, deconv.padding, deconv.output_padding) == ((2, 2), (1, 1), (0, 0))
    assert len(model.deconv_layers[0]) == 1 + 4
    assert model.final_layers[0].out_channels == 34 and model.final_layers[1].out_channels == 17


def test_shapes_and_head_dataflow():
    torch.manual_seed(0)
    model = HigherHRNetForPoseEstimation(tiny_config()).eval()
    for p in model.parameters():
        p.data.normal_(0, 0.2)
    pixel_values = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        out = model(pixel_values)
        features = model.backbone(pixel_values).feature_maps[0]
        stage0 = model.final_layers[0](features)
        stage1 = model.final_layers[1](model.deconv_layers[0](torch.cat([features, stage0], 1)))
    assert [tuple(h.shape) for h in out.heatmaps] == [(2, 17, 16, 24), (2, 17, 32, 48)]
    assert out.tags.shape == (2, 17, 16, 24) and out.loss is None
    torch.testing.assert_close(torch.cat([out.heatmaps[0], out.tags], 1), stage0)
    torch.testing.assert_close(out.heatmaps[1], stage1)


def test_two_deconv_layers():
    model = HigherHRNetForPoseEstimation(tiny_config(num_deconv_layers=2, heatmap_loss_factors=[1.0, 1.0, 1.0]))
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert [h.shape[-1] for h in out.heatmaps] == [16, 32, 64]
    assert model.deconv_layers[1][0][0].in_channels == 4 + 17


def test_loss_backward_and_decrease():
    torch.manual_seed(0)
    model = HigherHRNetForPoseEstimation(tiny_config()).train()
    pixel_values = torch.randn(2, 3, 64, 64)
    heatmaps, masks, joints = synthetic_batch()
    out = model(pixel_values, target_heatmaps=heatmaps, target_masks=masks, joints=joints)
    torch.testing.assert_close(out.loss, out.loss_heatmap + out.loss_push + out.loss_pull)
    out.loss.backward()
    for parameter in (model.final_layers[0].weight, model.final_layers[1].weight, model.deconv_layers[0][0][0].weight):
        assert parameter.grad.abs().sum() > 0

    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = model(pixel_values, target_heatmaps=heatmaps, target_masks=masks, joints=(joints, joints)).loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_loss_input_errors():
    model = HigherHRNetForPoseEstimation(tiny_config())
    pixel_values = torch.randn(2, 3, 64, 64)
    heatmaps, masks, joints = synthetic_batch()
    with pytest.raises(ValueError, match="target_heatmaps must have 2 entries"):
        model(pixel_values, target_heatmaps=heatmaps[0], target_masks=masks, joints=joints)
    with pytest.raises(ValueError, match=r"target_heatmaps\[1\]"):
        model(pixel_values, target_heatmaps=(heatmaps[0], heatmaps[0]), target_masks=masks, joints=joints)
    with pytest.raises(ValueError, match="missing"):
        model(pixel_values, joints=joints)
    bad = joints.clone()
    bad[1, 0, 3, 0] = 17 * 16 * 16  # one past the end of the 1/4 tag maps
    with pytest.raises(ValueError, match=r"joints\[1, 0\]"):
        model(pixel_values, target_heatmaps=heatmaps, target_masks=masks, joints=bad)


def test_auto_classes_and_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    config = AutoConfig.for_model("hfpose_ae_higherhrnet", backbone_config=TINY_BACKBONE)
    model = AutoModelForPoseEstimation.from_config(config).eval()
    assert isinstance(model, HigherHRNetForPoseEstimation)
    for p in model.parameters():
        p.data.normal_(0, 0.2)
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, HigherHRNetForPoseEstimation)
    pixel_values = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values).heatmaps[1], model(pixel_values).heatmaps[1])


# ----------------------------------------------------------------------------------------------------------------
# golden (bottomup029): loss on stored tensors (F), full HigherHRNet-w32 forward (A) and training loss (E)


@pytest.mark.golden
def test_small_loss_matches_mmpose(golden_dir):
    z = np.load(golden_dir / "bottomup029" / "higherhrnet_w32.npz")
    config = HigherHRNetConfig()
    losses = multi_resolution_ae_loss(
        [torch.from_numpy(z[f"smallloss_outputs_s{s}"]) for s in (0, 1)],
        [torch.from_numpy(z[f"smallloss_targets_s{s}"]) for s in (0, 1)],
        [torch.from_numpy(z[f"smallloss_masks_s{s}"]) for s in (0, 1)],
        torch.from_numpy(z["smallloss_joints_s0"]),
        num_keypoints=config.num_keypoints,
        heatmap_loss_factors=config.heatmap_loss_factors,
        push_loss_factor=config.push_loss_factor,
        pull_loss_factor=config.pull_loss_factor,
        supervise_empty=config.supervise_empty,
        loss_type=config.tag_loss_type,
    )
    rtol = 1e-5
    for s in (0, 1):
        np.testing.assert_allclose(
            losses["heatmap_per_image"][s].numpy(), z[f"smallloss_heatmap_per_image_s{s}"], rtol=rtol
        )
    np.testing.assert_allclose(losses["push_per_image"].numpy(), z["smallloss_push_per_image_s0"], rtol=rtol)
    np.testing.assert_allclose(losses["pull_per_image"].numpy(), z["smallloss_pull_per_image_s0"], rtol=rtol)
    for term in ("heatmap", "push", "pull"):
        np.testing.assert_allclose(losses[f"loss_{term}"].item(), z[f"smallloss_{term}_loss"], rtol=rtol)


@pytest.fixture(scope="module")
def golden_model(golden_dir):
    weights = golden_dir / "bottomup029" / "weights"
    backbone = torch.load(weights / "hrnet_w32_coco_512x512_udp_random.pth", weights_only=True)["state_dict"]
    head = torch.load(weights / "higherhrnet_w32_coco_512x512_udp_random_head.pth", weights_only=True)["state_dict"]
    state_dict = {k: v for k, v in backbone.items() if k.startswith("backbone.")}
    state_dict.update(head)
    config = build_bottomup_config("ae_higherhrnet", "w32")
    model = HigherHRNetForPoseEstimation(config)
    model.load_state_dict(convert_bottomup(state_dict, config), strict=True)
    return model.eval()


def _golden_forward(golden_dir, golden_model, image, flip):
    """Sub-sampled maps and crops atol 1e-4, channel sums rtol 1e-4, both resolutions."""
    z = np.load(golden_dir / "bottomup029" / "higherhrnet_w32.npz")
    pixel_values = np.load(golden_dir / "bottomup029" / "resize.npz")[f"img{image}_input"]
    assert hashlib.sha256(pixel_values.tobytes()).hexdigest() == str(z[f"img{image}_input_sha256"])
    pixel_values = torch.from_numpy(pixel_values)
    with torch.no_grad():
        out = golden_model(pixel_values.flip(-1) if flip else pixel_values)
    prefix = f"img{image}_out_{'flip' if flip else 'orig'}"
    stages = [torch.cat([out.heatmaps[0], out.tags], 1).numpy(), out.heatmaps[1].numpy()]
    for s, full in enumerate(stages):
        assert tuple(full.shape) == tuple(z[f"{prefix}_s{s}_shape"])
        np.testing.assert_allclose(full[..., 1::4, 2::4], z[f"{prefix}_s{s}_sub4"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(full.astype(np.float64).sum((0, 2, 3)), z[f"{prefix}_s{s}_channel_sum"], rtol=1e-4)
        np.testing.assert_allclose(
            np.abs(full).astype(np.float64).sum((0, 2, 3)), z[f"{prefix}_s{s}_channel_abs_sum"], rtol=1e-4
        )
        if f"{prefix}_s{s}_crop" in z.files:
            y0, x0 = z[f"{prefix}_s{s}_crop_yx0"]
            crop = full[..., y0 : y0 + 32, x0 : x0 + 32]
            np.testing.assert_allclose(crop, z[f"{prefix}_s{s}_crop"], atol=1e-4, rtol=0)


@pytest.mark.golden
def test_golden_forward_landscape(golden_dir, golden_model):
    _golden_forward(golden_dir, golden_model, image=0, flip=False)


@pytest.mark.golden
@pytest.mark.slow
@pytest.mark.parametrize("image, flip", [(0, True), (1, False), (1, True)])
def test_golden_forward_all(golden_dir, golden_model, image, flip):
    _golden_forward(golden_dir, golden_model, image, flip)


def _golden_training_loss(golden_dir, golden_model, mode):
    """Loss E end to end (rtol 1e-3) and channel sums of both stages (rtol 1e-4)."""
    z = np.load(golden_dir / "bottomup029" / "higherhrnet_w32.npz")
    t = np.load(golden_dir / "bottomup029" / "train_targets.npz")
    mean, std = torch.tensor([0.485, 0.456, 0.406])[:, None, None], torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    images = []
    for i in (0, 1):
        rgb = t[f"aug_img{i}_affine_rgb"]
        rgb = np.ascontiguousarray(rgb[:, ::-1] if t[f"aug_img{i}_flipped"] else rgb)
        image = torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0).sub_(mean).div_(std)
        assert hashlib.sha256(image.numpy().tobytes()).hexdigest() == str(t[f"aug_img{i}_input_sha256"])
        images.append(image)

    def stack(name):
        return torch.from_numpy(np.stack([t[name.format(i=i)] for i in (0, 1)]))

    # train mode updates the BN running statistics: work on a copy of the shared model
    model = copy.deepcopy(golden_model).train() if mode == "trainbn" else golden_model
    with torch.no_grad():
        out = model(
            torch.stack(images),
            target_heatmaps=tuple(stack(f"aug_img{{i}}_target_heatmaps_{r}") for r in (128, 256)),
            target_masks=tuple(stack(f"aug_img{{i}}_target_mask_{r}") for r in (128, 256)),
            joints=tuple(stack(f"aug_img{{i}}_target_joints_{r}") for r in (128, 256)),
        )
    for term in ("heatmap", "push", "pull"):
        np.testing.assert_allclose(getattr(out, f"loss_{term}").item(), z[f"loss_{mode}_{term}_loss"], rtol=1e-3)
    # Channel sums of O(1) values over 128x128 / 256x256 maps: a sum that cancels to ~45 (a tag channel) has a
    # relative error of 1.04e-4 with torch.backends.mkldnn off. atol 5e-2 is 2.6x the largest absolute error of any
    # channel sum across kernels and threads (1.9e-2, docs/portability.md); a wrong layer gives errors of O(10-1000).
    stage0 = torch.cat([out.heatmaps[0], out.tags], 1).double().sum((2, 3)).numpy()
    np.testing.assert_allclose(stage0, z[f"loss_{mode}_out_s0_channel_sum"], rtol=1e-4, atol=5e-2)
    stage1 = out.heatmaps[1].double().sum((2, 3)).numpy()
    np.testing.assert_allclose(stage1, z[f"loss_{mode}_out_s1_channel_sum"], rtol=1e-4, atol=5e-2)


@pytest.mark.golden
def test_golden_training_loss_train_mode_batchnorm(golden_dir, golden_model):
    _golden_training_loss(golden_dir, golden_model, "trainbn")


@pytest.mark.golden
@pytest.mark.slow
def test_golden_training_loss_eval_mode_batchnorm(golden_dir, golden_model):
    _golden_training_loss(golden_dir, golden_model, "evalbn")
