"""MMPose IPR / DSNT / Debias-IPR checkpoint conversion (`hfpose.models.ipr.convert_mmpose_ipr`).

Synthetic checkpoints are built from the golden manifests (`manifests/ipr_*.json`: keys, shapes and dtypes of the
released files), converted, and loaded strictly into the hfpose model; the real golden weights are covered by
`tests/models/integral/test_integral_full_models.py`.
"""

import json

import pytest
import torch

from hfpose.hub.convert_mmpose import convert_integral_head, convert_mmpose_state_dict
from hfpose.models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
from hfpose.models.deeppose import DeepPoseConfig
from hfpose.models.dsnt import DSNTConfig, DSNTForPoseEstimation
from hfpose.models.ipr import IPRConfig, IPRForPoseEstimation
from hfpose.models.ipr.convert_mmpose_ipr import check_linspaces

MANIFESTS = {
    "ipr_res50_8xb64-210e_coco-256x256.json": ("ipr", IPRConfig, IPRForPoseEstimation),
    "ipr_res50_dsnt-8xb64-210e_coco-256x256.json": ("dsnt", DSNTConfig, DSNTForPoseEstimation),
    "ipr_res50_debias-8xb64-210e_coco-256x256.json": ("debias_ipr", DebiasIPRConfig, DebiasIPRForPoseEstimation),
}
DTYPES = {"float32": torch.float32, "int64": torch.int64}


def synthetic_checkpoint(manifest):
    """Random tensors with the manifest's keys/shapes/dtypes; linspaces hold MMPose's j / W grid."""
    generator = torch.Generator().manual_seed(0)
    state_dict = {}
    for key, shape, dtype in manifest["keys_v1"]:
        if key == "head.linspace_x":
            value = (torch.arange(shape[-1]) / shape[-1]).reshape(shape)
        elif key == "head.linspace_y":
            value = (torch.arange(shape[-2]) / shape[-2]).reshape(shape)
        elif DTYPES[dtype] is torch.int64:
            value = torch.randint(0, 1000, shape, generator=generator)
        else:
            value = torch.randn(shape, generator=generator)
        state_dict[key] = value.to(DTYPES[dtype])
    return {"meta": {}, "state_dict": state_dict}


@pytest.mark.golden
@pytest.mark.parametrize("manifest_name", list(MANIFESTS))
def test_manifest_checkpoint_converts_and_loads_strictly(manifest_name, golden_dir):
    manifest = json.loads((golden_dir / "manifests" / manifest_name).read_text())
    method, config_class, model_class = MANIFESTS[manifest_name]
    assert manifest["released_file_key_spelling"] == "v1"
    checkpoint = synthetic_checkpoint(manifest)
    config = config_class()
    converted = convert_mmpose_state_dict(checkpoint, method, config)  # the dispatcher in convert_mmpose
    direct = convert_integral_head(checkpoint["state_dict"], config)
    assert converted.keys() == direct.keys()
    assert len(converted) == manifest["num_tensors_v1"] - 2  # the two linspaces are dropped
    model = model_class(config)
    model.load_state_dict(converted, strict=True)
    source = checkpoint["state_dict"]
    for mmpose_key, hfpose_key in [
        ("head.simplebaseline_head.deconv_layers.0.weight", "head.deconv_layers.0.weight"),
        ("head.simplebaseline_head.deconv_layers.7.running_var", "head.deconv_layers.7.running_var"),
        ("head.simplebaseline_head.final_layer.bias", "head.final_layer.bias"),
        ("backbone.conv1.weight", "backbone.embedder.embedder.convolution.weight"),
        ("backbone.layer4.2.bn3.weight", "backbone.encoder.stages.3.layers.2.layer.2.normalization.weight"),
    ]:
        assert torch.equal(model.state_dict()[hfpose_key], source[mmpose_key]), hfpose_key


@pytest.fixture(scope="module")
def tiny_checkpoint():
    """MMPose-spelled checkpoint of a tiny IPR model, made by renaming an hfpose state dict back (test-side)."""
    from hfpose.models.backbones import resnet_backbone_config

    config = IPRConfig(
        backbone_config=resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 8, 8, 16], embedding_size=8),
        input_size=[64, 64],
        deconv_out_channels=[8, 8],
        deconv_kernel_sizes=[4, 4],
    )
    model = IPRForPoseEstimation(config)
    head = {
        "head.simplebaseline_head." + key[len("head.") :]: value
        for key, value in model.state_dict().items()
        if key.startswith("head.")
    }
    head["head.linspace_x"] = (torch.arange(8) / 8).reshape(1, 1, 1, 8)
    head["head.linspace_y"] = (torch.arange(8) / 8).reshape(1, 1, 8, 1)
    return config, head


def test_head_keys_and_linspaces(tiny_checkpoint):
    config, head = tiny_checkpoint
    # convert_integral_head checks the model's full key set, so check the head part through check_linspaces and
    # the error paths; the head renaming itself is covered by the manifest test above.
    check_linspaces(head, config.heatmap_size)
    bad = dict(head)
    bad["head.linspace_x"] = bad["head.linspace_x"] + 1.0 / 128  # half-pixel offset: refused
    with pytest.raises(ValueError, match="head.linspace_x must hold the soft-argmax grid"):
        check_linspaces(bad, config.heatmap_size)
    bad["head.linspace_x"] = torch.zeros(1, 1, 1, 16)
    with pytest.raises(ValueError, match=r"head.linspace_x has shape \(1, 1, 1, 16\)"):
        check_linspaces(bad, config.heatmap_size)


@pytest.mark.golden
def test_conversion_errors(golden_dir):
    manifest = json.loads((golden_dir / "manifests" / "ipr_res50_8xb64-210e_coco-256x256.json").read_text())
    state_dict = synthetic_checkpoint(manifest)["state_dict"]
    config = IPRConfig()
    with pytest.raises(TypeError, match="config must be one of"):
        convert_integral_head(state_dict, DeepPoseConfig())
    unknown = {**state_dict, "head.conv.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"head keys are not MMPose DSNTHead.*head.conv.weight"):
        convert_integral_head(unknown, config)
    missing = {k: v for k, v in state_dict.items() if k != "head.simplebaseline_head.final_layer.bias"}
    with pytest.raises(ValueError, match=r"missing keys.*head.final_layer.bias"):
        convert_integral_head(missing, config)
    wrong_grid = {**state_dict, "head.linspace_y": state_dict["head.linspace_y"] * 2}
    with pytest.raises(ValueError, match="head.linspace_y"):
        convert_integral_head(wrong_grid, config)
    # 0.x spelling (`keypoint_head.`) and float16 values are accepted.
    legacy = {k.replace("head.", "keypoint_head.", 1) if k.startswith("head.") else k: v.half() if v.is_floating_point()
              else v for k, v in state_dict.items()}  # fmt: skip
    converted = convert_integral_head(legacy, config)
    assert converted["head.final_layer.weight"].dtype == torch.float32
