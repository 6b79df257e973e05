"""Downloads the Linux wheels the GPU fixture's x86_64-linux/3.12 plan scans, once, for the
range-request benchmark (docs/benchmarks.md, "Reading Linux wheels' libraries").

    python3 scripts/bench/fetch_gpu_wheels.py [--fixture fixtures/gpu/torch-cuda] [--dest /work/wheels]

The wheels are those whose sha256 keys the fixture's `wheel-libraries.json` (what py2nix's scan
reads for that target), with the URL uv.lock gives. Each goes through `pip download` (no
dependencies, no pip cache) into a temporary directory under DEST, its sha256 is checked
against uv.lock, and it is renamed to DEST/<filename>. A wheel already in DEST with the right
hash is kept; one with another hash is an error (it is not ours to replace).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path


# The plan's target, whatever Python runs pip: CPython 3.12 on x86_64 Linux.
TARGET = [
    "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp",
    "--abi", "cp312", "--abi", "abi3", "--abi", "none",
    *(arg for tag in ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64",
                      "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_12_x86_64",
                      "manylinux2010_x86_64", "manylinux1_x86_64",
                      "manylinux_2_5_x86_64"]
      for arg in ("--platform", tag)),
]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def wheels(fixture: Path) -> list[tuple[str, str, int]]:
    """(file name, URL, sha256) of every wheel the recorded lists name."""
    lock = tomllib.loads((fixture / "uv.lock").read_text())
    recorded = json.loads((fixture / "wheel-libraries.json").read_text())
    by_hash = {}
    for package in lock["package"]:
        for wheel in package.get("wheels", []):
            algorithm, hex_digest = wheel["hash"].split(":", 1)
            if algorithm == "sha256":
                by_hash[hex_digest] = wheel["url"]
    out = []
    for hex_digest in recorded:
        url = by_hash[hex_digest]
        out.append((url.rsplit("/", 1)[1], url, hex_digest))
    return sorted(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixture", type=Path, default=Path("fixtures/gpu/torch-cuda"))
    parser.add_argument("--dest", type=Path, default=Path("/work/wheels"))
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    failed = 0
    for filename, url, expected in wheels(args.fixture):
        target = args.dest / filename
        if target.exists():
            actual = sha256(target)
            if actual != expected:
                print(f"{filename}: present with sha256 {actual}, uv.lock says {expected}", file=sys.stderr)
                failed += 1
            else:
                print(f"{filename}: present", flush=True)
            continue
        with tempfile.TemporaryDirectory(dir=args.dest, prefix=".partial-") as tmp:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-cache-dir", "--dest", tmp, *TARGET, f"{url}#sha256={expected}"],
                check=False,
            )
            got = Path(tmp) / filename
            if result.returncode != 0 or not got.exists():
                print(f"{filename}: pip download failed", file=sys.stderr)
                failed += 1
                continue
            actual = sha256(got)
            if actual != expected:
                print(f"{filename}: sha256 {actual}, uv.lock says {expected}", file=sys.stderr)
                failed += 1
                continue
            if target.exists():
                print(f"{filename}: appeared meanwhile, kept", flush=True)
                continue
            os.rename(got, target)
            print(f"{filename}: {target.stat().st_size} bytes", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
