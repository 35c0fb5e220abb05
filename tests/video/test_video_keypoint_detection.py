"""`VideoKeypointDetection` and `hfpose predict VIDEO` on a short video made from coco-mini photos: two real people
(crops of annotated persons) walk across a real background, with their boxes given per frame; a tiny random RLE
model estimates them."""

import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from transformers import pipeline

import hfpose  # noqa: F401
from hfpose.cli import main as cli_main
from hfpose.video import (
    OneEuroFilter,
    OneEuroParameters,
    VideoKeypointDetection,
    is_video_source,
    open_video,
)

FRAMES, FRAME_RATE, SIZE = 12, 10.0, (320, 240)  # SIZE = (width, height)
PERSON = (48, 96)  # (width, height) of each pasted person
STEP = 8  # pixels per frame


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
    directory = tmp_path_factory.mktemp("tiny_rle_video")
    RLEForPoseEstimation(config).save_pretrained(directory)
    TopDownPoseImageProcessor(
        size={"height": 64, "width": 48},
        flip_indices=config.flip_indices,
        keypoint_names=[config.id2label[i] for i in range(17)],
    ).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def estimator(model_dir):
    return pipeline("keypoint-detection", model=str(model_dir))


def _person_crops(coco_mini, count=2):
    annotations = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    files = {image["id"]: image["file_name"] for image in annotations["images"]}
    people = sorted(
        (a for a in annotations["annotations"] if a["num_keypoints"] >= 10 and not a["iscrowd"]),
        key=lambda a: -a["area"],
    )[:count]
    crops = []
    for person in people:
        x, y, w, h = (round(v) for v in person["bbox"])
        image = np.asarray(Image.open(coco_mini / "val2017" / files[person["image_id"]]).convert("RGB"))
        crops.append(cv2.resize(image[y : y + h, x : x + w], PERSON, interpolation=cv2.INTER_AREA))
    background_file = min((coco_mini / "val2017").glob("*.jpg"))
    background = cv2.resize(np.asarray(Image.open(background_file).convert("RGB")), SIZE)
    return crops, background


@pytest.fixture(scope="module")
def walking_video(coco_mini, tmp_path_factory):
    """Person 0 walks right along the top, person 1 walks left along the bottom; boxes per frame (COCO xywh)."""
    crops, background = _person_crops(coco_mini)
    path = tmp_path_factory.mktemp("video") / "walk.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FRAME_RATE, SIZE)
    boxes = []
    for index in range(FRAMES):
        frame = background.copy()
        positions = [(10 + STEP * index, 20), (SIZE[0] - PERSON[0] - 10 - STEP * index, 130)]
        for crop, (x, y) in zip(crops, positions):
            frame[y : y + PERSON[1], x : x + PERSON[0]] = crop
        boxes.append([[float(x), float(y), float(PERSON[0]), float(PERSON[1])] for x, y in positions])
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path, boxes


def _count_frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_run_writes_every_frame_and_keeps_track_ids(estimator, walking_video, tmp_path):
    path, boxes = walking_video
    video = VideoKeypointDetection(estimator)
    summary = video.run(path, output=tmp_path / "out.mp4", jsonl=tmp_path / "out.jsonl", boxes=boxes)
    assert summary["frames"] == FRAMES and summary["size"] == list(SIZE)
    assert summary["frame_rate"] == pytest.approx(FRAME_RATE)
    assert _count_frames(tmp_path / "out.mp4") == FRAMES
    capture, rate, _ = open_video(tmp_path / "out.mp4")
    assert (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))) == SIZE
    assert rate == pytest.approx(FRAME_RATE)
    capture.release()

    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(FRAMES))
    assert [r["time"] for r in records] == pytest.approx([i / FRAME_RATE for i in range(FRAMES)])
    ids = [[person["track_id"] for person in record["persons"]] for record in records]
    assert ids == [[0, 1]] * FRAMES  # the same id for each walking person, distinct for the two
    assert summary["track_ids"] == [0, 1]
    for record, frame_boxes in zip(records, boxes):
        assert [p["bbox"] for p in record["persons"]] == frame_boxes
        assert all(len(p["keypoints"]) == 17 for p in record["persons"])

    # the per-frame result equals the image pipeline on the decoded frame (nothing is lost on the way)
    first = next(iter(video(path, boxes=boxes, max_frames=1)))
    expected = estimator(first.image, boxes=boxes[0])
    assert [k["x"] for k in first.persons[1]["keypoints"]] == pytest.approx(
        [k["x"] for k in expected[1]["keypoints"]], abs=1e-6
    )


def test_ids_survive_the_order_of_boxes_changing(estimator, walking_video):
    path, boxes = walking_video
    swapped = [frame_boxes[::-1] if index % 2 else frame_boxes for index, frame_boxes in enumerate(boxes)]
    for tracking in ("iou", "oks"):
        frames = list(VideoKeypointDetection(estimator, tracking=tracking)(path, boxes=swapped))
        for index, frame in enumerate(frames):
            by_row = sorted(frame.persons, key=lambda p: p["bbox"][1])  # person 0 walks along the top
            assert [p["track_id"] for p in by_row] == [0, 1], (tracking, index)


def test_smoothing_is_the_one_euro_filter_of_each_track(estimator, walking_video):
    path, boxes = walking_video
    parameters = OneEuroParameters(min_cutoff=1.0, beta=0.05, d_cutoff=1.0)
    raw = list(VideoKeypointDetection(estimator)(path, boxes=boxes))
    smooth = list(VideoKeypointDetection(estimator, smoothing=parameters)(path, boxes=boxes))
    for track in (0, 1):
        smoother = OneEuroFilter(FRAME_RATE, parameters)
        for raw_frame, smooth_frame in zip(raw, smooth):
            [raw_person] = [p for p in raw_frame.persons if p["track_id"] == track]
            [smooth_person] = [p for p in smooth_frame.persons if p["track_id"] == track]
            expected = smoother(np.array([[k["x"], k["y"]] for k in raw_person["keypoints"]]))
            got = np.array([[k["x"], k["y"]] for k in smooth_person["keypoints"]])
            np.testing.assert_allclose(got, expected, atol=1e-6)
    moved = [
        np.abs(
            np.array([[k["x"] for k in p["keypoints"]] for p in r.persons])
            - np.array([[k["x"] for k in p["keypoints"]] for p in s.persons])
        ).max()
        for r, s in zip(raw, smooth)
    ]
    assert moved[0] == 0.0 and max(moved[1:]) > 0.1  # the first frame starts the filter; later ones are filtered


def test_cli_predict_video_with_progress_bar(model_dir, walking_video, tmp_path, capsys):
    path, boxes = walking_video
    boxes_file = tmp_path / "boxes.json"
    boxes_file.write_text(json.dumps({str(i): b for i, b in enumerate(boxes)}))
    status = cli_main(
        [
            "predict",
            str(model_dir),
            str(path),
            "--output",
            str(tmp_path / "cli.avi"),
            "--boxes-file",
            str(boxes_file),
            "--smooth",
            "--no-flip-test",
        ]
    )
    assert status == 0
    captured = capsys.readouterr()
    assert f"{FRAMES} frame(s), 2 track(s)" in captured.out
    assert f"{FRAMES}/{FRAMES}" in captured.err  # tqdm's bar
    assert _count_frames(tmp_path / "cli.avi") == FRAMES
    lines = (tmp_path / "cli.jsonl").read_text().splitlines()
    assert len(lines) == FRAMES and [p["track_id"] for p in json.loads(lines[-1])["persons"]] == [0, 1]
    # --boxes: the same boxes on every frame, and --max-frames
    status = cli_main(
        [
            "predict",
            str(model_dir),
            str(path),
            "--output",
            str(tmp_path / "short.mp4"),
            "--boxes",
            json.dumps(boxes[0]),
            "--max-frames",
            "3",
        ]
    )
    assert status == 0 and _count_frames(tmp_path / "short.mp4") == 3


def test_bad_sources_give_one_line_errors(model_dir, estimator, tmp_path, capfd):
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("not a video")
    video = VideoKeypointDetection(estimator)
    with pytest.raises(FileNotFoundError, match="no such video file"):
        video(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="cannot read video .*notes.mp4.*could not open it"):
        video(not_a_video)
    with pytest.raises(ValueError, match="webcam 9 did not open"):
        video.run(9)
    with pytest.raises(ValueError, match="cannot write video .*use one of"):
        video.run(not_a_video, output=tmp_path / "out.gif")
    for source, message in (
        (tmp_path / "missing.mp4", "error: no such video file"),
        (not_a_video, "error: cannot read video"),
        ("9", "error: webcam 9 did not open"),
    ):
        assert cli_main(["predict", str(model_dir), str(source), "--output", str(tmp_path / "o.mp4")]) == 2
        error = capfd.readouterr().err.strip()  # capfd: OpenCV logs to the file descriptor
        assert error.startswith(message) and "\n" not in error and "WARN" not in error


def test_video_sources_and_options():
    assert is_video_source("walk.MP4") and is_video_source(0) and is_video_source("1")
    assert not is_video_source("photo.jpg") and not is_video_source(True)


def test_bad_options(estimator, walking_video):
    path, boxes = walking_video
    with pytest.raises(ValueError, match="'iou' or 'oks'"):
        VideoKeypointDetection(estimator, tracking="sort")
    with pytest.raises(TypeError, match="smoothing must be"):
        VideoKeypointDetection(estimator, smoothing="yes")
    with pytest.raises(ValueError, match="boxes has 2 entries but the video has a frame 2"):
        list(VideoKeypointDetection(estimator)(path, boxes=boxes[:2]))


def test_bottom_up_model_frame_by_frame(walking_video, tmp_path):
    """A tiny random associative-embedding model: no boxes; every frame's persons are the image pipeline's, with
    distinct track ids."""
    from hfpose.image_processing_bottomup import BottomUpPoseImageProcessor
    from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
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
    directory = tmp_path / "ae"
    AssociativeEmbeddingForPoseEstimation(AssociativeEmbeddingConfig(backbone_config=backbone)).save_pretrained(
        directory
    )
    # a random network's heatmaps are flat: a detection threshold of 0 lets it find (random) people
    BottomUpPoseImageProcessor(input_size=128, detection_threshold=0.0, max_num_people=5).save_pretrained(directory)
    bottom_up = pipeline("keypoint-detection", model=str(directory))
    path, _ = walking_video
    frames = list(VideoKeypointDetection(bottom_up, min_keypoints=0)(path, max_frames=3))
    assert [frame.index for frame in frames] == [0, 1, 2]
    for frame in frames:
        expected = bottom_up(frame.image)
        assert len(frame.persons) == len(expected)
        assert [p["bbox"] for p in frame.persons] == [p["bbox"] for p in expected]
        ids = [p["track_id"] for p in frame.persons]
        assert len(set(ids)) == len(ids) and all(i >= 0 for i in ids)
    assert sum(len(frame.persons) for frame in frames) > 0
