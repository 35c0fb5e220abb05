"""Pushing to the Hub, offline: `HfApi.create_repo` / `create_commit` are patched and the commit is inspected."""

import json
from pathlib import Path
from unittest import mock

import pytest
import torch
from huggingface_hub import HfApi, ModelCard

from hfpose.cli import main as cli_main
from hfpose.hub.push import HubOfflineError, collect_model_files, push_to_hub

REMOTE_CODE_ENTRIES = {
    "configuration_hfpose.py",
    "modeling_hfpose.py",
    "image_processing_hfpose.py",
    "pipeline_hfpose.py",
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    directory = tmp_path_factory.mktemp("tiny_rle_push")
    RLEForPoseEstimation(config).save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(directory)
    (directory / "eval_val2017.json").write_text(
        json.dumps(
            {
                "model_dir": str(directory),
                "split": "val2017",
                "bbox_file": None,
                "flip_test": True,
                "stats": {"AP": 0.0123, "AP .5": 0.05, "AP .75": 0.001, "AR": 0.02, "AR .5": 0.07},
            }
        )
    )
    (directory / "checkpoints").mkdir()
    (directory / "checkpoints" / "junk.bin").write_bytes(b"not for the hub")
    return directory


class FakeHub:
    """Records the calls; reads every uploaded file while the staging folder still exists."""

    def __init__(self):
        self.repos, self.commits = [], []

    def create_repo(self, api, repo_id, **kwargs):
        self.repos.append((repo_id, kwargs))
        return mock.MagicMock(repo_id=repo_id)

    def create_commit(self, api, repo_id, operations, **kwargs):
        files = {}
        for operation in operations:
            source = operation.path_or_fileobj
            files[operation.path_in_repo] = Path(source).read_bytes() if isinstance(source, str) else source
        self.commits.append({"repo_id": repo_id, "files": files, **kwargs})
        return mock.MagicMock(commit_url=f"https://huggingface.co/{repo_id}/commit/0")


@pytest.fixture
def fake_hub(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    hub = FakeHub()
    monkeypatch.setattr(HfApi, "create_repo", lambda self, *a, **k: hub.create_repo(self, *a, **k))
    monkeypatch.setattr(HfApi, "create_commit", lambda self, *a, **k: hub.create_commit(self, *a, **k))
    return hub


def test_push_uploads_exactly_the_model_files_card_and_remote_code(model_dir, fake_hub):
    source = {
        "type": "mmpose",
        "checkpoint_url": "https://example.org/rle/td-reg_res50_rle-d37efd64.pth",
        "verified_atol": 1e-4,
    }
    push_to_hub(
        model_dir, "someone/tiny-rle", private=True, card_results=model_dir / "eval_val2017.json", source=source
    )
    assert fake_hub.repos == [("someone/tiny-rle", {"private": True, "exist_ok": True, "repo_type": "model"})]
    [commit] = fake_hub.commits
    files = set(commit["files"])
    bundled = {name for name in files if name.startswith("hfpose_") and name.endswith(".py")}
    assert (
        files
        == {"model.safetensors", "config.json", "preprocessor_config.json", "README.md", "requirements.txt"}
        | REMOTE_CODE_ENTRIES
        | bundled
    )
    assert "hfpose_requirements.py" in bundled
    assert b"opencv-python-headless" in commit["files"]["requirements.txt"]
    assert {
        "hfpose_models_rle_modeling_rle.py",
        "hfpose_image_processing_topdown.py",
        "hfpose_pipelines_keypoint_detection.py",
    } <= bundled
    assert commit["files"]["model.safetensors"] == (model_dir / "model.safetensors").read_bytes()
    config = json.loads(commit["files"]["config.json"])
    assert config["auto_map"] == {
        "AutoConfig": "configuration_hfpose.RLEConfig",
        "AutoModelForPoseEstimation": "modeling_hfpose.RLEForPoseEstimation",
    }
    card_path = model_dir.parent / "pushed_README.md"
    card_path.write_bytes(commit["files"]["README.md"])
    card = ModelCard.load(card_path)
    assert card.data.library_name == "hfpose" and card.data.pipeline_tag == "keypoint-detection"
    assert [(r.metric_name, r.metric_value) for r in card.data.eval_results] == [
        ("AP", 0.0123),
        ("AP .5", 0.05),
        ("AP .75", 0.001),
        ("AR", 0.02),
        ("AR .5", 0.07),
    ]
    assert "measured by hfpose with `python scripts/evaluate.py" in card.text
    assert "original file: `td-reg_res50_rle-d37efd64.pth`" in card.text
    assert "within an absolute tolerance of 0.0001" in card.text
    assert 'pipeline("keypoint-detection", model="someone/tiny-rle")' in card.text
    assert "trust_remote_code=True" in card.text
    assert "## Requirements of the remote code" in card.text and "`opencv-python-headless`" in card.text
    assert 'pipeline("keypoint-detection", model="someone/tiny-rle", trust_remote_code=True)' in card.text
    # the model directory itself is left untouched
    assert "auto_map" not in json.loads((model_dir / "config.json").read_text())


def test_push_without_remote_code_and_cli_script(model_dir, fake_hub, capsys):
    status = cli_main(["push", str(model_dir), "--repo-id", "someone/tiny", "--no-remote-code"])
    assert status == 0
    assert set(fake_hub.commits[0]["files"]) == {
        "model.safetensors",
        "config.json",
        "preprocessor_config.json",
        "README.md",
    }
    assert "pushed" in capsys.readouterr().out


def test_offline_gives_a_clear_error_before_any_hub_call(model_dir, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls = []
    monkeypatch.setattr(HfApi, "create_repo", lambda *a, **k: calls.append(a))
    with pytest.raises(HubOfflineError, match="HF_HUB_OFFLINE is set"):
        push_to_hub(model_dir, "someone/tiny")
    assert cli_main(["push", str(model_dir), "--repo-id", "someone/tiny"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: cannot push") and "Traceback" not in error
    assert calls == []


def test_model_and_processor_push_to_hub_work_as_in_transformers(model_dir, fake_hub, monkeypatch):
    from huggingface_hub.errors import EntryNotFoundError
    from transformers import AutoImageProcessor, AutoModelForPoseEstimation

    def no_card_yet(*args, **kwargs):  # a new repository has no README.md (transformers then writes its own)
        raise EntryNotFoundError("README.md")

    monkeypatch.setattr(ModelCard, "load", no_card_yet)

    AutoModelForPoseEstimation.from_pretrained(model_dir).push_to_hub("someone/tiny")
    AutoImageProcessor.from_pretrained(model_dir).push_to_hub("someone/tiny")
    assert [set(c["files"]) for c in fake_hub.commits] == [
        {"README.md", "model.safetensors", "config.json"},
        {"README.md", "preprocessor_config.json"},
    ]
    pushed = json.loads(fake_hub.commits[0]["files"]["config.json"])
    assert pushed["model_type"] == "hfpose_rle" and pushed["input_size"] == [48, 64]


def test_bad_model_directories(tmp_path, model_dir, fake_hub):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        collect_model_files(tmp_path / "missing")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"lacks \['preprocessor_config.json', 'model.safetensors'\]"):
        collect_model_files(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="pytorch_model.bin only"):
        collect_model_files(tmp_path)
    with pytest.raises(ValueError, match="repo_id must look like"):
        push_to_hub(model_dir, "a/b/c")
    assert fake_hub.repos == []
