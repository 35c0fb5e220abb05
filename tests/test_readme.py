"""The README's examples run as written.

Every ```python block, and every ```bash block that calls `python scripts/...`, is run from a scratch directory laid
out like the repository (`scripts/`, `configs/` and `../shared` linked in), where `outputs/demo/model` holds a tiny
model saved the way `make demo` saves one. Commands that need full COCO (`data_root=/data/coco`) or re-enter make are
listed explicitly and not run here.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.S)
# The README's two commands; full COCO; templates with placeholders; the `hfpose` CLI (tests/test_cli.py runs it)
# except its lines on the bundled data (`../shared/`), which run here; the demo (tests/test_pip_user.py runs it).
NOT_RUN_HERE = ("make ", "/data/coco", "CHECKPOINT.pth", "hfpose ", "hfpose demo")


def runs_here(command: str) -> bool:
    if command.startswith("python scripts/"):
        return not any(s in command for s in NOT_RUN_HERE)
    if command.startswith("hfpose ") and "../shared/" in command:
        return not any(s in command for s in NOT_RUN_HERE if s != "hfpose ")
    return False


def readme_blocks():
    return BLOCK.findall((REPO / "README.md").read_text())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, data_dir, golden_dir):
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    root = tmp_path_factory.mktemp("readme")
    repo = root / "repo"
    (repo / "outputs" / "demo").mkdir(parents=True)
    for name in ("scripts", "configs", "src"):
        (repo / name).symlink_to(REPO / name)
    (root / "shared").mkdir()
    (root / "shared" / "data").symlink_to(data_dir)
    (root / "shared" / "golden").symlink_to(golden_dir)
    torch.manual_seed(0)
    config = RLEConfig(
        backbone_config=resnet_backbone_config(
            50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
        ),
        input_size=[48, 64],
    )
    model_dir = repo / "outputs" / "demo" / "model"
    RLEForPoseEstimation(config).save_pretrained(model_dir)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(model_dir)
    return repo


def test_readme_has_the_two_commands():
    text = (REPO / "README.md").read_text()
    assert "make demo" in text and "make test" in text
    assert "make test" in (REPO / ".ci" / "run").read_text()


@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_readme_block_runs(scratch, index):
    language, code = readme_blocks()[index]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    if language == "python":
        completed = subprocess.run(
            [sys.executable, "-c", code], cwd=scratch, env=env, capture_output=True, text=True, timeout=300
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert completed.stdout.strip(), "every README python example prints what it shows"
        return
    commands = [line for line in code.replace("\\\n", " ").splitlines() if line.strip() and not line.startswith("#")]
    runnable = [c for c in commands if runs_here(c)]
    skipped = [c for c in commands if c not in runnable]
    assert all(any(s in c for s in NOT_RUN_HERE) for c in skipped), f"README command neither run nor excused: {skipped}"
    for command in runnable:
        command = command.split("#")[0].strip()
        command = (
            command.replace("python ", f"{sys.executable} ", 1)
            if command.startswith("python ")
            else command.replace("hfpose ", f"{sys.executable} -m hfpose.cli ", 1)
        )
        completed = subprocess.run(
            command, shell=True, cwd=scratch, env=env, capture_output=True, text=True, timeout=600
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
