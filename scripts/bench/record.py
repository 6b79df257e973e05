"""Records the index's Simple API pages of every package a lock names, for the local server.

    python3 scripts/bench/record.py LOCK OUT_DIR [--index-url URL]

Reads the package names of a uv.lock or poetry.lock (registry packages only), fetches each
project page whole, exactly as the index serves it (HTML), and writes OUT_DIR/<name>/index.html
plus OUT_DIR/urls.txt (the page URLs, one a line, for the parallel-fetch floor). Pages already
recorded are kept. The index URL defaults to PY2NIX_INDEX_URL, else PyPI's Simple API.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import ssl
import tomllib
import urllib.request
from pathlib import Path

import sys as _sys
_sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from defaults import default_index_url  # noqa: E402



def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_packages(lock: Path) -> list[str]:
    data = tomllib.loads(lock.read_text())
    names = set()
    for package in data.get("package", []):
        source = package.get("source", {})
        if lock.name == "uv.lock" and "registry" not in source:
            continue
        if lock.name == "poetry.lock" and source.get("type") not in (None, "legacy"):
            continue
        names.add(normalize(package["name"]))
    return sorted(names)


def page_url(index: str, name: str) -> str:
    return index.rstrip("/") + f"/{name}/"


def fetch(url: str) -> bytes:
    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
    request = urllib.request.Request(url, headers={"Accept": "text/html", "User-Agent": "py2nix-bench"})
    with urllib.request.urlopen(request, timeout=60, context=context) as response:
        return response.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lock", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--index-url", default=default_index_url())
    args = parser.parse_args()
    names = lock_packages(args.lock)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "urls.txt").write_text("".join(page_url(args.index_url, n) + "\n" for n in names))
    todo = [n for n in names if not (args.out / n / "index.html").is_file()]

    def record(name: str) -> None:
        body = fetch(page_url(args.index_url, name))
        (args.out / name).mkdir(exist_ok=True)
        temp = args.out / name / "index.html.tmp"
        temp.write_bytes(body)
        temp.rename(args.out / name / "index.html")

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(record, todo))
    total = sum((args.out / n / "index.html").stat().st_size for n in names)
    print(f"{len(names)} pages ({len(todo)} fetched now), {total / 2**20:.1f} MiB in {args.out}")


if __name__ == "__main__":
    main()
