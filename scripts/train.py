#!/usr/bin/env python
"""`hfpose train` (see `hfpose train --help`): train from a shipped recipe name or a recipe YAML.

accelerate launch scripts/train.py rle-res50-coco-256x192 data_root=/data/coco [key=value ...]
"""

import sys

from hfpose.cli import main as cli_main


def main(argv=None) -> int:
    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
