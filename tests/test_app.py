"""The demo page: its functions, and the real page in headless Chromium (Debian's package, driven by Playwright).

The browser test starts `hfpose app MODEL_DIR` on 127.0.0.1 (a free port) in a subprocess, uploads a coco-mini photo
with two person boxes, presses the button and reads the drawn image and the keypoint JSON back from the page. Every
request to anything but the app is aborted and recorded (and must not happen). Screenshots are kept as test artefacts
in `outputs/test-artifacts/` (git-ignored). Chromium must be installed: `apt-get install -y chromium`.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from transformers import pipeline

import hfpose
from hfpose.app import build_demo, parse_boxes, predict_image, predict_video

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "outputs" / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
APT_COMMAND = "apt-get update && apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NAMES = list(hfpose.COCO_KEYPOINTS.names)


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
    directory = tmp_path_factory.mktemp("tiny_rle_app")
    RLEForPoseEstimation(config).save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48}, flip_indices=config.flip_indices, keypoint_names=NAMES
    ).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def estimator(model_dir):
    return pipeline("keypoint-detection", model=str(model_dir))


@pytest.fixture(scope="module")
def photo(coco_mini):
    """The val image with the most annotated people, and two of their boxes (COCO xywh)."""
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    by_image = {}
    for a in annotations["annotations"]:
        if a["num_keypoints"] > 0 and not a["iscrowd"]:
            by_image.setdefault(a["image_id"], []).append([round(v, 1) for v in a["bbox"]])
    image_id, boxes = max(by_image.items(), key=lambda item: len(item[1]))
    file_name = next(i["file_name"] for i in annotations["images"] if i["id"] == image_id)
    return coco_mini / "val2017" / file_name, boxes[:2]


def test_parse_boxes():
    assert parse_boxes("") is None and parse_boxes(None) is None
    assert parse_boxes("[[1, 2, 3, 4], [5, 6, 7, 8.5]]") == [[1, 2, 3, 4], [5, 6, 7, 8.5]]
    assert parse_boxes("[1, 2, 3, 4]") == [[1, 2, 3, 4]]
    assert parse_boxes("1, 2, 3, 4\n5 6 7 8") == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert parse_boxes("1,2,3,4; 5,6,7,8") == [[1, 2, 3, 4], [5, 6, 7, 8]]
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_boxes("[[1, 2, 3, 4]")
    with pytest.raises(ValueError, match="box '1, 2, 3' is not four numbers"):
        parse_boxes("1, 2, 3")
    with pytest.raises(ValueError, match=r"box 1 \[5.0, 6.0, 0.0, 8.0\] has a non-positive width"):
        parse_boxes("1 2 3 4; 5 6 0 8")


def test_predict_image_is_the_pipeline_drawn(estimator, photo):
    path, boxes = photo
    image = np.asarray(Image.open(path).convert("RGB"))
    drawn, persons = predict_image(estimator, image, json.dumps(boxes))
    assert persons == estimator(image, boxes=boxes)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8 and (drawn != image).any()
    with pytest.raises(ValueError, match="no image"):
        predict_image(estimator, None)


def _write_clip(photo_path, path, frames=4):
    """A 4-frame VP8 WebM clip (a browser plays it): the photo shifted right by 4 px per frame."""
    image = cv2.imread(str(photo_path))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 5.0, (image.shape[1], image.shape[0]))
    for shift in range(frames):
        writer.write(np.roll(image, 4 * shift, axis=1))
    writer.release()
    return path


def test_predict_video_returns_the_annotated_video_and_json_lines(estimator, photo, tmp_path):
    path, boxes = photo
    clip = _write_clip(path, tmp_path / "clip.webm")
    output, jsonl, summary = predict_video(estimator, str(clip), json.dumps(boxes), output_dir=str(tmp_path / "out"))
    assert summary["frames"] == 4 and summary["track_ids"] == [0, 1]
    assert output.endswith("clip_pose.webm") and len(Path(jsonl).read_text().splitlines()) == 4
    capture = cv2.VideoCapture(output)
    assert int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == cv2.imread(str(path)).shape[1]
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 4


def test_build_demo_has_both_tabs_without_launching(estimator):
    demo = build_demo(estimator)
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"image-input", "boxes", "run", "drawn", "persons", "video-input", "run-video", "video-summary"} <= ids
    assert {"predict", "predict_video"} <= {d.api_name for d in demo.fns.values()}


def _free_port() -> int:
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


def _wait_for(url: str, process, timeout: float = 120.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise AssertionError(f"hfpose app exited with {process.returncode}: {process.stdout.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"hfpose app did not answer on {url} within {timeout} s")


def test_demo_page_in_headless_chromium(model_dir, estimator, photo, tmp_path):
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; install Debian's package: {APT_COMMAND}")
    from playwright.sync_api import sync_playwright

    path, boxes = photo
    clip = _write_clip(path, tmp_path / "clip.webm")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "TMPDIR": str(tmp_path),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hfpose.cli", "app", str(model_dir), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    external = []
    try:
        _wait_for(url, process)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})

                def only_the_app(route):
                    if route.request.url.startswith(f"http://127.0.0.1:{port}/"):
                        route.continue_()
                    else:
                        external.append(route.request.url)
                        route.abort()

                page.route("**/*", only_the_app)
                page.goto(url, wait_until="networkidle", timeout=60_000)
                assert page.title().startswith("Pose estimation")
                page.locator("#image-input input[type=file]").set_input_files(str(path))
                page.locator("#image-input img").wait_for(timeout=30_000)
                page.locator("#boxes textarea").fill(json.dumps(boxes))
                page.locator("#run").click()
                page.locator("#drawn img").wait_for(timeout=60_000)
                page.wait_for_function(
                    "document.querySelector('#persons').innerText.includes('\"keypoints\"')", timeout=60_000
                )
                text = page.locator("#persons").inner_text()
                persons = json.loads("".join(text.split("\n")[1:]))  # first line: the label "Persons"
                drawn_src = page.locator("#drawn img").get_attribute("src")
                source = drawn_src if drawn_src.startswith(("http", "data:")) else url.rstrip("/") + drawn_src
                with urllib.request.urlopen(source, timeout=10) as response:  # while the app still serves it
                    shown = np.asarray(Image.open(response).convert("RGB"))
                page.screenshot(path=str(ARTIFACTS / "app_image_tab.png"), full_page=True)

                page.get_by_role("tab", name="Video").click()
                page.locator("#video-input input[type=file]").set_input_files(str(clip))
                page.locator("#video-boxes textarea").fill(json.dumps(boxes))
                page.locator("#run-video").click()
                page.wait_for_function(
                    "document.querySelector('#video-summary').innerText.includes('track_ids')", timeout=120_000
                )
                summary = json.loads("".join(page.locator("#video-summary").inner_text().split("\n")[1:]))
                page.locator("#video-output video").wait_for(timeout=30_000)
                page.wait_for_function(
                    "document.querySelector('#video-output video').readyState >= 1", timeout=30_000
                )  # the browser decodes the annotated video's header
                errors = page.locator(".toast-body").all_inner_texts()
                page.screenshot(path=str(ARTIFACTS / "app_video_tab.png"), full_page=True)
            finally:
                browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    assert external == [], f"the page tried to reach {external}"

    assert len(persons) == len(boxes) == 2
    for person, box in zip(persons, boxes):
        assert [k["label"] for k in person["keypoints"]] == NAMES  # K = 17 keypoints per person
        assert person["bbox"] == pytest.approx(box, abs=1e-4)
    image = np.asarray(Image.open(path).convert("RGB"))
    expected_drawn, expected = predict_image(estimator, image, json.dumps(boxes))
    for person, reference in zip(persons, expected):
        np.testing.assert_allclose(
            [[k["x"], k["y"], k["score"]] for k in person["keypoints"]],
            [[k["x"], k["y"], k["score"]] for k in reference["keypoints"]],
            atol=1e-4,
        )
    assert shown.shape == image.shape
    assert np.abs(shown.astype(int) - expected_drawn.astype(int)).max() <= 1  # the skeleton image, as PNG
    assert (ARTIFACTS / "app_image_tab.png").stat().st_size > 10_000
    assert summary["frames"] == 4 and summary["track_ids"] == [0, 1]
    assert errors == []


def test_cli_app_help_and_a_missing_model(tmp_path, capsys):
    from hfpose.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["app", "--help"])
    assert exit_info.value.code == 0 and "hfpose app MODEL_DIR --port 7860" in capsys.readouterr().out
    assert main(["app", str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: cannot load the model") and "\n" not in error
