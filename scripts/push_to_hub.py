#!/usr/bin/env python
"""Publish a saved hfpose model directory to the Hugging Face Hub (same as `hfpose push`).

    python scripts/push_to_hub.py MODEL_DIR --repo-id USER/NAME [--private] [--card-results eval.json]
        [--checkpoint-url URL --mmpose-config CONFIG --verified-atol 1e-4] [--no-remote-code] [--dry-run DIR]

Uploads, as one commit: the safetensors weights, config.json, preprocessor_config.json, README.md (the model card
from `hfpose.hub.make_model_card`) and the trust_remote_code files of `hfpose.hub.remote_code`. With
HF_HUB_OFFLINE=1 it stops with a one-line error before any Hub call. See `hfpose.hub.push.push_to_hub`.
"""

import sys

from hfpose.cli import main

if __name__ == "__main__":
    sys.exit(main(["push", *sys.argv[1:]]))
