#!/usr/bin/env python
"""`hfpose convert` (see `hfpose convert --help`): an MMPose checkpoint into an hfpose model directory.

python scripts/convert_mmpose_checkpoint.py CHECKPOINT.pth --method rle --backbone resnet50 --dataset coco
    --output DIR [--reference-npz OUTPUTS.npz]
"""

import sys

from hfpose.cli import main as cli_main


def main(argv=None) -> int:
    return cli_main(["convert", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
