"""The `keypoint-detection` pipeline task (registered on `import hfpose`)."""

from .keypoint_detection import KeypointDetectionPipeline, register_pipeline

__all__ = ["KeypointDetectionPipeline", "register_pipeline"]
