#!/usr/bin/env python
"""Export a top-down hfpose model to ONNX (same as `hfpose export`).

    python scripts/export_onnx.py MODEL_DIR OUT.onnx [--opset 17] [--no-check]

Network only (pixel_values -> keypoints, scores[, sigma]), dynamic batch axis, `torch.onnx.export`; by default the
exported graph is run with onnxruntime and compared with PyTorch (atol 1e-4). Writes OUT.config.json next to it.
`hfpose predict MODEL_DIR image.jpg --onnx OUT.onnx` runs it through the pipeline. See `hfpose.onnx`.
"""

import sys

from hfpose.cli import main

if __name__ == "__main__":
    sys.exit(main(["export", *sys.argv[1:]]))
