"""Cold cost of reading the GPU fixture's Linux wheels' libraries, by range requests and whole,
from range_server.py on 127.0.0.1 (docs/benchmarks.md, "Reading Linux wheels' libraries").

    cargo build --release -p py2nix
    python3 scripts/bench/fetch_gpu_wheels.py          # once: the 40 wheels into /work/wheels
    python3 scripts/bench/gpu_ranges.py [--wheels /work/wheels] [--runs ranges,whole]

For each run: a copy of fixtures/gpu/torch-cuda whose uv.lock file URLs point at the local
server (`/files/<file name>`), a new empty cache, and `/usr/bin/time -v target/release/py2nix
lock COPY --system x86_64-linux --python 3.12 --format json -v` with PY2NIX_INDEX_URL at the
server's pages (the recorded fixtures/index/simple, their links rewritten the same way). The
server runs with ranges (`ranges`) or with `--no-ranges` (`whole`: every answer the whole
file). Prints, per run, the body bytes the server sent, the requests it answered, wall time,
CPU and peak RSS, py2nix's own count (its `-v` line), and whether every wheel's library lists
in the run's cache are the fixture's recorded ones (`wheel-libraries.json`), as a Markdown
table and JSON.
"""
from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r'url = "https?://[^"]*/([^/"]+)"')


def start_server(wheels: Path, ranges: bool) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, str(ROOT / "scripts/bench/range_server.py"), "--wheels",
               str(wheels), "--pages", str(ROOT / "fixtures/index/simple"), "--lifetime", "3600"]
    if not ranges:
        command.append("--no-ranges")
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    return server, int(line.split()[1])


def stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=10) as answer:
        return json.loads(answer.read())


def compare_with_recorded(cache: Path, fixture: Path) -> list[str]:
    """The wheels (sha256 hex) whose library lists in py2nix's cache differ from the fixture's
    recorded ones (`wheel-libraries.json`), or that the cache lacks."""
    recorded = json.loads((fixture / "wheel-libraries.json").read_text())
    cached = {}
    for entry in (cache / "wheel-libraries-v3").glob("*.json"):
        data = json.loads(entry.read_text())
        algorithm, _, digest = data["key"].partition("-")
        cached[base64.b64decode(digest).hex()] = data["value"]
    return sorted(
        sha for sha, lists in recorded.items()
        if sha not in cached
        or sorted(cached[sha]["needed"]) != sorted(lists["needed"])
        or cached[sha]["provided"] != lists["provided"]
    )


def run(py2nix: Path, wheels: Path, ranges: bool) -> dict:
    server, port = start_server(wheels, ranges)
    try:
        with tempfile.TemporaryDirectory(prefix="py2nix-gpu-ranges-") as tmp:
            project = Path(tmp) / "project"
            project.mkdir()
            fixture = ROOT / "fixtures/gpu/torch-cuda"
            shutil.copy(fixture / "pyproject.toml", project)
            lock = (fixture / "uv.lock").read_text()
            lock = URL.sub(lambda m: f'url = "http://127.0.0.1:{port}/files/{m.group(1)}"', lock)
            (project / "uv.lock").write_text(lock)
            cache = Path(tmp) / "cache"
            before = stats(port)
            started = time.monotonic()
            result = subprocess.run(
                ["/usr/bin/time", "-v", str(py2nix), "lock", str(project), "--system",
                 "x86_64-linux", "--python", "3.12", "--format", "json", "-v"],
                env={"PATH": "/usr/bin:/bin", "PY2NIX_INDEX_URL": f"http://127.0.0.1:{port}/simple/",
                     "PY2NIX_CACHE_DIR": str(cache), "NETRC": str(Path(tmp) / "no-netrc"),
                     "HOME": tmp},
                capture_output=True, text=True, check=False,
            )
            wall = time.monotonic() - started
            after = stats(port)
            differing = compare_with_recorded(cache, fixture)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"py2nix failed ({result.returncode})")
    field = lambda name: next(  # noqa: E731
        (line.split(": ", 1)[1] for line in result.stderr.splitlines()
         if line.strip().startswith(name)), "?")
    told = [line.strip() for line in result.stderr.splitlines() if "bytes of Linux wheels" in line]
    return {
        "run": "ranges" if ranges else "whole",
        "body_bytes": after["body_bytes"] - before["body_bytes"],
        "requests": after["requests"] - before["requests"] - 1,
        "range_requests": after["range_requests"] - before["range_requests"],
        "wall_s": round(wall, 1),
        "user_s": field("User time"),
        "sys_s": field("System time"),
        "max_rss_kb": field("Maximum resident set size"),
        "py2nix_says": told,
        "differing_from_recorded": differing,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, default=Path("/work/wheels"))
    parser.add_argument("--py2nix", type=Path, default=ROOT / "target/release/py2nix")
    parser.add_argument("--runs", default="ranges,whole")
    args = parser.parse_args()
    rows = [run(args.py2nix, args.wheels, name == "ranges") for name in args.runs.split(",")]
    print("| Run | Bytes sent by the server | Requests (ranges) | Wall time | CPU user + sys | Peak RSS | Lists as recorded |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['run']} | {row['body_bytes']:,} | {row['requests']} ({row['range_requests']}) "
              f"| {row['wall_s']} s | {row['user_s']} s + {row['sys_s']} s "
              f"| {int(row['max_rss_kb']) // 1024} MB "
              f"| {'all' if not row['differing_from_recorded'] else row['differing_from_recorded']} |")
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
