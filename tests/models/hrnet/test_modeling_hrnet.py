# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""HRNet backbone: stage layout, fusion, out_features, Auto classes, save/load, key layout of the MMPose manifests."""

import json

import pytest
import torch
from huggingface_hub.errors import StrictDataclassClassValidationError
from torch.nn import functional as F
from transformers import AutoBackbone, AutoConfig

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.models.hrnet import HRNET_VARIANTS, HRNetBackbone, HRNetConfig, HRNetModule

TINY = dict(
    stem_channels=8,
    stage1_channels=4,
    stage1_num_blocks=1,
    hidden_sizes=[4, 8, 16, 32],
    num_modules=[1, 1, 1],
    num_blocks=[1, 1, 1],
)


def tiny_config(**kwargs) -> HRNetConfig:
    return HRNetConfig(**{**TINY, **kwargs})


def test_default_config_is_mmpose_w32():
    config = HRNetConfig()
    assert config.hidden_sizes == [32, 64, 128, 256]
    assert config.num_modules == [1, 4, 3] and config.num_blocks == [4, 4, 4]
    assert config.stem_channels == 64 and config.stage1_channels == 64 and config.stage1_num_blocks == 4
    assert config.out_features == ["branch1"] and config.upsample_mode == "nearest"
    assert not config.multiscale_output
    assert HRNetConfig.from_variant("w48").hidden_sizes == HRNET_VARIANTS["w48"]["hidden_sizes"] == [48, 96, 192, 384]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_modules": [1, 1]}, "num_modules"),
        ({"hidden_sizes": [4, 8, 16]}, "hidden_sizes"),
        ({"num_blocks": [1, 0, 1]}, "num_blocks"),
        ({"upsample_mode": "bicubic"}, "upsample_mode"),
    ],
)
def test_config_rejects_bad_layout(kwargs, message):
    with pytest.raises(StrictDataclassClassValidationError, match=message):
        tiny_config(**kwargs)


def test_unknown_variant():
    with pytest.raises(ValueError, match="variant"):
        HRNetConfig.from_variant("w18x")


def test_shapes_of_every_stage():
    torch.manual_seed(0)
    config = tiny_config(out_features=["stem", "stage1", "branch1", "branch2", "branch3", "branch4"])
    model = HRNetBackbone(config).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 96))
    shapes = [tuple(f.shape) for f in out.feature_maps]
    assert shapes == [
        (2, 8, 16, 24),
        (2, 16, 16, 24),
        (2, 4, 16, 24),
        (2, 8, 8, 12),
        (2, 16, 4, 6),
        (2, 32, 2, 3),
    ]
    assert model.channels == [8, 16, 4, 8, 16, 32]
    assert out.hidden_states is None


def test_default_returns_high_resolution_branch_only_and_hidden_states_on_request():
    torch.manual_seed(0)
    model = HRNetBackbone(tiny_config()).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), output_hidden_states=True)
        as_tuple = model(torch.randn(1, 3, 64, 64), return_dict=False)
    assert len(out.feature_maps) == 1 and out.feature_maps[0].shape == (1, 4, 16, 16)
    assert len(out.hidden_states) == 6
    torch.testing.assert_close(out.hidden_states[2], out.feature_maps[0])
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 1


def test_multiscale_output_adds_fuse_layers_to_last_module():
    single = HRNetBackbone(tiny_config())
    multi = HRNetBackbone(tiny_config(multiscale_output=True))
    assert len(single.stage4[-1].fuse_layers) == 1
    assert len(multi.stage4[-1].fuse_layers) == 4
    assert len(single.stage3[-1].fuse_layers) == 3  # only stage 4's last module is single-output


def test_fusion_matches_hand_computation():
    """HRModule output = ReLU(Σ_j f_ij(x_j)): 1x1 conv + BN + nearest x2 upsample, 3x3/s2 conv + BN downsample."""
    torch.manual_seed(0)
    config = tiny_config()
    module = HRNetModule([4, 8], num_blocks=1, multiscale_output=True, config=config).eval()
    for p in module.parameters():
        p.data.normal_(0, 0.3)
    x = [torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)]
    with torch.no_grad():
        fused, branch_out = module(list(x))
        b0 = module.branches[0](x[0])
        b1 = module.branches[1](x[1])
        up = module.fuse_layers[0][1]
        expected0 = F.relu(b0 + F.interpolate(up[1](up[0](b1)), scale_factor=2, mode="nearest"))
        down = module.fuse_layers[1][0][0]
        expected1 = F.relu(down[1](down[0](b0)) + b1)
    torch.testing.assert_close(fused[0], expected0)
    torch.testing.assert_close(fused[1], expected1)
    torch.testing.assert_close(branch_out[1], b1)


@pytest.mark.parametrize("shape", [(1, 1, 64, 64), (1, 3, 64, 48), (3, 64, 64)])
def test_rejects_bad_pixel_values(shape):
    model = HRNetBackbone(tiny_config())
    with pytest.raises(ValueError, match="pixel_values"):
        model(torch.randn(*shape))


def test_auto_classes_and_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    config = AutoConfig.for_model("hfpose_hrnet", **TINY)
    assert isinstance(config, HRNetConfig)
    model = AutoBackbone.from_config(config).eval()
    assert isinstance(model, HRNetBackbone)
    for p in model.parameters():  # MMPose's init (std 0.001) would make the comparison trivial
        p.data.normal_(0, 0.2)
    pixel_values = torch.randn(1, 3, 64, 64)
    model.save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), HRNetConfig)
    reloaded = HRNetBackbone.from_pretrained(tmp_path).eval()
    assert reloaded.config.hidden_sizes == [4, 8, 16, 32]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values).feature_maps[0], model(pixel_values).feature_maps[0])


def test_mmpose_init():
    model = HRNetBackbone(tiny_config())
    conv = model.stage2[0].branches[0][0].conv1.weight
    assert 0.0005 < conv.std().item() < 0.002  # normal_init(std=0.001)
    assert torch.all(model.bn1.weight == 1) and torch.all(model.bn1.bias == 0)


@pytest.mark.golden
@pytest.mark.parametrize("width", ["w32", "w48"])
def test_backbone_keys_equal_mmpose_manifest(golden_dir, width):
    """State-dict keys, order and shapes equal MMPose 0.29's `backbone.*` (bottomup029 manifests)."""
    path = golden_dir / "bottomup029" / "manifests" / f"hrnet_{width}_coco_512x512_udp.json"
    manifest = json.loads(path.read_text())
    expected = [
        (e["key"][len("backbone.") :], tuple(e["shape"]))
        for e in manifest["state_dict"]
        if e["key"].startswith("backbone.")
    ]
    with torch.device("meta"):
        model = HRNetBackbone(HRNetConfig.from_variant(width))
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == expected
