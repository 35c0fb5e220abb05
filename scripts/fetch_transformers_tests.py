#!/usr/bin/env python
"""Fetch transformers' common test mixins (`ModelTesterMixin`, `ConfigTester`, `ImageProcessingTestMixin`, ...) for
hfpose's contract tests (tests/transformers_common/).

The transformers wheel has no tests; its source distribution on PyPI ships the top-level `tests/*.py` files (the
common mixins, without the `tests/models/`, `tests/utils/`, `tests/generation/`, `tests/exporters/` sub-packages).
This script downloads the sdist of the *installed* transformers version with pip (PyPI only, nothing else) and
extracts those files as the package ``transformers_tests`` under

    <sys.prefix>/share/transformers-tests/<version>/transformers_tests/

(or under ``$HFPOSE_TRANSFORMERS_TESTS`` when set). It does nothing when they are already there, so `make install`
can run it every time:

    python scripts/fetch_transformers_tests.py            # prints the folder that holds `transformers_tests`
    python scripts/fetch_transformers_tests.py --force    # download again
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

PACKAGE = "transformers_tests"
REQUIRED = ("test_modeling_common.py", "test_configuration_common.py", "test_image_processing_common.py")


def tests_root(transformers_version: str | None = None) -> Path:
    """The folder whose ``transformers_tests/`` package holds the extracted tests (it goes on `sys.path`)."""
    transformers_version = transformers_version or version("transformers")
    base = os.environ.get("HFPOSE_TRANSFORMERS_TESTS")
    base = Path(base) if base else Path(sys.prefix) / "share" / "transformers-tests"
    return base / transformers_version


def is_fetched(root: Path) -> bool:
    return all((root / PACKAGE / name).is_file() for name in REQUIRED)


def fetch(transformers_version: str, root: Path) -> Path:
    """Download the sdist of `transformers_version` with pip and extract its top-level ``tests/*.py`` into
    ``root / "transformers_tests"`` (plus an empty ``__init__.py``, which the sdist lacks).

    Raises:
        SystemExit: if pip cannot download the sdist or it holds none of the required files.
    """
    with tempfile.TemporaryDirectory() as download_dir:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"transformers=={transformers_version}",
            "--dest",
            download_dir,
        ]
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        archives = sorted(Path(download_dir).glob("transformers-*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise SystemExit(
                f"pip could not download the transformers {transformers_version} sdist "
                f"({' '.join(command)}):\n{result.stderr.strip()}"
            )
        prefix = f"transformers-{transformers_version}/tests/"
        target = root / PACKAGE
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archives[0]) as archive:
            members = [
                m
                for m in archive.getmembers()
                if m.isfile() and m.name.startswith(prefix) and "/" not in m.name[len(prefix) :]
            ]
            for member in members:
                handle = archive.extractfile(member)
                (target / member.name[len(prefix) :]).write_bytes(handle.read())
    (target / "__init__.py").write_text(f'"""transformers {transformers_version} tests/ from its sdist."""\n')
    if not is_fetched(root):
        raise SystemExit(f"the transformers {transformers_version} sdist lacks one of {REQUIRED}")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="download again even if the tests are present")
    args = parser.parse_args(argv)
    transformers_version = version("transformers")
    root = tests_root(transformers_version)
    if args.force or not is_fetched(root):
        fetch(transformers_version, root)
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
