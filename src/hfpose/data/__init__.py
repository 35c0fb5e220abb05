"""COCO / MPII as `datasets.Dataset`s, the top-down training / evaluation transforms, and collation.

Public API:
    load_coco_keypoints(root, split="val2017", mode="topdown" | "image", ann_file=None, num_keypoints=17, ...)
    load_mpii(root, split="val", ann_file=None, headbox_file=None, ...)
    load_image(path) -> (H, W, 3) uint8 RGB
    TopDownTrainTransform, TopDownEvalTransform (use with ``dataset.with_transform``)
    default_collate / collate_fn (for ``torch.utils.data.DataLoader``)
    load_coco_bottomup, BottomUpTrainTransform, BottomUpAugmentation (MMPose 0.29 UDP bottom-up training targets)
    fixed_point_warp_affine (OpenCV 4.x ``warpAffine`` arithmetic, needed to reproduce MMPose 0.29 pixels)
"""

from .bottomup import BottomUpAugmentation, BottomUpTrainTransform, fixed_point_warp_affine, load_coco_bottomup
from .coco import load_coco_keypoints
from .collate import collate_fn, default_collate
from .mpii import load_mpii
from .transforms import (
    HALF_BODY_KEYPOINT_IDS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    TopDownEvalTransform,
    TopDownTrainTransform,
    load_image,
    normalize_image,
)

__all__ = [
    "load_coco_keypoints",
    "load_mpii",
    "load_image",
    "normalize_image",
    "TopDownTrainTransform",
    "TopDownEvalTransform",
    "default_collate",
    "collate_fn",
    "load_coco_bottomup",
    "BottomUpTrainTransform",
    "BottomUpAugmentation",
    "fixed_point_warp_affine",
    "HALF_BODY_KEYPOINT_IDS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]
