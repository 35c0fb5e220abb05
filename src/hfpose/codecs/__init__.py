"""Network-free encoders/decoders of training targets and predictions (numpy; no nn.Module)."""

from .flip import flip_bbox, flip_coordinates, flip_heatmaps, flip_keypoints
from .gaussian import (
    gaussian_blur_heatmaps,
    generate_msra_heatmaps,
    generate_udp_heatmaps,
    get_heatmap_maximum,
    log_heatmaps,
    newton_refine_keypoints,
    refine_keypoints_dark_udp,
)
from .integral_regression_label import IntegralRegressionLabel
from .regression_label import RegressionLabel
from .udp_heatmap import UDPHeatmap

__all__ = ["RegressionLabel"]
__all__ += ["flip_bbox", "flip_coordinates", "flip_heatmaps", "flip_keypoints"]
__all__ += ["IntegralRegressionLabel", "UDPHeatmap"]
__all__ += [
    "gaussian_blur_heatmaps",
    "generate_msra_heatmaps",
    "generate_udp_heatmaps",
    "get_heatmap_maximum",
    "log_heatmaps",
    "newton_refine_keypoints",
    "refine_keypoints_dark_udp",
]
