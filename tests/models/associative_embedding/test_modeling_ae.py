# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HRNet-AE: the AE / heatmap loss (hand-computed and MMPose 0.29 golden), the model (tiny and golden w32)."""

import copy
import hashlib
import math

import numpy as np
import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForPoseEstimation

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.hub.convert_mmpose import build_bottomup_config, convert_bottomup
from hfpose.models.associative_embedding import (
    AssociativeEmbeddingConfig,
    AssociativeEmbeddingForPoseEstimation,
    associative_embedding_loss,
    masked_heatmap_loss,
    multi_resolution_ae_loss,
)
from hfpose.models.hrnet import HRNetConfig

TINY_BACKBONE = dict(
    stem_channels=8,
    stage1_channels=4,
    stage1_num_blocks=1,
    hidden_sizes=[4, 8, 16, 32],
    num_modules=[1, 1, 1],
    num_blocks=[1, 1, 1],
)


def tiny_config(**kwargs) -> AssociativeEmbeddingConfig:
    return AssociativeEmbeddingConfig(backbone_config=HRNetConfig(**TINY_BACKBONE), **kwargs)


def synthetic_targets(batch_size, num_keypoints, size, num_people=2, seed=0):
    """Gaussian heatmap targets (σ = 1), full masks and packed AE joints for random people."""
    g = torch.Generator().manual_seed(seed)
    heatmaps = torch.zeros(batch_size, num_keypoints, size, size)
    joints = torch.zeros(batch_size, 30, num_keypoints, 2, dtype=torch.long)
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    for b in range(batch_size):
        for p in range(num_people):
            points = torch.randint(1, size - 1, (num_keypoints, 2), generator=g)
            for k, (x, y) in enumerate(points.tolist()):
                peak = torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / 2.0)
                heatmaps[b, k] = torch.maximum(heatmaps[b, k], peak)
                joints[b, p, k] = torch.tensor([k * size * size + y * size + x, 1])
    return heatmaps, torch.ones(batch_size, size, size), joints


# ----------------------------------------------------------------------------------------------------------------
# loss functions, hand-computed


def test_masked_heatmap_loss_by_hand():
    pred = torch.zeros(1, 2, 2, 2)
    target = torch.zeros(1, 2, 2, 2)
    target[0, 0, 0, 0] = 1.0  # squared error 1 at (0, 0) of channel 0
    target[0, 1, 1, 1] = 2.0  # squared error 4 at (1, 1) of channel 1, masked out
    mask = torch.tensor([[[1.0, 1.0], [1.0, 0.0]]])
    assert masked_heatmap_loss(pred, target, mask).item() == pytest.approx(1 / 8)
    # supervise_empty=False drops channels whose target is all zero (from the sum, not from the mean)
    target[0, 1] = 0
    pred[0, 1] = 3.0
    assert masked_heatmap_loss(pred, target, mask).item() == pytest.approx((1 + 3 * 9) / 8)
    assert masked_heatmap_loss(pred, target, mask, supervise_empty=False).item() == pytest.approx(1 / 8)


def test_masked_heatmap_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match="target_heatmaps"):
        masked_heatmap_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 3), torch.ones(1, 4, 4))
    with pytest.raises(ValueError, match="masks"):
        masked_heatmap_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), torch.ones(1, 1, 4, 4))


def _joints(rows, slots=3):
    joints = torch.zeros(1, len(rows) + 1, slots, 2, dtype=torch.long)  # one extra empty person slot
    for m, row in enumerate(rows):
        for s, index in enumerate(row):
            joints[0, m, s] = torch.tensor([index, 1])
    return joints


def test_associative_embedding_loss_by_hand():
    tags = torch.tensor([[1.0, 3.0, 5.0, 7.0]])
    # person A: tags 1, 3 -> mean 2, pull 1; person B: tag 5 -> mean 5, pull 0
    push, pull = associative_embedding_loss(tags, _joints([[0, 1], [2]]))
    assert pull.item() == pytest.approx(0.5)
    assert push.item() == pytest.approx(2 * math.exp(-9) / 2 * 0.5)  # pairs p != q, halved
    push_max, _ = associative_embedding_loss(tags, _joints([[0, 1], [2]]), loss_type="max")
    assert push_max.item() == 0.0  # max(0, 1 - |2 - 5|)
    push_max, _ = associative_embedding_loss(torch.tensor([[1.0, 1.5, 7.0, 7.0]]), _joints([[0], [1]]), "max")
    assert push_max.item() == pytest.approx(0.5 * 0.5)


def test_associative_embedding_loss_edge_cases():
    tags = torch.tensor([[1.0, 3.0, 5.0, 7.0]])
    push, pull = associative_embedding_loss(tags, _joints([[0, 1, 3]]))  # one person: push 0
    assert push.item() == 0.0
    assert pull.item() == pytest.approx(np.var([1.0, 3.0, 7.0]))
    push, pull = associative_embedding_loss(tags, _joints([]))  # nobody
    assert push.item() == 0.0 and pull.item() == 0.0
    # the slot of an entry does not matter (MMPose 0.x packs entries, 1.x keeps them at slot k)
    packed = _joints([[0, 1], [2]])
    spread = torch.zeros_like(packed)
    spread[0, 0, 2], spread[0, 0, 0], spread[0, 2, 1] = packed[0, 0, 0], packed[0, 0, 1], packed[0, 1, 0]
    torch.testing.assert_close(associative_embedding_loss(tags, spread), associative_embedding_loss(tags, packed))


def test_associative_embedding_loss_gradients():
    torch.manual_seed(0)
    tags = torch.randn(2, 12, dtype=torch.float64, requires_grad=True)
    joints = torch.zeros(2, 4, 3, 2, dtype=torch.long)
    joints[0, 0] = torch.tensor([[0, 1], [5, 1], [0, 0]])
    joints[0, 1] = torch.tensor([[3, 1], [7, 1], [11, 1]])
    joints[1, 2] = torch.tensor([[2, 1], [4, 1], [6, 1]])
    assert torch.autograd.gradcheck(lambda t: associative_embedding_loss(t, joints), (tags,))
    # pull gradient by hand: d/dt mean((t - μ)²) = 2 (t − μ) / n (the μ term cancels)
    t = torch.tensor([[1.0, 4.0, 0.0]], requires_grad=True)
    _, pull = associative_embedding_loss(t, _joints([[0, 1]]))
    pull.sum().backward()
    torch.testing.assert_close(t.grad, torch.tensor([[2 * (1 - 2.5) / 2, 2 * (4 - 2.5) / 2, 0.0]]))


@pytest.mark.parametrize(
    "joints, message",
    [
        (torch.zeros(1, 2, 3), "shape"),
        (torch.zeros(2, 2, 3, 2, dtype=torch.long), "shape"),
        (torch.zeros(1, 2, 3, 2), "integer"),
        (torch.tensor([[[[4, 1]]]]), r"joints\[0, 0\]"),
        (torch.tensor([[[[-1, 1]]]]), "flat index"),
    ],
)
def test_associative_embedding_loss_rejects_bad_joints(joints, message):
    with pytest.raises(ValueError, match=message):
        associative_embedding_loss(torch.zeros(1, 4), joints)
    with pytest.raises(ValueError, match="loss_type"):
        associative_embedding_loss(torch.zeros(1, 4), torch.zeros(1, 1, 1, 2, dtype=torch.long), "log")


# ----------------------------------------------------------------------------------------------------------------
# golden: MMPose 0.29 MultiLossFactory on stored tensors (bottomup029 section F), rtol 1e-5


@pytest.mark.golden
def test_small_loss_matches_mmpose(golden_dir):
    z = np.load(golden_dir / "bottomup029" / "hrnet_w32.npz")
    losses = multi_resolution_ae_loss(
        [torch.from_numpy(z["smallloss_outputs_s0"])],
        [torch.from_numpy(z["smallloss_targets_s0"])],
        [torch.from_numpy(z["smallloss_masks_s0"])],
        torch.from_numpy(z["smallloss_joints_s0"]),
        num_keypoints=17,
        heatmap_loss_factors=[1.0],
        push_loss_factor=0.001,
        pull_loss_factor=0.001,
    )
    rtol = 1e-5
    np.testing.assert_allclose(losses["heatmap_per_image"][0].numpy(), z["smallloss_heatmap_per_image_s0"], rtol=rtol)
    np.testing.assert_allclose(losses["push_per_image"].numpy(), z["smallloss_push_per_image_s0"], rtol=rtol, atol=0)
    np.testing.assert_allclose(losses["pull_per_image"].numpy(), z["smallloss_pull_per_image_s0"], rtol=rtol)
    for term in ("heatmap", "push", "pull"):
        np.testing.assert_allclose(losses[f"loss_{term}"].item(), z[f"smallloss_{term}_loss"], rtol=rtol)


@pytest.mark.golden
def test_mmpose_1x_ae_head(golden_dir):
    """MMPose 1.x `AssociativeEmbeddingHead` (heads/ae_head.*): same 1x1 conv and 17+17 channel split as our
    `final_layer`; its pull loss is ours summed over images (÷(N + 1e-6)); its push adds the N diagonal pairs."""
    z = np.load(golden_dir / "heads" / "ae_head.npz")
    weights = {k: v.float() for k, v in load_file(golden_dir / "heads" / "ae_head.safetensors").items()}
    model = AssociativeEmbeddingForPoseEstimation(AssociativeEmbeddingConfig())
    converted = convert_bottomup({f"head.{k}": v for k, v in weights.items()}, model.config, strict=False)
    assert sorted(converted) == ["final_layer.bias", "final_layer.weight"]
    model.load_state_dict(converted, strict=False)
    with torch.no_grad():
        for suffix in ("", "_flip"):
            out = model.final_layer(torch.from_numpy(z[f"feats{suffix}"])).numpy()
            np.testing.assert_allclose(out[:, :17], z[f"forward_heatmaps{suffix}"], atol=1e-5, rtol=0)
            np.testing.assert_allclose(out[:, 17:], z[f"forward_tags{suffix}"], atol=1e-5, rtol=0)

    tags = torch.from_numpy(z["forward_tags"])
    num_people = [z[f"loss_keypoint_indices_{b}"].shape[0] for b in range(2)]
    joints = torch.zeros(2, max(num_people), 17, 2, dtype=torch.long)
    for b, n in enumerate(num_people):
        indices = torch.from_numpy(z[f"loss_keypoint_indices_{b}"])
        joints[b, :n, :, 0] = indices[..., 0] + torch.arange(17)[None] * (64 * 96)  # 1.x indices are per channel
        joints[b, :n, :, 1] = (indices[..., 1] > 0).long()
    push, pull = associative_embedding_loss(tags, joints)
    np.testing.assert_allclose((0.001 * pull).sum().item(), z["loss_pull"], rtol=1e-5)
    n = torch.tensor(num_people, dtype=torch.float64)
    push_1x = 0.001 * 0.5 * ((2 * push.double() * n * (n - 1) + n) / (n * (n - 1) + 1e-6)).sum()
    np.testing.assert_allclose(push_1x.item(), z["loss_push"], rtol=1e-5)


# ----------------------------------------------------------------------------------------------------------------
# tiny model


def test_config_defaults_and_validation():
    config = AssociativeEmbeddingConfig()
    assert config.num_keypoints == 17 and config.num_labels == 17
    assert config.flip_indices == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    assert config.heatmap_loss_factors == [1.0] and config.push_loss_factor == config.pull_loss_factor == 0.001
    assert config.supervise_empty and config.tag_loss_type == "exp"
    assert config.backbone_config.hidden_sizes == [32, 64, 128, 256]
    assert AssociativeEmbeddingConfig.from_variant("w48").backbone_config.hidden_sizes[0] == 48
    with pytest.raises(StrictDataclassClassValidationError, match="heatmap_loss_factors"):
        AssociativeEmbeddingConfig(heatmap_loss_factors=[1.0, 1.0])
    with pytest.raises(StrictDataclassClassValidationError, match="tag_loss_type"):
        AssociativeEmbeddingConfig(tag_loss_type="log")
    with pytest.raises(StrictDataclassClassValidationError, match="branch1"):
        AssociativeEmbeddingConfig(backbone_config=HRNetConfig(out_features=["branch2"]))


def test_shapes_and_outputs():
    torch.manual_seed(0)
    model = AssociativeEmbeddingForPoseEstimation(tiny_config()).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 96))
        as_tuple = model(torch.randn(2, 3, 64, 96), return_dict=False)
    assert len(out.heatmaps) == 1 and out.heatmaps[0].shape == (2, 17, 16, 24)
    assert out.tags.shape == (2, 17, 16, 24)
    assert out.loss is None and out.loss_push is None
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    # heatmaps and tags are the two halves of final_layer's output
    with torch.no_grad():
        features = model.backbone(torch.ones(1, 3, 64, 64)).feature_maps[0]
        full = model.final_layer(features)
        out = model(torch.ones(1, 3, 64, 64))
    torch.testing.assert_close(torch.cat([out.heatmaps[0], out.tags], 1), full)


def test_loss_backward_and_decrease():
    torch.manual_seed(0)
    model = AssociativeEmbeddingForPoseEstimation(tiny_config()).train()
    pixel_values = torch.randn(2, 3, 64, 64)
    heatmaps, masks, joints = synthetic_targets(2, 17, 16)
    out = model(pixel_values, target_heatmaps=(heatmaps,), target_masks=(masks,), joints=joints)
    torch.testing.assert_close(out.loss, out.loss_heatmap + out.loss_push + out.loss_pull)
    out.loss.backward()
    assert model.final_layer.weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0

    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = model(pixel_values, target_heatmaps=(heatmaps,), target_masks=(masks,), joints=joints).loss
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_loss_input_errors():
    model = AssociativeEmbeddingForPoseEstimation(tiny_config())
    pixel_values = torch.randn(1, 3, 64, 64)
    heatmaps, masks, joints = synthetic_targets(1, 17, 16)
    with pytest.raises(ValueError, match="missing"):
        model(pixel_values, target_heatmaps=(heatmaps,), target_masks=(masks,))
    with pytest.raises(ValueError, match="one per output resolution"):
        model(pixel_values, target_heatmaps=(heatmaps, heatmaps), target_masks=(masks,), joints=joints)
    with pytest.raises(ValueError, match=r"target_heatmaps\[0\]"):
        model(pixel_values, target_heatmaps=(heatmaps[:, :5],), target_masks=(masks,), joints=joints)
    with pytest.raises(ValueError, match="masks"):
        model(pixel_values, target_heatmaps=(heatmaps,), target_masks=(masks[:, :8],), joints=joints)
    with pytest.raises(TypeError, match="target_masks"):
        model(pixel_values, target_heatmaps=(heatmaps,), target_masks=[masks.numpy()], joints=joints)
    # a single tensor is accepted for the single-resolution model
    out = model(pixel_values, target_heatmaps=heatmaps, target_masks=masks, joints=joints)
    assert out.loss is not None


def test_auto_classes_and_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    config = AutoConfig.for_model("hfpose_ae_hrnet", backbone_config=TINY_BACKBONE)
    assert isinstance(config, AssociativeEmbeddingConfig)
    model = AutoModelForPoseEstimation.from_config(config).eval()
    assert isinstance(model, AssociativeEmbeddingForPoseEstimation)
    for p in model.parameters():
        p.data.normal_(0, 0.2)
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForPoseEstimation.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, AssociativeEmbeddingForPoseEstimation)
    assert reloaded.config.backbone_config.hidden_sizes == [4, 8, 16, 32]
    assert reloaded.config.id2label[5] == "left_shoulder"
    pixel_values = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values).tags, model(pixel_values).tags)


# ----------------------------------------------------------------------------------------------------------------
# golden: full HRNet-w32 AE with the stored random weights (bottomup029 sections A and E)


@pytest.fixture(scope="module")
def golden_model(golden_dir):
    checkpoint = torch.load(
        golden_dir / "bottomup029" / "weights" / "hrnet_w32_coco_512x512_udp_random.pth", weights_only=True
    )
    config = build_bottomup_config("ae_hrnet", "w32")
    model = AssociativeEmbeddingForPoseEstimation(config)
    model.load_state_dict(convert_bottomup(checkpoint, config), strict=True)
    return model.eval()


def _check_outputs(out, z, prefix):
    """Sub-sampled maps and crops atol 1e-4, channel sums rtol 1e-4 (bottomup029 tolerances)."""
    full = torch.cat([out.heatmaps[0], out.tags], 1).numpy()
    assert tuple(full.shape) == tuple(z[f"{prefix}_s0_shape"])
    np.testing.assert_allclose(full[..., 1::4, 2::4], z[f"{prefix}_s0_sub4"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(full.astype(np.float64).sum((0, 2, 3)), z[f"{prefix}_s0_channel_sum"], rtol=1e-4)
    np.testing.assert_allclose(
        np.abs(full).astype(np.float64).sum((0, 2, 3)), z[f"{prefix}_s0_channel_abs_sum"], rtol=1e-4
    )
    if f"{prefix}_s0_crop" in z.files:
        y0, x0 = z[f"{prefix}_s0_crop_yx0"]
        np.testing.assert_allclose(full[..., y0 : y0 + 32, x0 : x0 + 32], z[f"{prefix}_s0_crop"], atol=1e-4, rtol=0)


def _golden_forward(golden_dir, golden_model, image, flip):
    z = np.load(golden_dir / "bottomup029" / "hrnet_w32.npz")
    pixel_values = np.load(golden_dir / "bottomup029" / "resize.npz")[f"img{image}_input"]
    assert hashlib.sha256(pixel_values.tobytes()).hexdigest() == str(z[f"img{image}_input_sha256"])
    pixel_values = torch.from_numpy(pixel_values)
    with torch.no_grad():
        out = golden_model(pixel_values.flip(-1) if flip else pixel_values)
    _check_outputs(out, z, f"img{image}_out_{'flip' if flip else 'orig'}")


@pytest.mark.golden
def test_golden_forward_portrait(golden_dir, golden_model):
    _golden_forward(golden_dir, golden_model, image=1, flip=False)


@pytest.mark.golden
@pytest.mark.slow
@pytest.mark.parametrize("image, flip", [(0, False), (0, True), (1, True)])
def test_golden_forward_all(golden_dir, golden_model, image, flip):
    _golden_forward(golden_dir, golden_model, image, flip)


def _training_batch(golden_dir):
    """The two `aug` samples of train_targets.npz: input rebuilt from the stored affine crop (checked by hash)."""
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

    return torch.stack(images), t, stack


@pytest.mark.golden
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["trainbn", "evalbn"])
def test_golden_training_loss(golden_dir, golden_model, mode):
    """Loss E end to end (rtol 1e-3) and the stage-0 channel sums (rtol 1e-4); train mode uses batch statistics."""
    z = np.load(golden_dir / "bottomup029" / "hrnet_w32.npz")
    pixel_values, _, stack = _training_batch(golden_dir)
    # train mode updates the BN running statistics: work on a copy of the shared model
    model = copy.deepcopy(golden_model).train() if mode == "trainbn" else golden_model
    with torch.no_grad():
        out = model(
            pixel_values,
            target_heatmaps=(stack("aug_img{i}_target_heatmaps_128"),),
            target_masks=(stack("aug_img{i}_target_mask_128"),),
            joints=stack("aug_img{i}_target_joints_128"),
        )
    for term in ("heatmap", "push", "pull"):
        np.testing.assert_allclose(getattr(out, f"loss_{term}").item(), z[f"loss_{mode}_{term}_loss"], rtol=1e-3)
    full = torch.cat([out.heatmaps[0], out.tags], 1).double().sum((2, 3)).numpy()
    np.testing.assert_allclose(full, z[f"loss_{mode}_out_s0_channel_sum"], rtol=1e-4)
