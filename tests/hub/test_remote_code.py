"""`trust_remote_code` loading in a subprocess that cannot import hfpose, and the whole publishing chain of a model
converted from the golden MMPose checkpoint (card, mocked push, remote code, ONNX, `hfpose predict`)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch

from hfpose.hub.remote_code import REMOTE_PIPELINE_TASK, flatten_module_source, module_closure, write_remote_code

# Runs in a fresh interpreter: drops every sys.path entry that holds the hfpose package (and editable-install
# finders), proves `import hfpose` fails, then loads the model, processor and pipeline from the directory's own code.
CLEAN_LOADER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path = [p for p in sys.path if not (Path(p or ".") / "hfpose" / "__init__.py").is_file()]
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    try:
        import hfpose  # noqa: F401
        importable = True
    except ImportError:
        importable = False
    import numpy as np
    import torch
    from transformers import AutoImageProcessor, AutoModelForPoseEstimation, pipeline

    repo, request_file, output_file = sys.argv[1:4]
    request = json.loads(Path(request_file).read_text())
    for module in request.get("hide_modules", []):  # as if not installed
        sys.modules[module] = None
    try:
        model = AutoModelForPoseEstimation.from_pretrained(repo, trust_remote_code=True)
    except ImportError as error:
        Path(output_file).write_text(json.dumps({"import_error": str(error)}))
        sys.exit(0)
    processor = AutoImageProcessor.from_pretrained(repo, trust_remote_code=True)
    estimator = pipeline(model=repo, trust_remote_code=True)
    by_task = pipeline("keypoint-detection", model=repo, trust_remote_code=True)
    result = {"hfpose_importable": importable, "model_module": type(model).__module__,
              "processor_module": type(processor).__module__, "pipeline_class": type(estimator).__name__,
              "task_pipeline_module": type(by_task).__module__,
              "hfpose_modules": sorted(m for m in sys.modules if m == "hfpose" or m.startswith("hfpose."))}
    if "inputs_npy" in request:
        with torch.inference_mode():
            outputs = model(torch.from_numpy(np.load(request["inputs_npy"])))
        result["keypoints"] = outputs.keypoints.tolist()
        result["sigma_raw"] = outputs.sigma_raw.tolist()
    result["persons"] = [estimator(image, boxes=boxes) for image, boxes in request["images"]]
    Path(output_file).write_text(json.dumps(result))
""")


def run_clean(repo: Path, request: dict, tmp_path: Path) -> dict:
    request_file, output_file, script = tmp_path / "request.json", tmp_path / "result.json", tmp_path / "load.py"
    request_file.write_text(json.dumps(request))
    script.write_text(CLEAN_LOADER)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": "",
    }
    completed = subprocess.run(
        [sys.executable, str(script), str(repo), str(request_file), str(output_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(output_file.read_text())


def _keypoint_arrays(persons):
    return (
        np.array([[[k["x"], k["y"]] for k in p["keypoints"]] for p in persons]),
        np.array([[k["score"] for k in p["keypoints"]] for p in persons]),
    )


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from hfpose.image_processing_topdown import TopDownPoseImageProcessor
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    directory = tmp_path_factory.mktemp("tiny_rle_remote")
    RLEForPoseEstimation(config).save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(directory)
    return directory


def test_flattened_sources_have_no_hfpose_imports(tiny_dir):
    import ast

    modules = module_closure(["hfpose.models.rle.modeling_rle", "hfpose.image_processing_topdown"])
    assert "hfpose.geometry" in modules and "hfpose.models.backbones" in modules
    for module in modules:
        tree = ast.parse(flatten_module_source(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1 and node.module.startswith("hfpose_"), (module, ast.unparse(node))
            elif isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("hfpose"), (module, ast.unparse(node))


def test_remote_code_loads_without_hfpose(tiny_dir, tmp_path, coco_mini):
    import shutil

    from transformers import pipeline

    repo = tmp_path / "repo"
    shutil.copytree(tiny_dir, repo)
    written = write_remote_code(repo)
    assert {"configuration_hfpose.py", "modeling_hfpose.py", "image_processing_hfpose.py", "pipeline_hfpose.py"} <= set(
        written
    )
    config = json.loads((repo / "config.json").read_text())
    assert config["custom_pipelines"][REMOTE_PIPELINE_TASK]["impl"] == "pipeline_hfpose.KeypointDetectionPipeline"
    assert json.loads((repo / "preprocessor_config.json").read_text())["auto_map"] == {
        "AutoImageProcessor": "image_processing_hfpose.TopDownPoseImageProcessor"
    }

    image = str(sorted((coco_mini / "val2017").glob("*.jpg"))[0])
    boxes = [[20.0, 30.0, 120.0, 260.0], [5.0, 5.0, 60.0, 90.0]]
    result = run_clean(repo, {"images": [[image, boxes]]}, tmp_path)
    assert result["hfpose_importable"] is False and result["hfpose_modules"] == []
    assert result["model_module"].startswith("transformers_modules.")
    assert result["processor_module"].startswith("transformers_modules.")
    assert result["pipeline_class"] == "KeypointDetectionPipeline"
    assert result["task_pipeline_module"].startswith("transformers_modules.")  # the task name, from the repo's code

    requirements = (repo / "requirements.txt").read_text().splitlines()
    packages = [line for line in requirements if line and not line.startswith("#")]
    assert {"Pillow", "numpy", "opencv-python-headless", "torch"} <= {p.split(">")[0].split("=")[0] for p in packages}
    assert not any(p.startswith("scipy") for p in packages)  # top-down code does not import it
    assert "# optional: onnxruntime" in "\n".join(requirements) + "\n" or any(
        "onnxruntime" in line for line in requirements
    )
    assert not any(p.startswith(("pycocotools", "datasets", "accelerate")) for p in packages)  # not bundled

    # With hfpose installed and imported, the same repo runs the installed pipeline without trust_remote_code.
    installed = pipeline("keypoint-detection", model=str(repo))
    assert type(installed).__module__ == "hfpose.pipelines.keypoint_detection"
    assert json.loads((repo / "config.json").read_text())["custom_pipelines"]  # still in the file

    expected = pipeline("keypoint-detection", model=str(tiny_dir))(image, boxes=boxes)
    got_points, got_scores = _keypoint_arrays(result["persons"][0])
    want_points, want_scores = _keypoint_arrays(expected)
    np.testing.assert_allclose(got_points, want_points, atol=1e-6)
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-7)


def test_missing_package_is_named_by_its_pip_name(tiny_dir, tmp_path):
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(tiny_dir, repo)
    write_remote_code(repo)
    result = run_clean(repo, {"images": [], "hide_modules": ["cv2"]}, tmp_path)
    assert result["import_error"].startswith(
        "this model's code needs opencv-python-headless: pip install opencv-python-headless"
    )
    assert "requirements.txt" in result["import_error"] and "\n" not in result["import_error"]


def test_write_remote_code_rejects_non_hfpose_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        write_remote_code(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "resnet"}))
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"image_processor_type": "X"}))
    with pytest.raises(ValueError, match="not registered by hfpose|image_processor_type"):
        write_remote_code(tmp_path)


@pytest.mark.golden
def test_golden_checkpoint_through_card_push_remote_code_onnx_and_cli(golden_dir, coco_mini, tmp_path, monkeypatch):
    """Converted golden RLE checkpoint → card → mocked push → clean-subprocess load → ONNX → CLI predict.

    Tolerances of the golden README: raw head outputs atol 1e-4, final keypoints atol 1e-2 px, scores atol 1e-4.
    Portable (any OpenCV): MMPose's fidelity is checked from MMPose's own network input (raw outputs and, through
    the flip test and post-processing, image-space keypoints); the people found from the image files (remote-code
    pipeline and CLI) are checked against the in-process hfpose pipeline on the same files. The image-file chain
    against MMPose's keypoints, which needs the fixtures' OpenCV pixels, is
    tests/test_end_to_end_golden.py::test_image_to_keypoints_matches_mmpose_on_fixture_pixels[rle].
    """
    from huggingface_hub import HfApi, ModelCard, constants

    from hfpose.cli import main as cli_main
    from hfpose.hub.convert_mmpose import convert_mmpose_checkpoint
    from hfpose.hub.model_card import find_reference, make_model_card
    from hfpose.hub.push import prepare_upload, push_to_hub
    from hfpose.onnx import OnnxPoseModel, export_onnx

    models = golden_dir / "models"
    state_dict = {}
    for name in ("resnet50_backbone_mmpose.pth", "rle_head_mmpose.pth"):
        state_dict.update(torch.load(models / name, map_location="cpu", weights_only=True)["state_dict"])
    checkpoint = tmp_path / "td-reg_res50_rle_golden.pth"
    torch.save(
        {"meta": {}, "state_dict": {k: v.float() for k, v in state_dict.items() if k != "_metadata"}}, checkpoint
    )
    reference = np.load(models / "rle_outputs.npz")
    model_dir = tmp_path / "converted"
    convert_mmpose_checkpoint(
        checkpoint, "rle", "resnet50", "coco", model_dir, reference_npz=models / "rle_outputs.npz"
    )  # raises beyond atol 1e-4

    # 1. card: provenance + MMPose's reported number
    manifest = json.loads((golden_dir / "manifests" / "td-reg_res50_rle-8xb64-210e_coco-256x192.json").read_text())
    source = {
        "type": "mmpose",
        "checkpoint_url": manifest["released_url"],
        "verified_atol": 1e-4,
        "verified_against": "MMPose's outputs on golden models/rle_outputs.npz",
    }
    row = find_reference("td-reg_res50_rle-8xb64-210e_coco-256x192")
    card = make_model_card(model_dir, results=row, source=source, repo_id="someone/rle-res50")
    card.save(tmp_path / "card.md")
    loaded = ModelCard.load(tmp_path / "card.md")
    assert [(r.metric_name, r.metric_value) for r in loaded.data.eval_results] == [("AP", row.metrics["AP"])]
    assert manifest["released_url"] in loaded.text and "absolute tolerance of 0.0001" in loaded.text

    # 2. mocked push: exact top-level file set
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    pushed = {}
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **k: mock.MagicMock(repo_id=repo_id))
    monkeypatch.setattr(
        HfApi,
        "create_commit",
        lambda self, repo_id, operations, **k: pushed.update(
            {op.path_in_repo: Path(op.path_or_fileobj).stat().st_size for op in operations}
        ),
    )
    push_to_hub(model_dir, "someone/rle-res50", card_results=row, source=source)
    assert {
        "model.safetensors",
        "config.json",
        "preprocessor_config.json",
        "README.md",
        "configuration_hfpose.py",
        "modeling_hfpose.py",
        "image_processing_hfpose.py",
        "pipeline_hfpose.py",
    } <= set(pushed)
    assert pushed["model.safetensors"] == (model_dir / "model.safetensors").stat().st_size

    # 3. the staged repository loads in a subprocess without hfpose and reproduces MMPose
    repo = tmp_path / "repo"
    prepare_upload(model_dir, repo, "someone/rle-res50", card_results=row, source=source)
    inputs = reference["inputs"].astype(np.float32)
    count = len(inputs)
    np.save(tmp_path / "inputs.npy", np.concatenate([inputs, inputs[..., ::-1]]))  # MMPose's input and its mirror
    images, index = [str(coco_mini / "val2017" / f) for f in reference["image_files"]], reference["image_index"]
    boxes = [reference["bboxes_xywh"][index == i].tolist() for i in range(len(images))]
    result = run_clean(repo, {"inputs_npy": str(tmp_path / "inputs.npy"), "images": list(zip(images, boxes))}, tmp_path)
    assert result["hfpose_importable"] is False and result["hfpose_modules"] == []
    raw = np.concatenate([np.array(result["keypoints"]), np.array(result["sigma_raw"])], axis=-1)
    np.testing.assert_allclose(raw[:count], reference["head_out"], atol=1e-4)
    np.testing.assert_allclose(raw[count:], reference["head_out_flip"], atol=1e-4)
    # The remote code's raw outputs on MMPose's input, flip-tested and post-processed: MMPose's keypoints.
    from transformers import AutoImageProcessor, pipeline

    processor = AutoImageProcessor.from_pretrained(model_dir)
    keypoints, sigma = torch.tensor(raw[..., :2]), torch.sigmoid(torch.tensor(raw[..., 2:]))
    halves = [
        SimpleNamespace(keypoints=keypoints[part], sigma=sigma[part], scores=(1 - sigma[part]).mean(-1))
        for part in (slice(0, count), slice(count, None))
    ]
    persons = processor.post_process_pose_estimation(halves[0], boxes=boxes, outputs_flipped=halves[1])
    np.testing.assert_allclose(
        np.concatenate([[p["keypoints"] for p in image] for image in persons]), reference["keypoints"], atol=1e-2
    )
    np.testing.assert_allclose(
        np.concatenate([[p["scores"] for p in image] for image in persons]), reference["keypoint_scores"], atol=1e-4
    )
    # From the image files: the same people as the in-process hfpose pipeline, at the README's keypoint tolerance
    # (1e-2 px; the subprocess runs at 1 thread, this one at the session's count: measured up to 1.3e-3 px apart).
    estimator = pipeline("keypoint-detection", model=str(model_dir))
    expected = [_keypoint_arrays(estimator(image, boxes=image_boxes)) for image, image_boxes in zip(images, boxes)]
    for (got_points, got_scores), (want_points, want_scores) in zip(map(_keypoint_arrays, result["persons"]), expected):
        np.testing.assert_allclose(got_points, want_points, atol=1e-2)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-4)

    # 4. ONNX (dynamic batch) matches PyTorch on MMPose's inputs
    export = export_onnx(model_dir, tmp_path / "rle.onnx")
    assert max(export["max_abs_diff"].values()) <= 1e-4
    onnx_outputs = OnnxPoseModel(tmp_path / "rle.onnx")(torch.from_numpy(reference["inputs"]).float())
    onnx_raw = np.concatenate(
        [onnx_outputs.keypoints.numpy(), np.log(onnx_outputs.sigma.numpy()) - np.log1p(-onnx_outputs.sigma.numpy())],
        axis=-1,
    )
    np.testing.assert_allclose(onnx_raw, reference["head_out"], atol=1e-3)  # σ_raw via logit(σ): looser
    np.testing.assert_allclose(onnx_outputs.keypoints.numpy(), reference["head_out"][..., :2], atol=1e-4)

    # 5. `hfpose predict` (PyTorch and ONNX) on a real coco-mini image
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for extra, folder in (([], "predict_torch"), (["--onnx", str(tmp_path / "rle.onnx")], "predict_onnx")):
        status = cli_main(
            [
                "predict",
                str(model_dir),
                images[0],
                "--boxes",
                json.dumps(boxes[0]),
                "--output-dir",
                str(tmp_path / folder),
                *extra,
            ]
        )
        assert status == 0
        record = json.loads((tmp_path / folder / f"{Path(images[0]).stem}.json").read_text())
        got_points, got_scores = _keypoint_arrays(record["persons"])
        np.testing.assert_allclose(got_points, expected[0][0], atol=1e-2)
        np.testing.assert_allclose(got_scores, expected[0][1], atol=1e-4)
        assert (tmp_path / folder / f"{Path(images[0]).stem}_pose.png").stat().st_size > 1000


def test_bottom_up_remote_code_registers_the_hrnet_backbone(tmp_path, coco_mini):
    from transformers import pipeline

    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.models.higherhrnet import HigherHRNetConfig, HigherHRNetForPoseEstimation
    from hfpose.models.hrnet import HRNetConfig

    torch.manual_seed(0)
    backbone = HRNetConfig(
        stem_channels=8,
        stage1_channels=4,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 16, 32],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )
    repo = tmp_path / "repo"
    HigherHRNetForPoseEstimation(HigherHRNetConfig(backbone_config=backbone)).eval().save_pretrained(repo)
    BottomUpPoseImageProcessor(input_size=128).save_pretrained(repo)
    written = write_remote_code(repo)
    assert {"hfpose_models_hrnet.py", "hfpose_image_processing_bottomup.py"} <= set(written)
    assert "AutoBackbone.register(HRNetConfig, HRNetBackbone" in (repo / "configuration_hfpose.py").read_text()
    assert "scipy" in (repo / "requirements.txt").read_text().split("# optional")[0]  # grouping needs it
    image = str(sorted((coco_mini / "val2017").glob("*.jpg"))[0])
    result = run_clean(repo, {"images": [[image, None]]}, tmp_path)
    assert result["hfpose_importable"] is False and result["hfpose_modules"] == []
    assert result["model_module"].endswith("hfpose_models_higherhrnet_modeling_higherhrnet")
    assert result["processor_module"].endswith("hfpose_image_processing_bottomup")
    expected = pipeline("keypoint-detection", model=str(repo), trust_remote_code=False)(image)
    assert len(result["persons"][0]) == len(expected)
    for got, want in zip(result["persons"][0], expected):
        np.testing.assert_allclose(_keypoint_arrays([got])[0], _keypoint_arrays([want])[0], atol=1e-6)
