"""The default index URL, read from the one place py2nix writes it.

`DEFAULT_INDEX_URL` in crates/py2nix-index/src/lib.rs is the only constant holding it; the
benchmark scripts read it from there (or take `PY2NIX_INDEX_URL`) rather than repeat it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def default_index_url() -> str:
    """`PY2NIX_INDEX_URL` when set, else py2nix's `DEFAULT_INDEX_URL`."""
    from_env = os.environ.get("PY2NIX_INDEX_URL")
    if from_env:
        return from_env
    source = (REPO / "crates/py2nix-index/src/lib.rs").read_text(encoding="utf-8")
    match = re.search(r'pub const DEFAULT_INDEX_URL: &str = "([^"]+)";', source)
    if not match:
        raise RuntimeError("DEFAULT_INDEX_URL not found in crates/py2nix-index/src/lib.rs")
    return match.group(1)
