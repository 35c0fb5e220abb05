#!/usr/bin/env python
"""Convert an MMPose checkpoint into an hfpose model directory.

    python scripts/convert_mmpose_checkpoint.py CHECKPOINT.pth --method rle --backbone resnet50 --dataset coco
        --output DIR [--reference-npz OUTPUTS.npz]

Reads 0.x (`keypoint_head.*`) and 1.x (`head.*`) checkpoints; writes `config.json`, `model.safetensors` and, when
the top-down image processor is available, `preprocessor_config.json`. See `hfpose.hub.convert_mmpose`.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="MMPose .pth file ({'meta', 'state_dict'} or a bare state dict)")
    parser.add_argument("--method", required=True, help="deeppose, rle (or ipr, dsnt, debias_ipr, ae_hrnet, ...)")
    parser.add_argument(
        "--backbone", default="resnet50", help="resnet50/101/152 or mobilenetv2 (bottom-up: HRNet variant, w32/w48)"
    )
    parser.add_argument("--dataset", default="coco", help="coco or mpii")
    parser.add_argument("--output", required=True, help="output directory")
    parser.add_argument("--reference-npz", default=None, help="MMPose outputs (inputs, head_out) to check against")
    args = parser.parse_args(argv)

    from hfpose.hub.convert_mmpose import convert_mmpose_checkpoint

    model = convert_mmpose_checkpoint(
        args.checkpoint, args.method, args.backbone, args.dataset, args.output, reference_npz=args.reference_npz
    )
    print(f"saved {type(model).__name__} ({sum(p.numel() for p in model.parameters()):,} parameters) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
