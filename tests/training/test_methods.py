"""Every top-down method trains a few steps through the accelerate loop on real coco-mini images (tiny backbone),
and `init_from` loads what fits from hfpose directories and MMPose checkpoints, failing clearly otherwise."""

import numpy as np
import pytest
import torch
import yaml

TINY_BACKBONE = {
    "model_type": "resnet",
    "embedding_size": 8,
    "hidden_sizes": [8, 16, 16, 32],
    "depths": [1, 1, 1, 1],
    "layer_type": "basic",
    "out_features": ["stage4"],
}


def _recipe(tmp_path, coco_mini, **overrides):
    from hfpose.training import TrainingRecipe

    values = {
        "method": "rle",
        "backbone": "custom",
        "model": {"backbone_config": TINY_BACKBONE},
        "data_root": str(coco_mini),
        "bbox_file": None,
        "pretrained_backbone": None,
        "input_size": [64, 64],
        "auto_scale_lr": False,
        "epochs": 1,
        "batch_size": 16,
        "warmup_iters": 2,
        "milestones": [5],
        "val_interval": 100,
        "checkpoint_interval": 100,
        "num_workers": 0,
        "max_steps": 3,
        "output_dir": str(tmp_path / "run"),
    }
    values.update(overrides)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(values))
    return TrainingRecipe.from_yaml(path)


@pytest.mark.parametrize("method", ["deeppose", "ipr", "dsnt", "debias_ipr"])
def test_method_trains_a_few_steps(tmp_path, coco_mini, method):
    from transformers import AutoModelForPoseEstimation

    import hfpose  # noqa: F401
    from hfpose.training import train

    model = {"backbone_config": TINY_BACKBONE}
    if method != "deeppose":  # a small deconvolution head keeps the integral models quick
        model.update({"deconv_out_channels": [16, 16, 16]})
    result = train(_recipe(tmp_path, coco_mini, method=method, model=model))
    assert result.global_step == 3
    losses = [r["loss"] for r in result.history]
    assert len(losses) == 3 and all(np.isfinite(losses))
    loaded = AutoModelForPoseEstimation.from_pretrained(result.model_dir)
    assert loaded.config.model_type == f"hfpose_{method}"
    if method != "deeppose":
        # The integral targets came from the codec at the model's heatmap size (64 / 4 = 16).
        assert list(loaded.config.heatmap_size) == [16, 16]


def test_init_from_hfpose_directory_and_reports(tmp_path, coco_mini):
    from hfpose.training.initialization import load_initial_weights
    from hfpose.training.loop import build_model

    recipe = _recipe(tmp_path, coco_mini)
    source = build_model(recipe)
    source.save_pretrained(tmp_path / "source")
    target = build_model(recipe)
    report = load_initial_weights(target, tmp_path / "source", method="rle")
    assert not report.missing and not report.unexpected and not report.mismatched
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key]), key
    # A DeepPose head (K * 2 outputs) into an RLE model (K * 4): the backbone loads, the head is reported.
    deeppose = build_model(_recipe(tmp_path, coco_mini, method="deeppose"))
    deeppose.save_pretrained(tmp_path / "deeppose")
    report = load_initial_weights(build_model(recipe), tmp_path / "deeppose", method="rle")
    assert any(key.startswith("head.fc.weight") for key in report.mismatched)
    assert any(key.startswith("backbone.") for key in report.loaded)
    assert "shape mismatches" in report.summary()


def test_init_from_mmpose_backbone_checkpoint(tmp_path, golden_dir):
    """The golden MMPose ResNet-50 checkpoint (backbone.* keys) initialises an RLE ResNet-50's backbone exactly."""
    from transformers import AutoConfig, AutoModelForPoseEstimation

    import hfpose  # noqa: F401
    from hfpose.training.initialization import load_initial_weights

    model = AutoModelForPoseEstimation.from_config(AutoConfig.for_model("hfpose_rle"))
    path = golden_dir / "models" / "resnet50_backbone_mmpose.pth"
    report = load_initial_weights(model, path, method="rle")
    assert all(key.startswith("backbone.") for key in report.loaded)
    assert all(not key.startswith("backbone.") for key in report.missing)  # only the head keeps its init
    mmpose = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    torch.testing.assert_close(
        model.backbone.embedder.embedder.convolution.weight, mmpose["backbone.conv1.weight"].float()
    )


def test_init_from_errors_name_the_problem(tmp_path, coco_mini):
    from hfpose.training.initialization import load_initial_weights
    from hfpose.training.loop import build_model

    model = build_model(_recipe(tmp_path, coco_mini))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_initial_weights(model, tmp_path / "missing.pth", method="rle")
    unrelated = tmp_path / "unrelated.safetensors"
    from safetensors.torch import save_file

    save_file({"something.else": torch.zeros(3)}, str(unrelated))
    with pytest.raises(ValueError, match="does not match"):
        load_initial_weights(model, unrelated, method="rle")
