# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""The demo page of a pose model: a Gradio app (``hfpose app MODEL_DIR``; a Space with ``hfpose push --space``).

Image tab: upload a picture, optionally type person boxes (COCO ``[x, y, w, h]`` in image pixels), press "Estimate
poses": the skeletons are drawn (`hfpose.visualization.draw_keypoints`) and the persons are shown as JSON, in the
``keypoint-detection`` pipeline's format. Video tab: upload a short video; every frame is estimated, people get
track ids, and the annotated video (VP8 WebM, which browsers play) and the per-frame JSON lines come back
(`hfpose.video.VideoKeypointDetection`).

This module imports no hfpose module at the top and only `visualization`, `keypoints` and `video` inside, so a Space
can carry it as a copy (see `hfpose.hub.space`) and load the model through the repository's remote code where hfpose
is not installed. Nothing is sent anywhere: Gradio's analytics are turned off (``GRADIO_ANALYTICS_ENABLED=False``)
unless the environment says otherwise, and the app is served on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from importlib import import_module
from pathlib import Path

import numpy as np

__all__ = ["build_demo", "launch", "load_estimator", "parse_boxes", "predict_image", "predict_video"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def load_estimator(model: str, trust_remote_code: bool = False):
    """The keypoint-detection pipeline of `model` (a directory or Hub id).

    With hfpose importable, hfpose's ``keypoint-detection`` task; without it (a Space), the repository's own
    remote-code pipeline, which needs ``trust_remote_code=True``.

    Raises:
        ValueError: if hfpose is not importable and `trust_remote_code` is False.
    """
    from transformers import pipeline

    try:
        import_module("hfpose")  # registers the task
    except ImportError:
        if not trust_remote_code:
            raise ValueError(
                f"hfpose is not installed: load {model!r} with trust_remote_code=True (its remote code)"
            ) from None
        return pipeline(model=model, trust_remote_code=trust_remote_code)  # the caller's explicit opt-in
    return pipeline("keypoint-detection", model=model)


def parse_boxes(text: str | None) -> list[list[float]] | None:
    """Person boxes typed in the page: COCO ``[x, y, w, h]`` in image pixels.

    Accepts a JSON list of boxes (``[[10, 20, 100, 200], ...]``), a single JSON box, or one box per line / per ``;``
    as four numbers separated by commas or spaces. Empty text means no boxes (the whole image is one person box).

    Returns:
        `list[list[float]]` of shape ``(n, 4)``, or None for empty text.

    Raises:
        ValueError: for any other text, or a box with non-positive width or height (names the box).
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"boxes are not valid JSON ({error.msg}); write [[x, y, w, h], ...]") from None
        boxes = [value] if value and not isinstance(value[0], list) else value
    else:
        boxes = []
        for part in filter(None, (p.strip() for p in re.split(r"[;\n]", text))):
            numbers = re.findall(_NUMBER, part)
            if len(numbers) != 4 or re.sub(_NUMBER, "", part).strip(" ,\t"):
                raise ValueError(f"box {part!r} is not four numbers x, y, w, h")
            boxes.append([float(n) for n in numbers])
    for index, box in enumerate(boxes):
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
            raise ValueError(f"box {index} is {box!r}; each box is [x, y, w, h]")
        if box[2] <= 0 or box[3] <= 0:
            raise ValueError(f"box {index} {box} has a non-positive width or height")
    return [[float(v) for v in box] for box in boxes]


def _names_and_skeleton(estimator) -> tuple[list[str], list]:
    config = estimator.model.config
    names = [config.id2label[index] for index in range(len(config.id2label))]
    return names, [tuple(link) for link in (getattr(config, "skeleton", None) or [])]


def predict_image(estimator, image, boxes_text: str | None = None, threshold: float = 0.0):
    """Estimate and draw the poses of one picture.

    Args:
        estimator: the keypoint-detection pipeline (`load_estimator`).
        image (`np.ndarray` of shape `(H, W, 3)` uint8 RGB, or `PIL.Image.Image`).
        boxes_text (`str`, *optional*): person boxes (`parse_boxes`).
        threshold (`float`): keypoints scoring below it are neither drawn nor listed.

    Returns:
        ``(drawn, persons)``: the drawn `np.ndarray` ``(H, W, 3)`` uint8 RGB, and the pipeline's persons
        (``score``, ``bbox`` COCO xywh px, ``keypoints`` ``[{"label", "x", "y", "score"}]`` px).

    Raises:
        ValueError: if no image is given or the boxes do not parse.
    """
    from .visualization import draw_keypoints

    if image is None:
        raise ValueError("no image: upload a picture first")
    image = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    boxes = parse_boxes(boxes_text)
    persons = estimator(image, boxes=boxes, threshold=threshold or None)
    names, skeleton = _names_and_skeleton(estimator)
    arrays = []
    for person in persons:
        by_label = {k["label"]: k for k in person["keypoints"]}
        points = np.array([[by_label[n]["x"], by_label[n]["y"]] if n in by_label else [np.nan, np.nan] for n in names])
        scores = np.array([by_label[n]["score"] if n in by_label else 0.0 for n in names])
        arrays.append({"keypoints": points, "scores": scores, "bbox": person["bbox"]})
    drawn = draw_keypoints(
        np.ascontiguousarray(image, dtype=np.uint8), arrays, skeleton=skeleton, keypoint_threshold=threshold
    )
    return drawn, persons


def predict_video(
    estimator,
    video_path: str | None,
    boxes_text: str | None = None,
    smoothing: bool = True,
    max_frames: int | None = 300,
    output_dir: str | None = None,
):
    """Estimate, track and draw the poses of a video (`hfpose.video.VideoKeypointDetection`).

    Args:
        estimator: the keypoint-detection pipeline.
        video_path: the uploaded video file.
        boxes_text: person boxes used on every frame (`parse_boxes`); default the whole frame.
        smoothing: One-Euro smoothing with the default `OneEuroParameters`.
        max_frames: frames processed at most (a demo page should not run for minutes).
        output_dir: where the two files go (default a new temporary directory).

    Returns:
        ``(annotated_video, jsonl, summary)``: paths of the annotated ``.webm`` and of the JSON lines, and the run's
        summary (`VideoKeypointDetection.run`).

    Raises:
        ValueError: if no video is given, or OpenCV cannot read it.
    """
    from .video.video_keypoint_detection import VideoKeypointDetection

    if not video_path:
        raise ValueError("no video: upload a video file first")
    boxes = parse_boxes(boxes_text)
    output_dir = Path(output_dir or tempfile.mkdtemp(prefix="hfpose_app_"))
    stem = Path(video_path).stem
    video = VideoKeypointDetection(estimator, smoothing=smoothing)
    summary = video.run(
        video_path,
        output=output_dir / f"{stem}_pose.webm",
        jsonl=output_dir / f"{stem}.jsonl",
        boxes=None if boxes is None else (lambda index: boxes),
        max_frames=max_frames,
    )
    return summary["output"], summary["jsonl"], summary


def build_demo(model, trust_remote_code: bool = False, title: str | None = None):
    """The Gradio `Blocks` of the demo page (not launched).

    Args:
        model: a model directory / Hub id, or a ready keypoint-detection pipeline.
        trust_remote_code: load the repository's remote code when hfpose is not installed (a Space).
        title: page title (default "Pose estimation: <model>").

    Returns:
        `gradio.Blocks` with an "Image" tab (elements ``#image-input``, ``#boxes``, ``#run``, ``#drawn``,
        ``#persons``) and a "Video" tab (``#video-input``, ``#video-boxes``, ``#run-video``, ``#video-output``,
        ``#video-jsonl``, ``#video-summary``).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    estimator = load_estimator(model, trust_remote_code) if isinstance(model, (str, Path)) else model
    name = model if isinstance(model, (str, Path)) else getattr(estimator.model.config, "_name_or_path", "")
    names, _ = _names_and_skeleton(estimator)

    def run_image(image, boxes_text, threshold):
        try:
            return predict_image(estimator, image, boxes_text, threshold)
        except ValueError as error:
            raise gr.Error(str(error)) from None

    def run_video(video_path, boxes_text, smoothing):
        try:
            output, jsonl, summary = predict_video(estimator, video_path, boxes_text, smoothing)
        except (ValueError, FileNotFoundError) as error:
            raise gr.Error(str(error)) from None
        return output, jsonl, {key: value for key, value in summary.items() if key not in ("output", "jsonl")}

    with gr.Blocks(title=title or f"Pose estimation: {name}", analytics_enabled=False) as demo:
        gr.Markdown(
            f"# Pose estimation\n`{name}` ({type(estimator.model).__name__}, {len(names)} keypoints). "
            "Boxes are COCO `[x, y, w, h]` in image pixels, one per person; leave empty for the whole image."
        )
        with gr.Tab("Image"):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(type="numpy", label="Image", elem_id="image-input")
                    boxes = gr.Textbox(
                        label="Person boxes (optional)", placeholder="[[50, 30, 120, 300]]", elem_id="boxes"
                    )
                    threshold = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label="Keypoint score threshold")
                    run = gr.Button("Estimate poses", variant="primary", elem_id="run")
                with gr.Column():
                    drawn = gr.Image(type="numpy", format="png", label="Skeletons", elem_id="drawn", interactive=False)
                    persons = gr.JSON(label="Persons", elem_id="persons", open=True)
            run.click(run_image, inputs=[image, boxes, threshold], outputs=[drawn, persons], api_name="predict")
        with gr.Tab("Video"):
            with gr.Row():
                with gr.Column():
                    video = gr.Video(label="Video", sources=["upload"], elem_id="video-input")
                    video_boxes = gr.Textbox(label="Person boxes on every frame (optional)", elem_id="video-boxes")
                    smoothing = gr.Checkbox(value=True, label="One-Euro smoothing")
                    run_video_button = gr.Button("Track poses", variant="primary", elem_id="run-video")
                with gr.Column():
                    video_output = gr.Video(label="Annotated video", elem_id="video-output", interactive=False)
                    video_jsonl = gr.File(label="Per-frame JSON lines", elem_id="video-jsonl")
                    summary = gr.JSON(label="Summary", elem_id="video-summary")
            run_video_button.click(
                run_video,
                inputs=[video, video_boxes, smoothing],
                outputs=[video_output, video_jsonl, summary],
                api_name="predict_video",
            )
    return demo


def launch(model, host: str = "127.0.0.1", port: int | None = None, trust_remote_code: bool = False, **kwargs):
    """Build and serve the demo page (blocks until interrupted unless ``prevent_thread_lock=True``).

    Args:
        model: a model directory or Hub id.
        host, port: where to serve (default 127.0.0.1 and Gradio's first free port from 7860).
        trust_remote_code: see `build_demo`.
        **kwargs: passed to `gradio.Blocks.launch` (no share link unless ``share=True``; no server-side rendering).
    """
    demo = build_demo(model, trust_remote_code=trust_remote_code)
    kwargs.setdefault("share", False)
    kwargs.setdefault("ssr_mode", False)
    return demo.launch(server_name=host, server_port=port, **kwargs)
