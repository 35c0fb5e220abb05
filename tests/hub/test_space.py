"""`hfpose push --space`: the demo page as a Gradio Space beside the model, offline (dry run, and a mocked HfApi);
the Space's app runs in a subprocess that cannot import hfpose, against the dry-run model repository."""

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from huggingface_hub import HfApi, SpaceCard
from transformers import pipeline

from hfpose.cli import main as cli_main
from hfpose.hub.push import HubOfflineError
from hfpose.hub.space import SPACE_PACKAGE, push_space, write_space

# import name -> distribution name, written independently of hfpose.hub.space's own table
DISTRIBUTION = {"cv2": "opencv-python-headless", "PIL": "pillow", "yaml": "pyyaml"}
SDK = {"gradio"}  # installed by the Space's sdk

CLEAN_SPACE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path = [p for p in sys.path if not (Path(p or ".") / "hfpose" / "__init__.py").is_file()]
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    try:
        import hfpose  # noqa: F401
        importable = True
    except ImportError:
        importable = False
    sys.path.insert(0, ".")
    import numpy as np
    from PIL import Image

    import app  # the Space's app.py: builds `demo` for $HFPOSE_MODEL at import
    from hfpose_space.app import load_estimator, predict_image

    image_file, boxes = json.loads(Path(sys.argv[1]).read_text())
    estimator = load_estimator(app.MODEL, trust_remote_code=True)
    drawn, persons = predict_image(estimator, np.asarray(Image.open(image_file).convert("RGB")), json.dumps(boxes))
    Path(sys.argv[2]).write_text(json.dumps({
        "hfpose_importable": importable, "demo": type(app.demo).__name__, "persons": persons,
        "drawn_shape": list(drawn.shape),
        "hfpose_modules": sorted(m for m in sys.modules if m == "hfpose" or m.startswith("hfpose."))}))
""")


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
    directory = tmp_path_factory.mktemp("tiny_rle_space")
    RLEForPoseEstimation(config).save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(directory)
    return directory


def _third_party_imports(directory: Path) -> set[str]:
    local = {path.stem for path in directory.rglob("*.py")} | {SPACE_PACKAGE}
    found = set()
    for path in directory.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in local}


def test_dry_run_writes_the_model_and_the_space(model_dir, tmp_path, coco_mini, capsys):
    out = tmp_path / "repo"
    assert cli_main(["push", str(model_dir), "--repo-id", "someone/tiny-rle", "--dry-run", str(out), "--space"]) == 0
    space = tmp_path / "repo-space"
    printed = capsys.readouterr().out
    assert str(space / "app.py") in printed and "model.safetensors" in printed
    files = {p.relative_to(space).as_posix() for p in space.rglob("*") if p.is_file()}
    assert {
        "app.py",
        "requirements.txt",
        "README.md",
        f"{SPACE_PACKAGE}/__init__.py",
        f"{SPACE_PACKAGE}/app.py",
        f"{SPACE_PACKAGE}/visualization.py",
        f"{SPACE_PACKAGE}/video/tracking.py",
        f"{SPACE_PACKAGE}/video/one_euro.py",
    } <= files
    assert (out / "model.safetensors").is_file() and (out / "pipeline_hfpose.py").is_file()

    card = SpaceCard.load(space / "README.md")
    assert card.data.sdk == "gradio" and card.data.app_file == "app.py"
    assert card.data.models == ["someone/tiny-rle"]
    import gradio

    assert card.data.sdk_version == gradio.__version__
    assert 'os.environ.get("HFPOSE_MODEL", "someone/tiny-rle")' in (space / "app.py").read_text()

    # every third-party import of the Space and of the model's remote code is a requirement (or the sdk)
    requirements = {
        line.split("=")[0].split(">")[0].strip()
        for line in (space / "requirements.txt").read_text().splitlines()
        if line.strip()
    }
    needed = {DISTRIBUTION.get(name, name) for name in _third_party_imports(space) | _third_party_imports(out)}
    assert needed - SDK <= requirements, needed - SDK - requirements
    assert "transformers==" in (space / "requirements.txt").read_text()

    # the Space runs without hfpose: the page's code from hfpose_space/, the model from the repo's remote code
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    person = next(a for a in annotations["annotations"] if a["num_keypoints"] > 5 and not a["iscrowd"])
    file_name = next(i["file_name"] for i in annotations["images"] if i["id"] == person["image_id"])
    image, boxes = str(coco_mini / "val2017" / file_name), [person["bbox"]]
    (tmp_path / "request.json").write_text(json.dumps([image, boxes]))
    (space / "clean.py").write_text(CLEAN_SPACE)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "PYTHONPATH": "",
        "OMP_NUM_THREADS": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HFPOSE_MODEL": str(out),
    }
    command = [sys.executable, "clean.py", str(tmp_path / "request.json"), str(tmp_path / "result.json")]
    completed = subprocess.run(command, check=False, cwd=space, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["hfpose_importable"] is False and result["hfpose_modules"] == []
    assert result["demo"] == "Blocks"
    expected = pipeline("keypoint-detection", model=str(model_dir))(image, boxes=boxes)
    [got], [want] = result["persons"], expected
    assert len(got["keypoints"]) == 17
    np.testing.assert_allclose(
        [[k["x"], k["y"]] for k in got["keypoints"]], [[k["x"], k["y"]] for k in want["keypoints"]], atol=1e-5
    )


def test_space_needs_remote_code(model_dir, tmp_path, capsys):
    status = cli_main(
        ["push", str(model_dir), "--repo-id", "a/b", "--dry-run", str(tmp_path / "r"), "--space", "--no-remote-code"]
    )
    assert status == 2 and capsys.readouterr().err.startswith("error: --space needs the remote code")
    with pytest.raises(ValueError, match="model repo_id must look like"):
        write_space(tmp_path / "s", "a/b/c")


@pytest.fixture
def fake_hub(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    calls = {"repos": [], "commits": []}

    def create_repo(self, repo_id, **kwargs):
        calls["repos"].append((repo_id, kwargs))
        return mock.MagicMock(repo_id=repo_id)

    def create_commit(self, repo_id, operations, **kwargs):
        files = {op.path_in_repo: Path(op.path_or_fileobj).read_bytes() for op in operations}
        calls["commits"].append({"repo_id": repo_id, "files": files, **kwargs})
        return mock.MagicMock(commit_url=f"https://huggingface.co/{repo_id}/commit/0")

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    return calls


def test_push_with_space_creates_a_gradio_space_beside_the_model(model_dir, fake_hub, capsys):
    assert cli_main(["push", str(model_dir), "--repo-id", "someone/tiny", "--space"]) == 0
    assert [repo for repo, _ in fake_hub["repos"]] == ["someone/tiny", "someone/tiny-demo"]
    assert fake_hub["repos"][1][1] == {"private": False, "exist_ok": True, "repo_type": "space", "space_sdk": "gradio"}
    model_commit, space_commit = fake_hub["commits"]
    assert model_commit["repo_type"] == "model" and "pipeline_hfpose.py" in model_commit["files"]
    assert space_commit["repo_type"] == "space" and space_commit["repo_id"] == "someone/tiny-demo"
    assert {"app.py", "requirements.txt", "README.md", f"{SPACE_PACKAGE}/app.py"} <= set(space_commit["files"])
    assert b"sdk: gradio" in space_commit["files"]["README.md"]
    assert "pushed the demo Space to https://huggingface.co/someone/tiny-demo/commit/0" in capsys.readouterr().out
    push_space("someone/tiny", space_id="org/page")
    assert fake_hub["repos"][-1][0] == "org/page"


def test_space_push_offline_fails_before_any_hub_call(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    calls = []
    monkeypatch.setattr(HfApi, "create_repo", lambda *a, **k: calls.append(a))
    with pytest.raises(HubOfflineError, match="cannot push the Space 'someone/tiny-demo'"):
        push_space("someone/tiny")
    assert calls == []
