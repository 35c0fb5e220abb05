"""Video: per-frame pose estimation with track ids (`PoseTracker`) and One-Euro smoothing (`OneEuroFilter`)."""

from .one_euro import OneEuroFilter, OneEuroParameters, smoothing_factor
from .tracking import PoseTracker, box_iou, pose_oks
from .video_keypoint_detection import (
    VideoFrameResult,
    VideoKeypointDetection,
    is_video_source,
    open_video,
)

__all__ = [
    "OneEuroFilter",
    "OneEuroParameters",
    "PoseTracker",
    "VideoFrameResult",
    "VideoKeypointDetection",
    "box_iou",
    "is_video_source",
    "open_video",
    "pose_oks",
    "smoothing_factor",
]
