"""What someone who only ran `pip install hfpose` can do: the wheel, installed in a fresh venv outside the checkout.

The wheel is built from this checkout (`pip wheel --no-build-isolation`, which must leave no `build/` or
`*.egg-info` behind) and installed with `--no-deps` into a new venv. To keep the suite fast the venv does not
download its dependencies: a `.pth` file points at a *filtered view* of the running interpreter's site-packages (the
locked environment), a folder of links to every entry except hfpose's own (its package, dist-info, editable finder
and every `.pth`), so hfpose can only come from the wheel, and `PYTHONPATH` is cleared so the checkout is not
importable (each test asserts where `hfpose` was imported from). A second venv has the same dependencies and no
hfpose at all, for the remote-code repository. Every command runs from a scratch folder outside the checkout.
"""

import json
import math
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from launch_utils import free_port
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.DOTALL)


def run(command, cwd, env, timeout=300, check=True):
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert completed.returncode == 0, (command, completed.stdout[-2000:], completed.stderr[-4000:])
    return completed


def filtered_site_packages(target: Path) -> Path:
    """A folder of symlinks to the locked environment's site-packages, without anything of hfpose and no .pth."""
    source = Path(sysconfig.get_paths()["purelib"])
    target.mkdir()
    for entry in source.iterdir():
        name = entry.name.lower()
        if name.endswith(".pth") or name.startswith(("hfpose", "__editable__")) or "hfpose" in name:
            continue
        (target / entry.name).symlink_to(entry)
    return target


def make_venv(root: Path, dependencies: Path, wheel: Path | None, env: dict) -> Path:
    run([sys.executable, "-m", "venv", "--without-pip", str(root)], cwd=root.parent, env=env)
    [site] = root.glob("lib/python*/site-packages")
    (site / "locked-dependencies.pth").write_text(f"{dependencies}\n")
    python = root / "bin" / "python"
    if wheel is not None:
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "--no-deps",
                "--no-index",
                "-q",
                str(wheel),
            ],
            cwd=root.parent,
            env=env,
        )
    return python


@pytest.fixture(scope="module")
def user(tmp_path_factory, data_dir):
    """(scratch folder, env, venv with the wheel, venv without hfpose), the scratch folder laid out as a user's:
    `outputs/demo/model` (a tiny RLE model) and `../shared/data`."""
    root = tmp_path_factory.mktemp("pip_user")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "ACCELERATE_USE_CPU")}
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
            "HFPOSE_OPTIMIZE": "0",
            "PYTHONNOUSERSITE": "1",
            "HF_MODULES_CACHE": str(root / "modules"),
            "CUDA_VISIBLE_DEVICES": "",
        }
    )

    # 1. the wheel, built without leaving build products in the checkout
    before = {p.name for p in REPO.iterdir()} | {p.name for p in (REPO / "src").iterdir()}
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(REPO),
        ],
        cwd=root,
        env=env,
    )
    after = {p.name for p in REPO.iterdir()} | {p.name for p in (REPO / "src").iterdir()}
    assert not {name for name in after - before if name == "build" or name.endswith(".egg-info")}, after - before
    [wheel] = (root / "dist").glob("hfpose-*.whl")

    dependencies = filtered_site_packages(root / "locked-site-packages")
    with_hfpose = make_venv(root / "venv", dependencies, wheel, env)
    without_hfpose = make_venv(root / "venv-no-hfpose", dependencies, None, env)

    scratch = root / "home" / "work"
    (scratch / "outputs" / "demo").mkdir(parents=True)
    (root / "home" / "shared").mkdir()
    (root / "home" / "shared" / "data").symlink_to(data_dir)
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    torch.manual_seed(0)
    config = RLEConfig(
        backbone_config=resnet_backbone_config(
            50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
        ),
        input_size=[48, 64],
    )
    model_dir = scratch / "outputs" / "demo" / "model"
    RLEForPoseEstimation(config).save_pretrained(model_dir)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(model_dir)
    return scratch, env, with_hfpose, without_hfpose


# Runs each README snippet in its own namespace in one interpreter (one torch import instead of one per snippet),
# reporting what each printed and where hfpose was imported from.
SNIPPET_RUNNER = textwrap.dedent("""
    import contextlib, io, json, sys
    printed = []
    for code in json.load(open(sys.argv[1])):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "<README snippet>", "exec"), {"__name__": "__main__"})
        printed.append(buffer.getvalue())
    import hfpose
    print(json.dumps({"hfpose": hfpose.__file__, "printed": printed}))
""")


def test_readme_snippets_and_recipes(user):
    scratch, env, python, bare = user
    bin_dir = python.parent
    blocks = BLOCK.findall((REPO / "README.md").read_text())
    # The Inference section's snippets (tests/test_readme.py runs the full-size HRNet one, too slow to repeat here).
    snippets = [code for language, code in blocks if language == "python" and "outputs/demo/model" in code]
    assert len(snippets) >= 2 and any('pipeline("keypoint-detection"' in code for code in snippets)
    (scratch / "snippets.json").write_text(json.dumps(snippets))
    (scratch / "run_snippets.py").write_text(SNIPPET_RUNNER)
    report = json.loads(run([str(python), "run_snippets.py", "snippets.json"], scratch, env).stdout.splitlines()[-1])
    assert Path(report["hfpose"]).is_relative_to(python.parent.parent)  # the wheel's copy, not the checkout
    assert len(report["printed"]) == len(snippets) and all(text.strip() for text in report["printed"])
    missing = run([str(bare), "-c", "import hfpose"], scratch, env, check=False)
    assert missing.returncode != 0 and "No module named 'hfpose'" in missing.stderr
    listing = run([str(bin_dir / "hfpose"), "recipes"], scratch, env).stdout
    line = next(row for row in listing.splitlines() if row.startswith("rle-res50-coco-256x192 "))
    assert "td-reg_res50_rle-8xb64-210e_coco-256x192" in line and "AP 0.706" in line
    assert len([row for row in listing.splitlines() if re.match(r"^[a-z0-9-]+-\d+x\d+ ", row)]) == 18


def test_train_a_shipped_recipe_with_two_cpu_processes(user, coco_mini):
    scratch, env, python, _ = user
    output_dir = scratch / "ddp"
    command = [
        str(python),
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        free_port(),
        "-m",
        "hfpose.cli",
        "train",
        "demo-rle-tiny-coco-mini",
        f"data_root={coco_mini}",
        f"output_dir={output_dir}",
        "epochs=1",
        "batch_size=16",
        "input_size=[48,64]",
        "num_workers=0",
        "val_interval=1",
        "checkpoint_interval=1",
    ]
    completed = run(command, scratch, {**env, "ACCELERATE_USE_CPU": "1"}, timeout=400)
    processes = json.loads((output_dir / "processes.json").read_text())
    assert processes["num_processes"] == 2
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_train2017.json").read_text())
    count = sum(1 for a in annotations["annotations"] if not a.get("iscrowd") and a.get("num_keypoints", 0) > 0)
    first, second = processes["samples_per_process"]
    # Each rank sees its half; accelerate's even batches pad the shorter tail with repeated samples (< 1 batch).
    assert first == second == math.ceil(math.ceil(count / 2) / 16) * 16 and count <= first + second < count + 32
    assert completed.stdout.count("model saved to") == 1  # the main process only
    assert len(re.findall(r"^epoch 1/1  loss ", completed.stdout, re.MULTILINE)) == 1 and "\r" not in completed.stdout
    weights = output_dir / "model" / "model.safetensors"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(weights.stat().st_mode) == 0o666 & ~mask


def test_demo_runs_from_the_wheel(user, coco_mini):
    scratch, env, python, _ = user
    run(
        [
            str(python.parent / "hfpose"),
            "demo",
            "--data-root",
            str(coco_mini),
            "--output-dir",
            "demo-run",
            "epochs=1",
            "input_size=[48,64]",
            "val_interval=1",
            "num_workers=0",
        ],
        scratch,
        env,
        timeout=400,
    )
    metrics = json.loads((scratch / "demo-run" / "metrics.json").read_text())
    assert metrics["optimizer_steps"] >= 1 and 0.0 <= metrics["AP"] <= 1.0
    assert (scratch / "demo-run" / "prediction.png").stat().st_size > 1000


def test_predict_on_an_exif_rotated_photo(user):
    scratch, env, python, _ = user
    upright = np.zeros((96, 64, 3), np.uint8)
    upright[:32, 20:44] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(scratch / "portrait.jpg", exif=exif.tobytes())
    run(
        [str(python.parent / "hfpose"), "predict", "outputs/demo/model", "portrait.jpg", "--output-dir", "pred"],
        scratch,
        env,
    )
    [person] = json.loads((scratch / "pred" / "portrait.json").read_text())["persons"]
    assert person["bbox"] == [0.0, 0.0, 64.0, 96.0] and len(person["keypoints"]) == 17
    assert np.asarray(Image.open(scratch / "pred" / "portrait_pose.png")).shape == (96, 64, 3)


def test_remote_code_pipeline_in_a_venv_without_hfpose(user, coco_mini):
    scratch, env, python, bare = user
    run(
        [
            str(python.parent / "hfpose"),
            "push",
            "outputs/demo/model",
            "--repo-id",
            "someone/tiny-rle",
            "--dry-run",
            "repo",
        ],
        scratch,
        env,
    )
    assert "opencv-python-headless" in (scratch / "repo" / "requirements.txt").read_text()
    image = str(min((coco_mini / "val2017").glob("*.jpg")))
    script = textwrap.dedent(f"""
        import json
        from transformers import pipeline
        estimator = pipeline("keypoint-detection", model="repo", trust_remote_code=True)
        persons = estimator({image!r}, boxes=[[20.0, 30.0, 120.0, 260.0]])
        print(json.dumps({{"module": type(estimator).__module__, "persons": persons}}))
    """)
    result = json.loads(run([str(bare), "-c", script], scratch, env).stdout.strip().splitlines()[-1])
    assert result["module"].startswith("transformers_modules.")
    from transformers import pipeline

    [expected] = pipeline("keypoint-detection", model=str(scratch / "outputs" / "demo" / "model"))(
        image, boxes=[[20.0, 30.0, 120.0, 260.0]]
    )
    [got] = result["persons"]
    np.testing.assert_allclose(
        [[k["x"], k["y"]] for k in got["keypoints"]], [[k["x"], k["y"]] for k in expected["keypoints"]], atol=1e-5
    )
    shutil.rmtree(scratch / "repo")
