# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""hfpose: regression-based and bottom-up human pose estimation, faithful to MMPose, for the Hugging Face ecosystem.

Importing hfpose registers its configs and models with `AutoConfig` / `AutoModelForPoseEstimation`, its image
processors with `AutoImageProcessor`, and the `keypoint-detection` pipeline task.
"""

__version__ = "0.1.0"

from .image_processing_bottomup import BottomUpPoseImageProcessor
from .image_processing_bottomup import register as register_bottomup_image_processor
from .image_processing_topdown import TopDownPoseImageProcessor
from .image_processing_topdown import register as register_topdown_image_processor
from .keypoints import COCO_KEYPOINTS, MPII_KEYPOINTS, KeypointSet, get_keypoint_set
from .models import pose_methods, register_models
from .pipelines import register_pipeline

register_models()
register_topdown_image_processor(method.config_class for method in pose_methods().values() if not method.bottom_up)
register_bottomup_image_processor(method.config_class for method in pose_methods().values() if method.bottom_up)
register_pipeline()

from .pipelines.installed_task import serve_installed_pipeline  # noqa: E402
from .video import VideoKeypointDetection  # noqa: E402

serve_installed_pipeline()  # remote-code repos' "keypoint-detection" task runs the installed hfpose when imported

__all__ = [
    "COCO_KEYPOINTS",
    "MPII_KEYPOINTS",
    "BottomUpPoseImageProcessor",
    "KeypointSet",
    "TopDownPoseImageProcessor",
    "VideoKeypointDetection",
    "get_keypoint_set",
    "register_models",
    "__version__",
]
