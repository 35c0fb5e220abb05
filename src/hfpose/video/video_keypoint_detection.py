# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""`VideoKeypointDetection`: pose estimation, tracking and smoothing over the frames of a video file or a webcam.

Why a sibling of the pipeline and not ``pipeline(..., video=...)``: a transformers `Pipeline` maps each input to its
own output and keeps no state between inputs (its batching and `DataLoader` may even reorder the work), while
tracking needs the previous frame's persons and smoothing needs each track's filter state. transformers' own video
task (``video-classification``) samples a fixed number of frames into *one* input, which fits neither a stream of
unknown length nor a webcam. So the video is read frame by frame here (OpenCV ``VideoCapture``, constant memory),
each frame goes through the unchanged ``keypoint-detection`` pipeline (boxes, a detector, or bottom-up), and the
state lives in this object for the length of one run.

Per frame, each person is the pipeline's dict (``score``, ``bbox`` COCO ``[x, y, w, h]`` image px, ``keypoints``
``[{"label", "x", "y", "score"}]`` image px) plus ``track_id`` (`hfpose.video.tracking.PoseTracker`: MMPose's greedy
IoU or OKS matching; ``-1`` for a person with too few keypoints to start a track). With ``smoothing`` the keypoints
of each track go through a `hfpose.video.one_euro.OneEuroFilter` at the video's frame rate (Casiez et al., CHI 2012).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..keypoints import COCO_KEYPOINTS
from ..visualization import draw_keypoints
from .one_euro import OneEuroFilter, OneEuroParameters
from .tracking import PoseTracker

__all__ = ["VIDEO_SUFFIXES", "VideoFrameResult", "VideoKeypointDetection", "is_video_source", "open_video"]

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".gif")
# All four encoders are in opencv-python-headless's FFmpeg; browsers play only the VP8 WebM ones.
_WRITER_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".webm": "VP80"}
DEFAULT_FRAME_RATE = 30.0  # used when the source reports none (most webcams)


def is_video_source(source) -> bool:
    """True for a webcam index (`int` or a string of digits) or a path ending in one of `VIDEO_SUFFIXES`."""
    if isinstance(source, int) and not isinstance(source, bool):
        return True
    text = str(source)
    return text.isdigit() or Path(text).suffix.lower() in VIDEO_SUFFIXES


@contextlib.contextmanager
def _quiet_opencv():
    """Silence OpenCV's backend probing (``[ WARN:0] ... can't open camera by index``) and FFmpeg's own log
    (``moov atom not found``), both written to file descriptor 2, while a capture or writer opens: the caller reports
    a failure in one line instead."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    level = logging.getLogLevel() if logging is not None else None
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        if logging is not None:
            logging.setLogLevel(level)


def open_video(source) -> tuple[cv2.VideoCapture, float, int | None]:
    """Open a video file or a webcam with OpenCV.

    Args:
        source (`str`, `Path` or `int`): a video file, or a webcam index (``0`` or ``"0"``).

    Returns:
        ``(capture, frame_rate, frame_count)``: the opened `cv2.VideoCapture`, the frame rate in frames per second
        (`DEFAULT_FRAME_RATE` when the source reports none), and the number of frames (None when unknown: webcams).

    Raises:
        FileNotFoundError: if a video path does not exist.
        ValueError: if OpenCV cannot open it (not a video, an unsupported codec) or the webcam does not open.
    """
    webcam = isinstance(source, int) or str(source).isdigit()
    if not webcam and not Path(source).is_file():
        raise FileNotFoundError(f"no such video file: {source}")
    with _quiet_opencv():
        capture = cv2.VideoCapture(int(source) if webcam else str(source))
        opened = capture.isOpened()
    if not opened:
        capture.release()
        if webcam:
            raise ValueError(
                f"webcam {int(source)} did not open (no camera at that index, or no permission); "
                "give a video file instead"
            )
        raise ValueError(
            f"cannot read video {str(source)!r}: OpenCV could not open it (not a video file, or a codec "
            "this OpenCV build lacks)"
        )
    frame_rate = capture.get(cv2.CAP_PROP_FPS)
    frame_rate = float(frame_rate) if math.isfinite(frame_rate) and frame_rate > 0 else DEFAULT_FRAME_RATE
    count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    count = int(count) if not webcam and math.isfinite(count) and count > 0 else None
    return capture, frame_rate, count


@dataclass
class VideoFrameResult:
    """One frame of a run.

    Args:
        index (`int`): frame number, from 0.
        time (`float`): ``index / frame_rate`` in seconds.
        image (`np.ndarray` of shape `(H, W, 3)`): the frame, uint8 RGB.
        persons (`list[dict]`): the pipeline's persons with ``track_id`` (keypoints smoothed when asked).
    """

    index: int
    time: float
    image: np.ndarray = field(repr=False)
    persons: list[dict]

    def to_json(self) -> dict:
        """The JSON-lines record of this frame: ``{"frame", "time", "persons"}``."""
        return {"frame": self.index, "time": self.time, "persons": self.persons}


BoxesPerFrame = Mapping[int, Any] | Sequence[Any] | Callable[[int], Any]


class VideoKeypointDetection:
    """Estimate, track and (optionally) smooth the poses of the people of a video, frame by frame.

    Args:
        estimator (`KeypointDetectionPipeline` or `str`): the ``keypoint-detection`` pipeline, or a model directory /
            Hub id to build one from (hfpose must be importable then).
        tracking (`str`): ``"iou"`` (boxes; default) or ``"oks"`` (keypoints; COCO sigmas for COCO models, else give
            `sigmas`).
        tracking_threshold (`float`): least IoU / OKS with a person of the previous frame to keep its id (0.3).
        sigmas (`Sequence[float]`, *optional*): OKS constants for ``"oks"`` tracking of non-COCO keypoints.
        min_keypoints (`int`): keypoints scoring above 0 needed to start a track (MMPose: 3).
        smoothing (`bool` or `OneEuroParameters`): One-Euro filtering of each track's keypoints (True: the default
            `OneEuroParameters`, min_cutoff 1 Hz, beta 0.05 /px, d_cutoff 1 Hz), at the video's frame rate.
        frame_rate (`float`, *optional*): frames per second to assume (default: what the video reports, 30 for a
            webcam that reports none); sets the filter's sampling period and the output video's rate.
        threshold (`float`, *optional*): keypoints scoring below it are left out of the output (after smoothing).
        **pipeline_kwargs: passed to every pipeline call (``flip_test``, ``detector``, ``detector_threshold``).

    Example:

    ```python
    >>> video = VideoKeypointDetection(estimator, smoothing=True)
    >>> for frame in video("walk.mp4", boxes=lambda index: [[50, 30, 120, 300]]):
    ...     print(frame.index, [person["track_id"] for person in frame.persons])
    >>> video.run("walk.mp4", output="walk_pose.mp4", jsonl="walk_pose.jsonl")
    ```

    Raises:
        ValueError: for an unknown tracking method, OKS tracking of non-COCO keypoints without `sigmas`.
    """

    def __init__(
        self,
        estimator,
        tracking: str = "iou",
        tracking_threshold: float = 0.3,
        sigmas: Sequence[float] | None = None,
        min_keypoints: int = 3,
        smoothing: bool | OneEuroParameters = False,
        frame_rate: float | None = None,
        threshold: float | None = None,
        **pipeline_kwargs,
    ):
        if isinstance(estimator, (str, Path)):
            estimator = _build_pipeline(str(estimator))
        self.estimator = estimator
        config = estimator.model.config
        self.names = [config.id2label[index] for index in range(len(config.id2label))]
        self.skeleton = [tuple(link) for link in (getattr(config, "skeleton", None) or [])]
        if tracking == "oks" and sigmas is None:
            if tuple(self.names) != COCO_KEYPOINTS.names:
                raise ValueError(
                    "OKS tracking of non-COCO keypoints needs sigmas=[...] (one per keypoint); or use tracking='iou'"
                )
            sigmas = COCO_KEYPOINTS.sigmas
        self._tracker_options = {
            "method": tracking,
            "threshold": tracking_threshold,
            "sigmas": sigmas,
            "min_keypoints": min_keypoints,
        }
        PoseTracker(**self._tracker_options)  # validates the options now
        if smoothing is True:
            smoothing = OneEuroParameters()
        if smoothing is not False and smoothing is not None and not isinstance(smoothing, OneEuroParameters):
            raise TypeError(f"smoothing must be True/False or OneEuroParameters; got {type(smoothing).__name__}")
        self.smoothing = smoothing or None
        if frame_rate is not None and not (math.isfinite(frame_rate) and frame_rate > 0):
            raise ValueError(f"frame_rate must be a positive number of frames per second; got {frame_rate!r}")
        self.frame_rate = frame_rate
        self.threshold = threshold
        self.pipeline_kwargs = pipeline_kwargs

    def __call__(
        self, source, boxes: BoxesPerFrame | None = None, max_frames: int | None = None
    ) -> Iterator[VideoFrameResult]:
        """Yield one `VideoFrameResult` per frame of `source` (a generator: frames are read as they are consumed).

        Args:
            source: a video file or a webcam index (see `open_video`).
            boxes: person boxes (COCO ``[x, y, w, h]``, image px) per frame, for top-down models: a mapping
                ``{frame index: boxes}``, a sequence with one entry per frame, or a function of the frame index;
                an entry of None uses the pipeline's ``detector`` or the whole frame. Default: None for every frame.
            max_frames: stop after this many frames (a webcam runs until interrupted otherwise).

        Raises:
            FileNotFoundError / ValueError: see `open_video`; ValueError if a sequence of boxes is shorter than the
                video (names the frame).
        """
        capture, reported_rate, _ = open_video(source)
        frame_rate = self.frame_rate or reported_rate
        return self._frames(capture, frame_rate, boxes, max_frames)

    def _frames(self, capture, frame_rate, boxes, max_frames) -> Iterator[VideoFrameResult]:
        tracker = PoseTracker(**self._tracker_options)
        filters: dict[int, OneEuroFilter] = {}
        index = 0
        try:
            while max_frames is None or index < max_frames:
                ok, frame = capture.read()
                if not ok:
                    break
                image = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                persons = self.estimator(image, boxes=_boxes_of_frame(boxes, index), **self.pipeline_kwargs)
                persons = self._track_and_smooth(persons, tracker, filters, frame_rate)
                yield VideoFrameResult(index=index, time=index / frame_rate, image=image, persons=persons)
                index += 1
        finally:
            capture.release()

    def _track_and_smooth(self, persons, tracker, filters, frame_rate) -> list[dict]:
        count, size = len(persons), len(self.names)
        keypoints = np.full((count, size, 2), np.nan)
        scores = np.zeros((count, size))
        position = {name: index for index, name in enumerate(self.names)}
        for row, person in enumerate(persons):
            for keypoint in person["keypoints"]:
                column = position[keypoint["label"]]
                keypoints[row, column] = (keypoint["x"], keypoint["y"])
                scores[row, column] = keypoint["score"]
        bboxes = np.array([person["bbox"] for person in persons], dtype=np.float64).reshape(-1, 4)
        ids = tracker.update(bboxes, keypoints, scores)
        if self.smoothing is not None:
            for key in set(filters) - set(ids.tolist()):
                del filters[key]  # ids are never reused: a track not in this frame has ended
            for row, track_id in enumerate(ids.tolist()):
                if track_id >= 0:
                    smoother = filters.setdefault(track_id, OneEuroFilter(frame_rate, self.smoothing))
                    keypoints[row] = smoother(keypoints[row])
        results = []
        for row, person in enumerate(persons):
            entries = [
                {
                    "label": name,
                    "x": float(keypoints[row, k, 0]),
                    "y": float(keypoints[row, k, 1]),
                    "score": float(scores[row, k]),
                }
                for k, name in enumerate(self.names)
                if np.isfinite(keypoints[row, k]).all() and (self.threshold is None or scores[row, k] >= self.threshold)
            ]
            results.append(
                {
                    "track_id": int(ids[row]),
                    "score": float(person["score"]),
                    "bbox": [float(v) for v in person["bbox"]],
                    "keypoints": entries,
                }
            )
        return results

    def draw(self, frame: VideoFrameResult, keypoint_threshold: float = 0.0) -> np.ndarray:
        """The frame with skeletons, boxes and track ids drawn (`hfpose.visualization.draw_keypoints`).

        Returns:
            `np.ndarray` of shape `(H, W, 3)`, uint8 RGB.
        """
        arrays = [_person_arrays(person, self.names) for person in frame.persons]
        canvas = draw_keypoints(frame.image, arrays, skeleton=self.skeleton, keypoint_threshold=keypoint_threshold)
        scale = max(frame.image.shape[:2]) / 800
        for person in frame.persons:
            x, y = (round(v) for v in person["bbox"][:2])
            cv2.putText(
                canvas,
                f"id {person['track_id']}",
                (x + 2, max(12, y - 4)),
                cv2.FONT_HERSHEY_SIMPLEX,
                max(0.4, scale),
                (255, 255, 255),
                max(1, round(2 * scale)),
                cv2.LINE_AA,
            )
        return canvas

    def run(
        self,
        source,
        output: str | Path | None = None,
        jsonl: str | Path | None = None,
        boxes: BoxesPerFrame | None = None,
        max_frames: int | None = None,
        progress: bool = False,
        draw_threshold: float = 0.0,
    ) -> dict:
        """Process a whole video: write the annotated video and/or the JSON lines (one line per frame).

        Args:
            source, boxes, max_frames: as for `__call__`.
            output: annotated video (``.mp4`` / ``.m4v`` / ``.mov`` with the ``mp4v`` codec, ``.avi`` with ``MJPG``,
                ``.webm`` with VP8, which browsers play), at the frame rate of the run and the size of the source.
            jsonl: JSON lines, one `VideoFrameResult.to_json` record per frame.
            progress: show a tqdm progress bar.
            draw_threshold: keypoint score needed to be drawn.

        Returns:
            `dict`: ``frames`` (count), ``frame_rate``, ``size`` ``[width, height]``, ``track_ids`` (sorted, without
            -1), ``output`` and ``jsonl`` (the paths written, or None).

        Raises:
            ValueError: for an output suffix with no codec here, or a writer OpenCV cannot open; see `__call__`.
        """
        from tqdm.auto import tqdm

        if output is not None and Path(output).suffix.lower() not in _WRITER_CODECS:
            raise ValueError(f"cannot write video {str(output)!r}: use one of {sorted(_WRITER_CODECS)}")
        capture, reported_rate, count = open_video(source)
        frame_rate = self.frame_rate or reported_rate
        total = min(count, max_frames) if count is not None and max_frames is not None else (count or max_frames)
        writer, lines, frames, size, track_ids = None, None, 0, None, set()
        try:
            if jsonl is not None:
                Path(jsonl).parent.mkdir(parents=True, exist_ok=True)
                lines = open(jsonl, "w", encoding="utf-8")  # noqa: SIM115  (closed in finally)
            bar = tqdm(total=total, desc="video", unit="frame", disable=not progress)
            for frame in self._frames(capture, frame_rate, boxes, max_frames):
                height, width = frame.image.shape[:2]
                size = [width, height]
                if output is not None and writer is None:
                    writer = _open_writer(output, frame_rate, width, height)
                if writer is not None:
                    writer.write(cv2.cvtColor(self.draw(frame, draw_threshold), cv2.COLOR_RGB2BGR))
                if lines is not None:
                    lines.write(json.dumps(frame.to_json()) + "\n")
                track_ids.update(p["track_id"] for p in frame.persons if p["track_id"] >= 0)
                frames += 1
                bar.update(1)
            bar.close()
        finally:
            capture.release()
            if writer is not None:
                writer.release()
            if lines is not None:
                lines.close()
        if frames == 0:
            raise ValueError(f"video {str(source)!r} has no readable frames")
        return {
            "frames": frames,
            "frame_rate": frame_rate,
            "size": size,
            "track_ids": sorted(track_ids),
            "output": None if output is None else str(output),
            "jsonl": None if jsonl is None else str(jsonl),
        }


def _open_writer(path, frame_rate: float, width: int, height: int) -> cv2.VideoWriter:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = cv2.VideoWriter_fourcc(*_WRITER_CODECS[path.suffix.lower()])
    with _quiet_opencv():
        writer = cv2.VideoWriter(str(path), fourcc, float(frame_rate), (int(width), int(height)))
    if not writer.isOpened():
        raise ValueError(f"cannot write video {str(path)!r}: OpenCV's VideoWriter did not open it")
    return writer


def _boxes_of_frame(boxes, index: int):
    if boxes is None:
        return None
    if callable(boxes):
        return boxes(index)
    if isinstance(boxes, Mapping):
        return boxes.get(index, boxes.get(str(index)))
    if index >= len(boxes):
        raise ValueError(
            f"boxes has {len(boxes)} entries but the video has a frame {index}; give one per frame "
            "(or a mapping / function of the frame index)"
        )
    return boxes[index]


def _person_arrays(person: dict, names: list[str]) -> dict:
    """A pipeline person as the arrays `draw_keypoints` takes (``keypoints`` ``(K, 2)``, ``scores`` ``(K,)``)."""
    by_label = {keypoint["label"]: keypoint for keypoint in person["keypoints"]}
    points = np.array([[by_label[n]["x"], by_label[n]["y"]] if n in by_label else [np.nan, np.nan] for n in names])
    scores = np.array([by_label[n]["score"] if n in by_label else 0.0 for n in names])
    return {"keypoints": points, "scores": scores, "bbox": person.get("bbox")}


def _build_pipeline(model: str):
    """The ``keypoint-detection`` pipeline of a model directory or Hub id (imports hfpose to register the task)."""
    from importlib import import_module

    from transformers import pipeline

    import_module("hfpose")
    return pipeline("keypoint-detection", model=model)
