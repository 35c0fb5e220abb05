#!/usr/bin/env python
"""Generate one model card per MMPose reference row into `model_cards/generated/<name>.md`.

    python scripts/generate_model_cards.py [--manifests ../shared/golden/manifests] [--output model_cards/generated]

The numbers come from `hfpose.hub.model_card.REFERENCE_RESULTS` (MMPose's published results, labelled "reported by
MMPose"); the URL of each released checkpoint from the `released_url` of the matching manifest
(`<manifests>/<name>.json`, default `$HFPOSE_GOLDEN/manifests`). Rows without a manifest get no URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def released_urls(manifest_dir: Path) -> dict[str, str]:
    """`{checkpoint name: released_url}` of every manifest in `manifest_dir` (empty when the folder is missing)."""
    urls = {}
    if not manifest_dir.is_dir():
        return urls
    for path in sorted(manifest_dir.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("released_url"):
            urls[path.stem] = data["released_url"]
    return urls


def generate(output_dir: Path, manifest_dir: Path, quiet: bool = False) -> list[Path]:
    """Write every reference card; returns the written paths."""
    from hfpose.hub.model_card import REFERENCE_RESULTS, reference_model_card

    urls = released_urls(manifest_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for row in REFERENCE_RESULTS:
        card = reference_model_card(row, released_url=urls.get(row.name))
        path = output_dir / f"{row.name}.md"
        card.save(path)
        written.append(path)
        if not quiet:
            print(f"wrote {path}" + ("" if row.name in urls else "  (no manifest: no checkpoint URL)"))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    golden = Path(os.environ.get("HFPOSE_GOLDEN", REPO / ".." / "shared" / "golden"))
    parser.add_argument(
        "--manifests", default=str(golden / "manifests"), help="folder of released-checkpoint manifests"
    )
    parser.add_argument("--output", default=str(REPO / "model_cards" / "generated"))
    args = parser.parse_args(argv)
    generate(Path(args.output), Path(args.manifests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
