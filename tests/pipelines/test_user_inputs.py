"""What a new user feeds the pipeline: EXIF-rotated photos, tensors, videos, URLs, empty lists, wrong types, boxes for a
bottom-up model. Each either gives the upright, documented answer or a one-line error that names the fix."""

import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from transformers import pipeline

from hfpose.cli import main
from hfpose.image_io import load_rgb_image
from hfpose.image_processing_topdown import TopDownPoseImageProcessor
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

UPRIGHT_HEIGHT, UPRIGHT_WIDTH = 96, 64  # a portrait photo as the camera's viewer shows it


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    config = RLEConfig(backbone_config=backbone, input_size=[48, 64])
    directory = tmp_path_factory.mktemp("tiny_rle_inputs")
    RLEForPoseEstimation(config).eval().save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def estimator(model_dir):
    return pipeline("keypoint-detection", model=str(model_dir))


def write_exif_rotated_jpeg(path) -> np.ndarray:
    """A JPEG stored landscape (96 wide, 64 high) with EXIF Orientation 6 ("rotate 90° clockwise to view"): upright it
    is 64 wide and 96 high. Returns the upright pixels as PIL/OpenCV decode them."""
    rows, cols = np.mgrid[0:UPRIGHT_HEIGHT, 0:UPRIGHT_WIDTH]
    upright = np.stack([rows * 2, cols * 3, (rows + cols) % 256], axis=-1).astype(np.uint8)
    upright[: UPRIGHT_HEIGHT // 3, UPRIGHT_WIDTH // 3 : 2 * UPRIGHT_WIDTH // 3] = 255  # a bright "head" on top
    stored = np.rot90(upright, 1)  # counter-clockwise: the viewer's clockwise turn undoes it
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.ascontiguousarray(stored)).save(path, quality=95, exif=exif.tobytes())
    with Image.open(path) as stored_image:
        assert stored_image.size == (UPRIGHT_HEIGHT, UPRIGHT_WIDTH)  # (W, H) as stored: landscape
    return load_rgb_image(str(path), 0)


def test_exif_rotated_photo_without_boxes_uses_the_upright_image(estimator, tmp_path):
    path = tmp_path / "portrait.jpg"
    upright = write_exif_rotated_jpeg(path)
    assert upright.shape == (UPRIGHT_HEIGHT, UPRIGHT_WIDTH, 3)
    assert cv2.imread(str(path)).shape[:2] == upright.shape[:2]  # OpenCV (and so MMPose) agree on the orientation
    [from_file] = estimator(str(path))
    assert from_file["bbox"] == [0.0, 0.0, float(UPRIGHT_WIDTH), float(UPRIGHT_HEIGHT)]
    [from_pixels] = estimator(upright)
    np.testing.assert_allclose(
        [[k["x"], k["y"]] for k in from_file["keypoints"]],
        [[k["x"], k["y"]] for k in from_pixels["keypoints"]],
        atol=1e-5,
    )
    [from_pil] = estimator(Image.fromarray(upright))
    assert from_pil["bbox"] == from_file["bbox"]


def test_cli_predict_draws_on_the_upright_photo(model_dir, estimator, tmp_path, capsys):
    path = tmp_path / "portrait.jpg"
    upright = write_exif_rotated_jpeg(path)
    assert main(["predict", str(model_dir), str(path), "--output-dir", str(tmp_path / "out")]) == 0
    record = json.loads((tmp_path / "out" / "portrait.json").read_text())
    [person] = record["persons"]
    assert person["bbox"] == [0.0, 0.0, float(UPRIGHT_WIDTH), float(UPRIGHT_HEIGHT)]
    [expected] = estimator(str(path))
    np.testing.assert_allclose(
        [k["x"] for k in person["keypoints"]], [k["x"] for k in expected["keypoints"]], atol=1e-5
    )
    drawn = np.asarray(Image.open(tmp_path / "out" / "portrait_pose.png"))
    assert drawn.shape == upright.shape  # not the stored landscape frame
    changed = np.abs(drawn.astype(int) - upright.astype(int)).max(axis=-1) > 40
    assert changed.any()
    ys, xs = np.nonzero(changed)
    assert xs.max() < UPRIGHT_WIDTH and ys.max() < UPRIGHT_HEIGHT


def test_torch_tensor_without_boxes(estimator):
    chw = torch.zeros(3, 50, 30, dtype=torch.uint8)
    [person] = estimator(chw)
    assert person["bbox"] == [0.0, 0.0, 30.0, 50.0]
    [same] = estimator(np.zeros((50, 30, 3), np.uint8))
    assert [k["x"] for k in person["keypoints"]] == pytest.approx([k["x"] for k in same["keypoints"]], abs=1e-5)


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    return message


def test_video_file_is_one_line_error(estimator, model_dir, tmp_path, capsys):
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (32, 24))
    for value in range(3):
        writer.write(np.full((24, 32, 3), value * 50, np.uint8))
    writer.release()
    assert video.stat().st_size > 0
    with pytest.raises(ValueError, match=r"images\[0\]: .*clip\.mp4' is a video, not an image") as error:
        estimator(str(video))
    assert "hfpose.VideoKeypointDetection" in one_line(error)
    # the CLI routes a video to the video runner instead: one annotated video and one JSON line per frame
    assert main(["predict", str(model_dir), str(video), "--output-dir", str(tmp_path / "out")]) == 0
    lines = (tmp_path / "out" / "clip_pose.jsonl").read_text().splitlines()
    assert len(lines) == 3 and (tmp_path / "out" / "clip_pose.mp4").stat().st_size > 0


def test_url_without_network_is_one_line_error(estimator, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"images\[0\]: cannot download 'http://127\.0\.0\.1:9/person\.jpg'") as error:
        estimator("http://127.0.0.1:9/person.jpg")
    assert "download the image and pass its file path" in one_line(error)


def test_empty_list_and_wrong_type(estimator):
    with pytest.raises(ValueError, match="empty list") as error:
        estimator([])
    one_line(error)
    with pytest.raises(TypeError, match=r"inputs\[0\] has unsupported type int") as error:
        estimator(3)
    one_line(error)
    with pytest.raises(TypeError, match=r"inputs\[1\] has unsupported type dict"):
        estimator([np.zeros((8, 8, 3), np.uint8), {"image": "x.jpg"}])


def test_bottom_up_model_refuses_boxes_and_detector(tmp_path):
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.models.associative_embedding import (
        AssociativeEmbeddingConfig,
        AssociativeEmbeddingForPoseEstimation,
    )
    from hfpose.models.hrnet import HRNetConfig

    torch.manual_seed(0)
    backbone = HRNetConfig(
        stem_channels=8,
        stage1_channels=8,
        stage1_num_blocks=1,
        hidden_sizes=[4, 8, 8, 8],
        num_modules=[1, 1, 1],
        num_blocks=[1, 1, 1],
    )
    AssociativeEmbeddingForPoseEstimation(
        AssociativeEmbeddingConfig(backbone_config=backbone, input_size=[128, 128])
    ).save_pretrained(tmp_path)
    BottomUpPoseImageProcessor(input_size=128).save_pretrained(tmp_path)
    bottom_up = pipeline("keypoint-detection", model=str(tmp_path))
    image = np.zeros((64, 64, 3), np.uint8)
    for kwargs in ({"boxes": [[0, 0, 10, 10]]}, {"detector": lambda picture: []}):
        with pytest.raises(ValueError, match="bottom-up .* call it without them") as error:
            bottom_up(image, **kwargs)
        one_line(error)
    assert isinstance(bottom_up(image), list)
