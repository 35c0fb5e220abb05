"""Network-free encoders/decoders of training targets and predictions (numpy; no nn.Module)."""

from .regression_label import RegressionLabel

__all__ = ["RegressionLabel"]
