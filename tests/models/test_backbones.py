"""Shared backbone builder, ResNet variants as data, and the MMPose-layout MobileNetV2 backbone."""

import json
from types import SimpleNamespace

import pytest
import torch
from transformers import AutoBackbone, AutoConfig, ConvNextConfig, ResNetBackbone, ViTConfig

import hfpose  # noqa: F401  (registers hfpose_mobilenet_v2)
from hfpose.models.backbones import (
    RESNET_VARIANTS,
    backbone_out_channels,
    build_backbone,
    last_feature_map,
    resnet_backbone_config,
)
from hfpose.models.mobilenet_v2 import PoseMobileNetV2Backbone, PoseMobileNetV2Config, make_divisible
from hfpose.models.mobilenet_v2.modeling_mobilenet_v2 import PoseMobileNetV2InvertedResidual


def _holder(backbone_config):
    return SimpleNamespace(backbone_config=backbone_config)


@pytest.mark.parametrize("depth, depths", [(50, [3, 4, 6, 3]), (101, [3, 4, 23, 3]), (152, [3, 8, 36, 3])])
def test_resnet_variants_are_he_et_al_table_1(depth, depths):
    config = resnet_backbone_config(depth)
    assert RESNET_VARIANTS[depth]["depths"] == depths
    assert list(config.depths) == depths
    assert list(config.hidden_sizes) == [256, 512, 1024, 2048]
    assert config.layer_type == "bottleneck" and config.embedding_size == 64
    assert config.downsample_in_bottleneck is False  # stride on the 3x3 conv, MMPose style='pytorch'
    assert config.out_features == ["stage4"] and config.out_indices == [4]


def test_resnet_backbone_config_rejects_unknown_depth():
    with pytest.raises(ValueError, match="depth=34"):
        resnet_backbone_config(34)


def test_build_tiny_resnet_backbone_last_stage():
    config = resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], embedding_size=8)
    backbone = build_backbone(_holder(config))
    assert type(backbone) is ResNetBackbone
    assert backbone_out_channels(backbone) == 32
    feature_map, hidden = last_feature_map(backbone, torch.randn(2, 3, 64, 48), output_hidden_states=True)
    # stride 32 with ceil at every stride-2 layer: 64 -> 2, 48 -> 24 -> 12 -> 12 -> 6 -> 3 -> 2
    assert feature_map.shape == (2, 32, 2, 2)
    assert len(hidden) == 5 and torch.equal(hidden[-1], feature_map)
    _, no_hidden = last_feature_map(backbone, torch.randn(1, 3, 64, 48))
    assert no_hidden is None


def test_build_tiny_convnext_backbone():
    config = ConvNextConfig(depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], out_features=["stage4"])
    backbone = build_backbone(_holder(config))
    assert type(backbone).__name__ == "ConvNextBackbone"
    assert backbone_out_channels(backbone) == 32
    feature_map, _ = last_feature_map(backbone, torch.randn(2, 3, 64, 48))
    assert feature_map.shape == (2, 32, 2, 1)  # ConvNeXt: patchify /4 then three /2 (floor)


def test_build_backbone_rejects_non_backbone_configs():
    with pytest.raises(TypeError, match="backbone_config"):
        build_backbone(_holder(None))
    with pytest.raises(TypeError, match="not a backbone config"):
        build_backbone(_holder(ViTConfig()))


def test_make_divisible_hand_values():
    assert make_divisible(32) == 32
    assert make_divisible(16.0) == 16
    assert make_divisible(18.0) == 24  # 16 < 0.9 * 18, so one more divisor
    assert make_divisible(4.0) == 8  # never below the divisor
    assert make_divisible(100.0) == 104


def test_mobilenet_v2_registered_with_auto_classes():
    config = AutoConfig.for_model("hfpose_mobilenet_v2")
    assert isinstance(config, PoseMobileNetV2Config)
    assert config.stage_names[0] == "stem" and config.stage_names[-1] == "conv2"
    assert config.out_features == ["conv2"] and config.out_indices == [8]
    assert config.stage_channels == [32, 16, 24, 32, 64, 96, 160, 320, 1280]
    tiny = PoseMobileNetV2Config(widen_factor=0.25)
    assert type(AutoBackbone.from_config(tiny)) is PoseMobileNetV2Backbone


def test_mobilenet_v2_tiny_shapes_and_strides():
    config = PoseMobileNetV2Config(widen_factor=0.25, out_features=["layer2", "conv2"])
    backbone = PoseMobileNetV2Backbone(config).eval()
    outputs = backbone(torch.randn(2, 3, 64, 48), output_hidden_states=True)
    assert [f.shape for f in outputs.feature_maps] == [(2, 8, 16, 12), (2, 1280, 2, 2)]
    strides = [64 // h.shape[2] for h in outputs.hidden_states]
    assert strides == [2, 2, 4, 8, 16, 16, 32, 32, 32]
    assert backbone.channels == [8, 1280]


def test_mobilenet_v2_inverted_residual_identity_shortcut():
    block = PoseMobileNetV2InvertedResidual(8, 8, stride=1, expand_ratio=6, activation="relu6", eps=1e-5).eval()
    assert block.use_residual
    with torch.no_grad():  # zero the projection's BN: the block reduces to its identity shortcut
        block.conv[-1].bn.weight.zero_()
        block.conv[-1].bn.bias.zero_()
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(block(x), x, rtol=0, atol=0)
    strided = PoseMobileNetV2InvertedResidual(8, 8, stride=2, expand_ratio=6, activation="relu6", eps=1e-5)
    assert not strided.use_residual
    assert strided.conv[1].conv.groups == 48 and strided.conv[1].conv.weight.shape == (48, 1, 3, 3)


def test_mobilenet_v2_config_rejects_bad_arch():
    with pytest.raises(ValueError, match=r"arch_settings\[1\]"):
        PoseMobileNetV2Config(arch_settings=[[1, 16, 1, 1], [6, 24, 2]])


@pytest.mark.golden
def test_mobilenet_v2_keys_and_shapes_equal_mmpose_manifest(golden_dir):
    manifest = json.loads(
        (golden_dir / "manifests" / "td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192.json").read_text()
    )
    expected = [(k[len("backbone.") :], s) for k, s, _ in manifest["keys_v1"] if k.startswith("backbone.")]
    with torch.device("meta"):
        backbone = PoseMobileNetV2Backbone(PoseMobileNetV2Config())
    actual = [(k, list(v.shape)) for k, v in backbone.state_dict().items()]
    assert actual == expected  # same names, shapes and order
    fc_in = [s for k, s, _ in manifest["keys_v1"] if k == "head.fc.weight"][0][1]
    assert backbone.channels == [fc_in]
