import json

from hfpose.training.checkpoints import TrainingState, latest_checkpoint, prune_checkpoints


def _fake(directory, name, complete=True):
    path = directory / name
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"x")
    if complete:
        (path / "COMPLETE").write_text(json.dumps({"global_step": 1}))
    return path


def test_latest_ignores_incomplete_and_temporary(tmp_path):
    assert latest_checkpoint(tmp_path / "missing") is None
    _fake(tmp_path, "step_000000010")
    newest = _fake(tmp_path, "step_000000020")
    _fake(tmp_path, "step_000000030", complete=False)  # killed before the marker was written
    _fake(tmp_path, ".tmp-step_000000040")  # killed before the rename
    assert latest_checkpoint(tmp_path) == newest


def test_prune_keeps_newest_and_removes_temporaries(tmp_path):
    for step in (10, 20, 30, 40):
        _fake(tmp_path, f"step_{step:09d}")
    _fake(tmp_path, ".tmp-step_000000050", complete=False)
    prune_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_000000030", "step_000000040"]


def test_training_state_round_trip():
    state = TrainingState()
    state.epoch, state.step_in_epoch, state.global_step = 3, 7, 250
    other = TrainingState()
    other.load_state_dict(state.state_dict())
    assert other.state_dict() == {"epoch": 3, "step_in_epoch": 7, "global_step": 250}
