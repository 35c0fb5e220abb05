"""Untrusted files run no code.

* A static scan of ``src/hfpose``: no ``pickle`` / ``marshal`` / ``shelve`` / ``dill`` / ``joblib`` loading, no
  ``eval`` / ``exec`` / ``compile`` / ``__import__`` builtins, no ``yaml.load`` / ``yaml.unsafe_load``, no
  ``np.load(allow_pickle=True)``, no ``trust_remote_code`` other than False or the caller's own argument passed
  through, and every ``torch.load`` passes
  ``weights_only=True`` literally.
* Booby-trapped pickles (whose unpickling would create a marker file) given to the MMPose converter, to
  ``init_from`` and planted in a training checkpoint are refused and the marker never appears.
* A saved hfpose model (with or without the optional remote-code files) loads with ``trust_remote_code=False``.
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest
import reliability_tally as tally
import torch

SOURCE = Path(__file__).resolve().parents[2] / "src" / "hfpose"

FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULE_CALLS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("cPickle", "load"),
    ("cPickle", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("dill", "load"),
    ("dill", "loads"),
    ("joblib", "load"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("os", "system"),
}


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _keyword(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def scan(root: Path) -> list[str]:
    """``file:line: reason`` for every call that could run code from a file."""
    findings = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = lambda node: f"{path.relative_to(root.parent)}:{node.lineno}"  # noqa: E731
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "pickle"
                and {a.name for a in node.names} <= {"UnpicklingError"}
            ):
                continue  # the exception class alone (to report refused files) cannot load anything
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    if name and name.split(".")[0] in ("pickle", "cPickle", "marshal", "shelve", "dill"):
                        findings.append(f"{where(node)}: imports {name}")
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func)
            if name in FORBIDDEN_BUILTINS:
                findings.append(f"{where(node)}: calls {name}()")
            if (
                name
                and "." in name
                and tuple(name.rsplit(".", 1)[-2:]) in {(m.split(".")[-1], f) for m, f in FORBIDDEN_MODULE_CALLS}
                and name.split(".")[-2] in {m for m, _ in FORBIDDEN_MODULE_CALLS}
            ):
                findings.append(f"{where(node)}: calls {name}()")
            if name in ("torch.load",):
                value = _keyword(node, "weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    findings.append(f"{where(node)}: torch.load without weights_only=True")
            if name in ("np.load", "numpy.load"):
                value = _keyword(node, "allow_pickle")
                if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
                    findings.append(f"{where(node)}: np.load with allow_pickle")
            value = _keyword(node, "trust_remote_code")
            # False, or the caller's own `trust_remote_code` argument passed through (an explicit opt-in of theirs)
            passed_through = isinstance(value, ast.Name) and value.id == "trust_remote_code"
            if (
                value is not None
                and not passed_through
                and not (isinstance(value, ast.Constant) and value.value is False)
            ):
                findings.append(f"{where(node)}: passes trust_remote_code={ast.unparse(value)}")
    return findings


def test_scanner_catches_every_pattern(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "bad.py").write_text(
        "import pickle\nimport torch, yaml, numpy as np\n"
        "pickle.loads(b'')\neval('1')\nexec('x = 1')\ntorch.load('f')\ntorch.load('f', weights_only=False)\n"
        "yaml.load('a')\nnp.load('f', allow_pickle=True)\nf(trust_remote_code=True)\n__import__('os')\n"
        "model.eval()\ntorch.load('f', weights_only=True)\nyaml.safe_load('a')\nnp.load('f')\n"
        "f(trust_remote_code=trust_remote_code)\nf(trust_remote_code=opt)\n"
    )
    findings = scan(package)
    lines = sorted(int(f.split(":")[1]) for f in findings)
    assert lines == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17], findings  # model.eval(), the safe calls, the pass-through


def test_package_never_unpickles_or_evaluates_file_content():
    findings = scan(SOURCE)
    files = len(list(SOURCE.rglob("*.py")))
    tally.record(f"security scan of src/hfpose ({files} files)", "ok" if not findings else "found")
    assert not findings, "\n".join(findings)


class _Trap:
    """Unpickling this calls ``open(marker, "w")``: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _trap_file(path: Path, marker: Path, wrap=lambda trap: {"state_dict": {"w": trap}}) -> Path:
    with open(path, "wb") as handle:
        pickle.dump(wrap(_Trap(marker)), handle)
    return path


def test_mmpose_converter_and_init_from_refuse_code_pickles(tmp_path):
    from hfpose.hub.convert_mmpose import convert_mmpose_checkpoint
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation
    from hfpose.training.initialization import load_initial_weights

    marker = tmp_path / "code_ran"
    checkpoint = _trap_file(tmp_path / "evil.pth", marker)
    with pytest.raises(pickle.UnpicklingError, match="(?i)weights.only"):
        convert_mmpose_checkpoint(checkpoint, "rle", "resnet50", "coco", tmp_path / "out")
    assert not marker.exists()
    tally.record("untrusted: booby-trapped .pth to the converter", "UnpicklingError")
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    model = RLEForPoseEstimation(RLEConfig(backbone_config=backbone, input_size=[48, 64]))
    with pytest.raises(pickle.UnpicklingError, match="(?i)weights.only"):
        load_initial_weights(model, checkpoint, method="rle")
    assert not marker.exists()
    tally.record("untrusted: booby-trapped .pth to init_from", "UnpicklingError")


@pytest.mark.parametrize("planted", ["custom_checkpoint_0.pkl", "random_states_0.pkl", "optimizer.bin"])
def test_training_checkpoint_with_planted_pickle_is_refused(tmp_path, planted):
    from accelerate import Accelerator

    from hfpose.training.checkpoints import TrainingState, load_checkpoint, save_checkpoint

    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    model, optimizer = accelerator.prepare(model, optimizer)
    state = TrainingState()
    state.global_step = 5
    path = save_checkpoint(accelerator, tmp_path / "checkpoints", state, scheduler)
    assert not list(path.glob("custom_checkpoint_*"))  # nothing of ours is pickled
    json.loads((path / "training_state.json").read_text())

    marker = tmp_path / "code_ran"
    _trap_file(path / planted, marker, wrap=lambda trap: {"state": trap})
    with pytest.raises((ValueError, RuntimeError, pickle.UnpicklingError)) as raised:
        load_checkpoint(accelerator, path, TrainingState(), scheduler)
    assert not marker.exists(), f"unpickling {planted} ran code"
    tally.record(f"untrusted: code pickle planted as checkpoint {planted}", type(raised.value).__name__)


def test_models_load_without_trust_remote_code(tmp_path):
    from transformers import AutoConfig, AutoImageProcessor, AutoModelForPoseEstimation, pipeline

    import hfpose  # noqa: F401  (registers the model types, processors and the pipeline)
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    model = RLEForPoseEstimation(config).eval()
    processor = TopDownPoseImageProcessor(size={"height": 64, "width": 48}, flip_indices=config.flip_indices)
    plain, with_remote = tmp_path / "plain", tmp_path / "with_remote_code"
    for directory in (plain, with_remote):
        model.save_pretrained(directory)
        processor.save_pretrained(directory)
    assert "auto_map" not in json.loads((plain / "config.json").read_text())
    try:
        from hfpose.hub.remote_code import write_remote_code
    except ImportError:
        directories = [plain]
    else:
        write_remote_code(with_remote)
        assert "auto_map" in json.loads((with_remote / "config.json").read_text())
        directories = [plain, with_remote]
    for directory in directories:
        loaded_config = AutoConfig.from_pretrained(directory, trust_remote_code=False)
        loaded = AutoModelForPoseEstimation.from_pretrained(directory, trust_remote_code=False)
        loaded_processor = AutoImageProcessor.from_pretrained(directory, trust_remote_code=False)
        assert type(loaded_config) is RLEConfig and type(loaded) is RLEForPoseEstimation  # hfpose's own classes
        assert type(loaded_processor) is TopDownPoseImageProcessor
        estimator = pipeline("keypoint-detection", model=str(directory), trust_remote_code=False)
        assert type(estimator.model) is RLEForPoseEstimation
        tally.record("untrusted: hfpose model loads with trust_remote_code=False", "ok")


def test_refused_checkpoint_is_also_a_value_error(tmp_path):
    """The converter's refusal is a `ValueError` naming the file, so callers handling bad input catch it."""
    from hfpose.hub.convert_mmpose import UnsafeCheckpointError, load_checkpoint_file

    path = tmp_path / "trap.pth"
    with open(path, "wb") as handle:
        pickle.dump({"state_dict": _Trap(tmp_path / "ran")}, handle)
    with pytest.raises(ValueError, match="trap.pth.*not a plain weights file") as raised:
        load_checkpoint_file(path)
    assert isinstance(raised.value, UnsafeCheckpointError) and not (tmp_path / "ran").exists()
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint_file(tmp_path / "missing.pth")
