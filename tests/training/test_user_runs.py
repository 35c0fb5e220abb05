"""Training as a new user runs it: shipped recipes by name, a launch whose processes did not form one group, two runs
on one output directory, the README's ResNet-50 recipe offline, saved-file permissions and the per-epoch line."""

import io
import os
import re
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from launch_utils import free_port

from hfpose.cli import main
from hfpose.training import TrainingRecipe
from hfpose.training.catalog import format_recipe_table, list_recipes, resolve_recipe
from hfpose.training.distributed import (
    DistributedLaunchError,
    check_process_group,
    launched_processes,
    lock_output_dir,
)

REPO = Path(__file__).resolve().parents[2]
CPU_DDP = (
    "ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no "
    "--dynamo_backend no"
)


def fake_accelerator(num_processes=1, main=True):
    return types.SimpleNamespace(num_processes=num_processes, is_main_process=main)


# ------------------------------------------------------------------------------------------------ shipped recipes
def test_every_shipped_recipe_has_a_unique_name_and_loads():
    entries = list_recipes()
    assert len(entries) == 19
    names = [entry.name for entry in entries]
    assert len(set(names)) == len(names)
    assert {
        "rle-res50-coco-256x192",
        "deeppose-res101-mpii-256x256",
        "ae-higherhrnet-w48-coco-512x512",
        "demo-rle-tiny-coco-mini",
    } <= set(names)
    for entry in entries:
        recipe = TrainingRecipe.from_yaml(entry.path)
        assert (recipe.method, recipe.dataset) == (entry.method, entry.dataset)
        assert entry.path.is_relative_to(Path(__import__("hfpose").__file__).parent / "recipes")
    rle = next(e for e in entries if e.name == "rle-res50-coco-256x192")
    assert rle.config_name == "td-reg_res50_rle-8xb64-210e_coco-256x192" and rle.reference == {"AP": 0.706}
    assert sum(bool(e.reference) for e in entries) == 18  # every row but the demo has MMPose's number
    assert (REPO / "configs" / "rle" / f"{rle.config_name}.yaml").resolve() == rle.path.resolve()


def test_resolve_recipe_by_name_config_name_and_path(tmp_path):
    path = resolve_recipe("rle-res50-coco-256x192")
    assert resolve_recipe("td-reg_res50_rle-8xb64-210e_coco-256x192") == path
    assert resolve_recipe("configs/rle/td-reg_res50_rle-8xb64-210e_coco-256x192.yaml").resolve() == path.resolve()
    own = tmp_path / "mine.yaml"
    own.write_text("method: rle\n")
    assert resolve_recipe(own) == own
    with pytest.raises(FileNotFoundError, match="did you mean rle-res50-coco-256x192") as error:
        resolve_recipe("rle-res50-coco-256x19")
    assert "\n" not in str(error.value) and "hfpose recipes" in str(error.value)


def test_recipes_command_lists_names_and_mmpose_numbers(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("rle-res50-coco-256x192 "))
    assert "td-reg_res50_rle-8xb64-210e_coco-256x192" in line and "256x192" in line and "AP 0.706" in line
    assert out.startswith(format_recipe_table().splitlines()[0])


# ------------------------------------------------------------------------------------------------ process groups
def test_launched_processes_reads_the_launcher_environment():
    assert launched_processes({}) == 1
    assert launched_processes({"WORLD_SIZE": "2"}) == 2
    assert launched_processes({"OMPI_COMM_WORLD_SIZE": "4"}) == 4


def test_unjoined_processes_stop_with_the_working_command():
    check_process_group(fake_accelerator(2), environ={"WORLD_SIZE": "2"})
    check_process_group(fake_accelerator(1), environ={})
    with pytest.raises(DistributedLaunchError) as error:
        check_process_group(fake_accelerator(1), environ={"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"})
    message = str(error.value)
    assert "\n" not in message and "started 2 processes" in message
    if not __import__("torch").cuda.is_available():
        assert CPU_DDP in message


def test_multi_gpu_launch_without_gpus_stops_before_writing(tmp_path, coco_mini):
    """The real launcher: `--multi_gpu --num_processes 2` on CPU without ACCELERATE_USE_CPU starts two processes that
    each see one; they stop with the message (the launcher ends the other rank on the first failure), nothing
    written."""
    output_dir = tmp_path / "run"
    env = {key: value for key, value in os.environ.items() if key != "ACCELERATE_USE_CPU"}
    env.update({"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"})
    command = [
        sys.executable,
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
        "max_steps=1",
        "num_workers=0",
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert completed.returncode != 0
    # Each rank stops with the message; which ranks get to print it before the launcher terminates the other on the
    # first failure (and whether two lines interleave on the shared stderr) is a race, so at least one must.
    message = "error: the launcher started 2 processes (WORLD_SIZE=2) but accelerate joined 1 into one run"
    assert 1 <= completed.stderr.count(message) <= 2, completed.stderr[-3000:]
    assert CPU_DDP in completed.stderr
    assert not output_dir.exists()


def test_a_second_run_on_the_same_output_directory_is_refused(tmp_path):
    import fcntl

    lock_output_dir(fake_accelerator(), tmp_path)  # this process's run holds it
    lock_output_dir(fake_accelerator(), tmp_path)  # a later run of the same process takes it over
    lock_output_dir(fake_accelerator(main=False), tmp_path)  # other ranks do not lock
    with open(tmp_path / ".hfpose-train.lock", "a+") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # another open file, as another process has
    second = tmp_path / "second"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, sys, time, pathlib; p = pathlib.Path(sys.argv[1]); p.mkdir(); "
                "f = open(p / '.hfpose-train.lock', 'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
                "f.write('4242\\n'); f.flush(); "
                "print('locked', flush=True); time.sleep(60)"
            ),
            str(second),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            DistributedLaunchError,
            match=r"another training run \(pid 4242\) is writing .*second; "
            "wait for it to finish, or give this run its own output_dir",
        ):
            lock_output_dir(fake_accelerator(), second)
    finally:
        holder.kill()
        holder.wait()
    lock_output_dir(fake_accelerator(), second)  # the kernel dropped the dead holder's lock


# ------------------------------------------------------------------------------------------------ offline recipe
def test_readme_resnet50_recipe_offline_says_what_to_set(tmp_path, coco_mini, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    status = main(
        [
            "train",
            "rle-res50-coco-256x192",
            f"data_root={coco_mini}",
            f"output_dir={tmp_path / 'run'}",
            "bbox_file=null",
            "num_workers=0",
        ]
    )
    assert status == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert "pretrained_backbone 'microsoft/resnet-50' cannot be loaded" in errors[0]
    assert "set pretrained_backbone=null" in errors[0] and "init_from=" in errors[0]


# ------------------------------------------------------------------------------------------------ saved files
def test_saved_model_files_follow_the_umask(tmp_path):
    import torch

    from hfpose.file_modes import honour_umask
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    torch.manual_seed(0)
    config = RLEConfig(
        backbone_config=resnet_backbone_config(
            50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
        ),
        input_size=[48, 64],
    )
    previous = os.umask(0o027)
    try:
        RLEForPoseEstimation(config).save_pretrained(tmp_path / "model")
        honour_umask(tmp_path / "model")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "model").iterdir()}
    assert modes == {"config.json": 0o640, "model.safetensors": 0o640}


def test_training_saves_readable_model_and_checkpoint_files(tmp_path, coco_mini, capsys):
    from hfpose.training import train

    recipe = TrainingRecipe.from_yaml(
        resolve_recipe("demo-rle-tiny-coco-mini"),
        [
            f"data_root={coco_mini}",
            f"output_dir={tmp_path / 'run'}",
            "epochs=2",
            "batch_size=32",
            "val_interval=2",
            "checkpoint_interval=1",
            "num_workers=0",
            "input_size=[48,64]",
        ],
    )
    previous = os.umask(0o022)
    try:
        result = train(recipe)
    finally:
        os.umask(previous)
    weights = [
        result.model_dir / "model.safetensors",
        *sorted((result.output_dir / "checkpoints").glob("*/model.safetensors")),
    ]
    assert len(weights) == 3
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o644 for path in weights)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert re.fullmatch(r"epoch 1/2  loss -?\d+\.\d{4}  lr \d\.\d\de-\d\d  \d+\.\d samples/s  val -", lines[0])
    assert f"val AP {result.metrics['AP']:.4f} (epoch 2)" in lines[1]
    assert "\r" not in out


def test_epoch_line_and_quiet_bar_outside_a_terminal():
    from hfpose.progress import EpochReporter, progress_bar

    reporter = EpochReporter(fake_accelerator(2), epochs=5, stream=io.StringIO())
    batches = list(reporter.bar([{"pixel_values": __import__("torch").zeros(4, 3, 2, 2)}] * 3, epoch=1))
    assert len(batches) == 3
    history = [
        {"epoch": 0, "loss": 9.0, "lr": 1.0},
        {"epoch": 1, "loss": 1.0, "lr": 2e-3},
        {"epoch": 1, "loss": 3.0, "lr": 1e-3},
        {"epoch": 1, "loss": None, "lr": 1e-3},
    ]
    line = reporter.line(history, {"epoch": 1, "AP": 0.25})
    parts = line.split("  ")
    assert parts[:3] == ["epoch 2/5", "loss 2.0000", "lr 1.00e-03"] and parts[4] == "val AP 0.2500 (epoch 1)"
    assert parts[3].endswith(" samples/s") and float(parts[3].split()[0]) > 0  # 3 x 4 x 2 processes
    assert progress_bar(range(3), desc="x").disable  # pytest's stderr is not a terminal: no bar, no \r
    assert EpochReporter(fake_accelerator(2, main=False), epochs=1).enabled is False
