"""MMPose → hfpose conversion of every released DeepPose / RLE checkpoint layout (from the golden manifests)."""

import json
import re
import runpy
import sys
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import hfpose  # noqa: F401
from hfpose.hub.convert_mmpose import (
    build_regression_config,
    convert_mmpose_checkpoint,
    convert_mmpose_state_dict,
    convert_resnet_backbone_keys,
    extract_state_dict,
    rename_v0x_keys,
)
from hfpose.models.deeppose import DeepPoseConfig, DeepPoseForPoseEstimation
from hfpose.models.rle import RLEForPoseEstimation

HEAD_METHODS = {"RegressionHead": "deeppose", "RLEHead": "rle"}
MODEL_CLASSES = {"deeppose": DeepPoseForPoseEstimation, "rle": RLEForPoseEstimation}
FLOW_CONSTANTS = {
    "loc": torch.zeros(2),
    "cov": torch.eye(2),
    "mask": torch.tensor([[0.0, 1.0], [1.0, 0.0]] * 3),
}


def _manifests(golden_dir):
    out = []
    for path in sorted((golden_dir / "manifests").glob("*.json")):
        manifest = json.loads(path.read_text())
        if isinstance(manifest, dict) and (manifest.get("v1_classes") or {}).get("head") in HEAD_METHODS:
            out.append(manifest)
    return out


def _spec(manifest):
    """(method, backbone, dataset) of a manifest, read from its classes and checkpoint name."""
    method = HEAD_METHODS[manifest["v1_classes"]["head"]]
    if manifest["v1_classes"]["backbone"] == "MobileNetV2":
        backbone = "mobilenetv2"
    else:
        backbone = "resnet" + re.search(r"res(\d+)", manifest["checkpoint"]).group(1)
    dataset = "mpii" if "_mpii-" in manifest["checkpoint"] else "coco"
    return method, backbone, dataset


def synthetic_checkpoint(manifest, spelling=None):
    """`{'meta', 'state_dict'}` with exactly the manifest's keys, shapes and order in the released spelling.

    Float tensors are float16 filled with their index (exact in float16) so the conversion can be traced; the RLE
    flow buffers hold MMPose's constants; the state dict carries an MMPose-like `_metadata` attribute.
    """
    spelling = spelling or manifest["released_file_key_spelling"]
    state_dict = OrderedDict()
    for index, (key, shape, dtype) in enumerate(manifest[f"keys_{spelling}"]):
        leaf = key.rsplit(".", 1)[-1]
        if "flow_model." in key and leaf in FLOW_CONSTANTS:
            state_dict[key] = FLOW_CONSTANTS[leaf].clone()
        elif dtype == "int64":
            state_dict[key] = torch.full(shape, index, dtype=torch.int64)
        else:
            state_dict[key] = torch.full(shape, float(index % 2048), dtype=torch.float16)
    state_dict._metadata = OrderedDict({"": {"version": 1}})
    return {"meta": {"mmpose_version": "synthetic"}, "state_dict": state_dict}


def _load_into_meta_model(method, config, state_dict):
    with torch.device("meta"):
        model = MODEL_CLASSES[method](config)
    model.load_state_dict(state_dict, strict=True, assign=True)


def _signature(tensors):
    """Multiset of (fill value, shape, dtype) — invariant under renaming."""
    return Counter((float(t.flatten()[0]) if t.numel() else None, tuple(t.shape), t.dtype) for t in tensors)


@pytest.mark.golden
def test_manifests_in_scope_are_all_found(golden_dir):
    specs = sorted(_spec(m) for m in _manifests(golden_dir))
    assert specs == sorted(
        [("deeppose", f"resnet{d}", "coco") for d in (50, 101, 152)]
        + [("rle", f"resnet{d}", "coco") for d in (50, 101, 152)]
        + [("rle", "mobilenetv2", "coco"), ("rle", "resnet50", "mpii")]
    )


@pytest.mark.golden
def test_every_released_layout_converts_and_loads_strictly(golden_dir):
    for manifest in _manifests(golden_dir):
        method, backbone, dataset = _spec(manifest)
        config = build_regression_config(method, backbone, dataset)
        checkpoint = synthetic_checkpoint(manifest)
        converted = convert_mmpose_state_dict(checkpoint, method, config)
        _load_into_meta_model(method, config, converted)
        # values and shapes survive the renaming one to one; floats become float32; only the flow constants go
        source = {k: v for k, v in checkpoint["state_dict"].items() if not re.search(r"flow_model\.(loc|cov|mask)$", k)}
        expected = Counter(
            {(value, shape, torch.float32 if dtype == torch.float16 else dtype): n
             for (value, shape, dtype), n in _signature(source.values()).items()}
        )  # fmt: skip
        assert _signature(converted.values()) == expected, manifest["checkpoint"]
        assert len(converted) == manifest[f"num_tensors_{manifest['released_file_key_spelling']}"] - (
            3 if method == "rle" else 0
        )


@pytest.mark.golden
def test_v0x_and_v1_spellings_give_the_same_state_dict(golden_dir):
    for manifest in _manifests(golden_dir):
        if not manifest.get("keys_v0x") or not manifest.get("keys_v1"):
            continue
        method, backbone, dataset = _spec(manifest)
        config = build_regression_config(method, backbone, dataset)
        from_v1 = convert_mmpose_state_dict(synthetic_checkpoint(manifest, "v1"), method, config)
        from_v0x = convert_mmpose_state_dict(synthetic_checkpoint(manifest, "v0x"), method, config)
        assert list(from_v1) == list(from_v0x)
        assert all(from_v1[k].shape == from_v0x[k].shape for k in from_v1)


@pytest.mark.golden
def test_resnet_key_mapping_spot_checks(golden_dir):
    manifest = json.loads((golden_dir / "manifests" / "td-reg_res50_8xb64-210e_coco-256x192.json").read_text())
    checkpoint = synthetic_checkpoint(manifest)
    source = checkpoint["state_dict"]
    config = build_regression_config("deeppose", "resnet50", "coco")
    converted = convert_mmpose_state_dict(checkpoint, "deeppose", config)
    pairs = {
        "backbone.conv1.weight": "backbone.embedder.embedder.convolution.weight",
        "backbone.bn1.running_var": "backbone.embedder.embedder.normalization.running_var",
        "backbone.layer1.0.downsample.0.weight": "backbone.encoder.stages.0.layers.0.shortcut.convolution.weight",
        "backbone.layer2.3.bn3.bias": "backbone.encoder.stages.1.layers.3.layer.2.normalization.bias",
        "backbone.layer4.0.downsample.1.num_batches_tracked":
            "backbone.encoder.stages.3.layers.0.shortcut.normalization.num_batches_tracked",
        "head.fc.weight": "head.fc.weight",
    }  # fmt: skip
    for old, new in pairs.items():
        expected = source[old].float() if source[old].is_floating_point() else source[old]
        torch.testing.assert_close(converted[new], expected, rtol=0, atol=0)


@pytest.fixture(scope="module")
def res50_rle(golden_dir):
    manifest = json.loads((golden_dir / "manifests" / "td-reg_res50_rle-8xb64-210e_coco-256x192.json").read_text())
    return manifest, build_regression_config("rle", "resnet50", "coco")


@pytest.mark.golden
def test_bare_state_dict_and_metadata_key_are_accepted(res50_rle):
    manifest, config = res50_rle
    bare = dict(synthetic_checkpoint(manifest)["state_dict"])
    bare["_metadata"] = {"": {"version": 1}}
    converted = convert_mmpose_state_dict(bare, "rle", config)
    assert "flow.s.5.4.bias" in converted and "_metadata" not in converted


@pytest.mark.golden
def test_wrong_method_names_the_offending_keys(res50_rle):
    manifest, _ = res50_rle
    checkpoint = synthetic_checkpoint(manifest)
    with pytest.raises(ValueError) as error:
        convert_mmpose_state_dict(checkpoint, "deeppose", build_regression_config("deeppose", "resnet50", "coco"))
    message = str(error.value)
    assert "head.loss_module.flow_model.s.0.0.weight" in message and "unexpected" in message
    assert "head.fc.weight" in message and "(68, 2048) vs model (34, 2048)" in message
    with pytest.raises(TypeError, match="RLEConfig"):
        convert_mmpose_state_dict(checkpoint, "rle", DeepPoseConfig())
    with pytest.raises(ValueError, match="unknown method 'hrnet'"):
        convert_mmpose_state_dict(checkpoint, "hrnet", DeepPoseConfig())


@pytest.mark.golden
def test_wrong_backbone_depth_names_the_offending_keys(golden_dir, res50_rle):
    _, config = res50_rle
    manifest = json.loads((golden_dir / "manifests" / "td-reg_res101_rle-8xb64-210e_coco-256x192.json").read_text())
    with pytest.raises(ValueError) as error:
        convert_mmpose_state_dict(synthetic_checkpoint(manifest), "rle", config)
    message = str(error.value)
    new_key = "backbone.encoder.stages.2.layers.22.layer.0.convolution.weight"
    assert f"{new_key} (MMPose backbone.layer3.22.conv1.weight)" in message


@pytest.mark.golden
def test_wrong_backbone_family_and_dataset(golden_dir, res50_rle):
    _, config = res50_rle
    mobilenet = json.loads(
        (golden_dir / "manifests" / "td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192.json").read_text()
    )
    with pytest.raises(ValueError, match=r"not MMPose ResNet keys: \['backbone.conv1.conv.weight'"):
        convert_mmpose_state_dict(synthetic_checkpoint(mobilenet), "rle", config)
    mpii = json.loads((golden_dir / "manifests" / "td-reg_res50_rle-8xb64-210e_mpii-256x256.json").read_text())
    with pytest.raises(ValueError, match=r"head.fc.weight \(MMPose keypoint_head.fc.weight\): checkpoint \(64, 2048\)"):
        convert_mmpose_state_dict(synthetic_checkpoint(mpii), "rle", config)


@pytest.mark.golden
def test_missing_extra_and_bad_constant_keys(res50_rle):
    manifest, config = res50_rle
    checkpoint = synthetic_checkpoint(manifest)
    del checkpoint["state_dict"]["backbone.layer2.0.bn1.running_var"]
    checkpoint["state_dict"]["head.extra.weight"] = torch.zeros(3)
    with pytest.raises(ValueError) as error:
        convert_mmpose_state_dict(checkpoint, "rle", config)
    message = str(error.value)
    assert "1 missing keys: ['backbone.encoder.stages.1.layers.0.layer.0.normalization.running_var']" in message
    assert "1 unexpected keys: ['head.extra.weight']" in message

    checkpoint = synthetic_checkpoint(manifest)
    checkpoint["state_dict"]["backbone.layer1.0.conv9.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"unexpected keys: .*\(MMPose backbone.layer1.0.conv9.weight\)"):
        convert_mmpose_state_dict(checkpoint, "rle", config)
    checkpoint = synthetic_checkpoint(manifest)
    checkpoint["state_dict"]["backbone.layer1.0.conv1.bias"] = torch.zeros(1)  # MMPose ResNet convs have no bias
    with pytest.raises(ValueError, match=r"not MMPose ResNet keys: \['backbone.layer1.0.conv1.bias'\]"):
        convert_mmpose_state_dict(checkpoint, "rle", config)

    checkpoint = synthetic_checkpoint(manifest)
    checkpoint["state_dict"]["head.loss_module.flow_model.mask"] = torch.ones(6, 2)
    with pytest.raises(ValueError, match="head.loss_module.flow_model.mask must be"):
        convert_mmpose_state_dict(checkpoint, "rle", config)


@pytest.mark.golden
def test_non_strict_conversion_for_partial_initialisation(res50_rle):
    manifest, _ = res50_rle
    deeppose_config = build_regression_config("deeppose", "resnet50", "coco")
    converted = convert_mmpose_state_dict(synthetic_checkpoint(manifest), "deeppose", deeppose_config, strict=False)
    assert "backbone.embedder.embedder.convolution.weight" in converted
    assert "head.loss_module.flow_model.s.0.0.weight" in converted  # left for the caller to report as unexpected


def test_rename_and_extract_helpers():
    state = {"keypoint_head.loss.flow_model.s.0.0.weight": torch.zeros(1), "keypoint_head.fc.bias": torch.zeros(1)}
    assert list(rename_v0x_keys(state)) == ["head.loss_module.flow_model.s.0.0.weight", "head.fc.bias"]
    assert list(rename_v0x_keys(rename_v0x_keys(state))) == list(rename_v0x_keys(state))
    with pytest.raises(ValueError, match="both spellings"):
        rename_v0x_keys({"keypoint_head.fc.bias": torch.zeros(1), "head.fc.bias": torch.zeros(1)})
    extracted = extract_state_dict({"state_dict": {"a": torch.zeros(2, dtype=torch.float16), "n": torch.tensor(3)}})
    assert extracted["a"].dtype == torch.float32 and extracted["n"].dtype == torch.int64
    with pytest.raises(TypeError):
        extract_state_dict([1, 2])
    with pytest.raises(ValueError, match="not MMPose ResNet keys"):
        convert_resnet_backbone_keys({"backbone.stem.weight": torch.zeros(1)})
    assert convert_resnet_backbone_keys({"head.fc.bias": torch.zeros(1)}).keys() == {"head.fc.bias"}


def test_build_regression_config_rejects_unknown_names():
    with pytest.raises(ValueError, match="backbone"):
        build_regression_config("rle", "resnet18", "coco")
    with pytest.raises(ValueError, match="dataset"):
        build_regression_config("rle", "resnet50", "aic")
    with pytest.raises(ValueError, match="method"):
        build_regression_config("ipr", "resnet50", "coco")
    assert build_regression_config("rle", "resnet50", "mpii").input_size == [256, 256]


@pytest.mark.golden
def test_convert_checkpoint_end_to_end_with_reference(golden_dir, tmp_path):
    models = golden_dir / "models"
    backbone = torch.load(models / "resnet50_backbone_mmpose.pth", map_location="cpu", weights_only=True)
    head = torch.load(models / "deeppose_head_mmpose.pth", map_location="cpu", weights_only=True)
    path = tmp_path / "deeppose_res50.pth"
    torch.save({"meta": head["meta"], "state_dict": {**backbone["state_dict"], **head["state_dict"]}}, path)
    output_dir = tmp_path / "converted"
    model = convert_mmpose_checkpoint(
        path, "deeppose", "resnet50", "coco", output_dir, reference_npz=models / "deeppose_outputs.npz"
    )
    assert (output_dir / "model.safetensors").is_file() and (output_dir / "config.json").is_file()
    preprocessor = json.loads((output_dir / "preprocessor_config.json").read_text())
    assert preprocessor["size"] == {"height": 256, "width": 192}
    assert preprocessor["flip_indices"] == model.config.flip_indices
    reloaded = DeepPoseForPoseEstimation.from_pretrained(output_dir).eval()
    inputs = torch.from_numpy(np.load(models / "deeppose_outputs.npz")["inputs"][:2])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(inputs).keypoints, model(inputs).keypoints, rtol=0, atol=0)


@pytest.mark.golden
def test_script_converts_mobilenet_v2_layout(golden_dir, tmp_path, monkeypatch):
    manifest = json.loads(
        (golden_dir / "manifests" / "td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192.json").read_text()
    )
    checkpoint = synthetic_checkpoint(manifest)
    checkpoint["state_dict"] = dict(checkpoint["state_dict"])
    path = tmp_path / "mobilenetv2_rle.pth"
    torch.save(checkpoint, path)
    output_dir = tmp_path / "out"
    argv = ["convert", str(path), "--method", "rle", "--backbone", "mobilenetv2", "--output", str(output_dir)]
    monkeypatch.setattr(sys, "argv", argv)
    script = Path(__file__).resolve().parents[2] / "scripts" / "convert_mmpose_checkpoint.py"
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(script), run_name="__main__")
    assert exit_info.value.code == 0
    reloaded = RLEForPoseEstimation.from_pretrained(output_dir)
    assert reloaded.head.fc.weight.shape == (68, 1280)
    assert reloaded.config.backbone_config.model_type == "hfpose_mobilenet_v2"
