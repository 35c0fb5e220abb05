# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""MMPose bottom-up checkpoint conversion: every manifest (0.x UDP rows, 1.x AE spelling) loads strictly."""

import json

import pytest
import torch

import hfpose  # noqa: F401
from hfpose.hub.convert_mmpose import (
    BOTTOMUP_CHECKPOINTS,
    build_bottomup_config,
    convert_bottomup,
    convert_mmpose_state_dict,
)
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from hfpose.models.higherhrnet import HigherHRNetForPoseEstimation
from hfpose.models.hrnet import HRNetConfig


def synthetic_checkpoint(entries) -> dict:
    """`{'meta', 'state_dict'}` with the manifest's keys and shapes; float tensor i is float16 (as the golden weight
    files; conversion must cast to float32) filled with (i mod 7) / 4."""
    state_dict = {}
    for i, (key, shape, dtype) in enumerate(entries):
        state_dict[key] = (
            torch.full(tuple(shape), (i % 7) / 4, dtype=torch.float16)
            if dtype == "float32"
            else (torch.full(tuple(shape), i % 5, dtype=getattr(torch, dtype)))
        )
    return {"meta": {"note": "synthetic"}, "state_dict": state_dict}


def _manifest_cases(golden_dir):
    cases = []
    for path in sorted((golden_dir / "bottomup029" / "manifests").glob("*.json")):
        manifest = json.loads(path.read_text())
        entries = [(e["key"], e["shape"], e["dtype"]) for e in manifest["state_dict"]]
        cases.append((path.stem, "v0x", entries))
    for path in sorted((golden_dir / "manifests").glob("*.json")):
        if not (path.stem.startswith("associative_embedding_") or path.stem.startswith("ae_hrnet")):
            continue
        manifest = json.loads(path.read_text())
        for spelling in ("keys_v0x", "keys_v1"):
            if manifest.get(spelling):
                cases.append((path.stem.removeprefix("associative_embedding_"), spelling, manifest[spelling]))
    return cases


def _assert_loads(name, entries):
    method, variant = BOTTOMUP_CHECKPOINTS[name]
    config = build_bottomup_config(method, variant)
    converted = convert_bottomup(synthetic_checkpoint(entries), config)
    model_class = HigherHRNetForPoseEstimation if method == "ae_higherhrnet" else AssociativeEmbeddingForPoseEstimation
    with torch.device("meta"):
        model = model_class(config)
    model.load_state_dict(converted, strict=True, assign=True)  # strict: keys and shapes must match exactly
    assert len(converted) == len(entries)
    # values survive the renaming, floats are cast to float32, num_batches_tracked stays int64
    head_key = "final_layer.bias" if method == "ae_hrnet" else "final_layers.1.bias"
    index = next(i for i, (key, _, _) in enumerate(entries) if key.endswith(head_key))
    assert model.state_dict()[head_key].dtype == torch.float32
    assert torch.all(model.state_dict()[head_key] == (index % 7) / 4)
    assert model.backbone.bn1.num_batches_tracked.dtype == torch.int64
    return config


@pytest.mark.golden
def test_every_manifest_converts_and_loads_strictly(golden_dir):
    cases = _manifest_cases(golden_dir)
    # bottomup029: 4 rows; golden/manifests: 4 UDP rows (v0x, + v1 for the two HRNet ones) + 1.x AE config (v0x, v1)
    assert len(cases) == 4 + 4 + 2 + 2
    seen = set()
    for name, spelling, entries in cases:
        config = _assert_loads(name, entries)
        if spelling == "keys_v1":
            assert all(not key.startswith("keypoint_head.") for key, _, _ in entries)
        seen.add((name, type(config).__name__, config.backbone_config.hidden_sizes[0]))
    assert {(width, kind) for _, kind, width in seen} == {
        (32, "AssociativeEmbeddingConfig"), (48, "AssociativeEmbeddingConfig"),
        (32, "HigherHRNetConfig"), (48, "HigherHRNetConfig"),
    }  # fmt: skip


@pytest.mark.golden
@pytest.mark.parametrize("name", [n for n in sorted(BOTTOMUP_CHECKPOINTS) if n.endswith("_udp")])
def test_real_model_strict_load(golden_dir, name):
    """A real (not meta) model takes the converted synthetic checkpoint with load_state_dict(strict=True), directly
    and through the lead's dispatcher `convert_mmpose_state_dict`."""
    manifest = json.loads((golden_dir / "bottomup029" / "manifests" / f"{name}.json").read_text())
    entries = [(e["key"], e["shape"], e["dtype"]) for e in manifest["state_dict"]]
    method, variant = BOTTOMUP_CHECKPOINTS[name]
    config = build_bottomup_config(method, variant)
    model_class = HigherHRNetForPoseEstimation if method == "ae_higherhrnet" else AssociativeEmbeddingForPoseEstimation
    model = model_class(config)
    result = model.load_state_dict(convert_bottomup(synthetic_checkpoint(entries), config), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    converted = convert_mmpose_state_dict(synthetic_checkpoint(entries), method, config)
    model.load_state_dict(converted, strict=True)
    assert sum(p.numel() for p in model.parameters()) == manifest["num_parameters"]


def _entries(golden_dir, name):
    manifest = json.loads((golden_dir / "bottomup029" / "manifests" / f"{name}.json").read_text())
    return [(e["key"], e["shape"], e["dtype"]) for e in manifest["state_dict"]]


@pytest.mark.golden
def test_wrong_architecture_fails_loudly(golden_dir):
    higher = synthetic_checkpoint(_entries(golden_dir, "higherhrnet_w32_coco_512x512_udp"))
    with pytest.raises(ValueError, match=r"missing keys: \['final_layer.weight', 'final_layer.bias'\]") as info:
        convert_bottomup(higher, AssociativeEmbeddingConfig())
    assert "unexpected keys" in str(info.value) and "deconv_layers.0.0.0.weight" in str(info.value)


@pytest.mark.golden
def test_wrong_width_fails_loudly(golden_dir):
    w48 = synthetic_checkpoint(_entries(golden_dir, "hrnet_w48_coco_512x512_udp"))
    with pytest.raises(ValueError, match="shape mismatches") as info:
        convert_bottomup(w48, AssociativeEmbeddingConfig())
    assert "backbone.transition1.0.0.weight: checkpoint (48, 256, 3, 3) vs model (32, 256, 3, 3)" in str(info.value)


@pytest.mark.golden
def test_missing_and_unexpected_keys_listed(golden_dir):
    checkpoint = synthetic_checkpoint(_entries(golden_dir, "hrnet_w32_coco_512x512_udp"))
    del checkpoint["state_dict"]["backbone.stage4.2.fuse_layers.0.3.1.running_var"]
    checkpoint["state_dict"]["keypoint_head.loss.something"] = torch.zeros(1)
    with pytest.raises(ValueError) as info:
        convert_bottomup(checkpoint, AssociativeEmbeddingConfig())
    message = str(info.value)
    assert "1 missing keys: ['backbone.stage4.2.fuse_layers.0.3.1.running_var']" in message
    assert "1 unexpected keys: ['loss.something']" in message
    # strict=False only renames
    converted = convert_bottomup(checkpoint, AssociativeEmbeddingConfig(), strict=False)
    assert "loss.something" in converted and "final_layer.weight" in converted


def test_bad_config_and_method():
    with pytest.raises(TypeError, match="AssociativeEmbeddingConfig or HigherHRNetConfig"):
        convert_bottomup({"backbone.conv1.weight": torch.zeros(1)}, HRNetConfig())
    with pytest.raises(ValueError, match="method"):
        build_bottomup_config("ae_resnet")
    with pytest.raises(ValueError, match="variant"):
        build_bottomup_config("ae_hrnet", "w18")
    with pytest.raises(TypeError):
        convert_bottomup(["not", "a", "mapping"], AssociativeEmbeddingConfig())
