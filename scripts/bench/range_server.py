"""A local index and file server that honours HTTP range requests, for the GPU wheels'
benchmark (docs/benchmarks.md, "Reading Linux wheels' libraries"). Python's http.server does
not serve ranges; this does, and counts the bytes it sends.

    python3 scripts/bench/range_server.py --wheels /work/wheels --pages fixtures/index/simple \\
        [--port 0] [--no-ranges] [--lifetime 3600]

- `GET /simple/<name>/`: PAGES/<name>/index.html, each link to a file rewritten to this
  server's `/files/<file name>` (the fragment, `#sha256=…`, kept);
- `GET /files/<file name>`: WHEELS/<file name>; with `Range: bytes=a-b`, `bytes=a-` or
  `bytes=-n` (one range) a 206 with `Content-Range`, a 416 past the end; with `--no-ranges`
  the `Range` header is ignored (200, the whole file);
- `GET /_stats`: JSON `{"body_bytes": N, "requests": N, "range_requests": N}` (body bytes
  written to sockets, counted as each 256 KiB write succeeds; a client that goes away stops
  the count);
- anything else: 404.

HTTP/1.1, one thread per connection. Prints `port N` once it listens; stops after --lifetime
seconds or when its stdin, a pipe, closes.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHUNK = 256 * 1024
LINK = re.compile(r'href="[^"#]*/([^/"#]+)(#[^"]*)?"')


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.body_bytes = 0
        self.requests = 0
        self.range_requests = 0

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def json(self) -> bytes:
        with self.lock:
            return json.dumps({"body_bytes": self.body_bytes, "requests": self.requests,
                               "range_requests": self.range_requests}).encode()


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte of a one-range `bytes=` header, or None when unsatisfiable."""
    spec = header.strip()
    if not spec.startswith("bytes=") or "," in spec:
        raise ValueError(header)
    first, _, last = spec[len("bytes="):].partition("-")
    if first == "":
        count = int(last)
        if count == 0:
            return None
        return max(size - count, 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return None
    return start, end


def make_handler(wheels: Path, pages: Path, ranges: bool, stats: Stats):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def plain(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            stats.add(requests=1)
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts == ["_stats"]:
                return self.plain(200, stats.json(), "application/json")
            if len(parts) == 2 and parts[0] == "simple" and not parts[1].startswith("."):
                page = pages / parts[1] / "index.html"
                if page.is_file():
                    base = f"http://127.0.0.1:{self.server.server_address[1]}/files/"
                    html = LINK.sub(lambda m: f'href="{base}{m.group(1)}{m.group(2) or ""}"',
                                    page.read_text())
                    return self.plain(200, html.encode(), "text/html")
            if len(parts) == 2 and parts[0] == "files" and not parts[1].startswith("."):
                path = wheels / parts[1]
                if path.is_file():
                    return self.file(path)
            return self.plain(404, b"not found")

        def file(self, path: Path) -> None:
            size = path.stat().st_size
            start, end = 0, size - 1
            header = self.headers.get("Range")
            status = 200
            if header is not None and ranges:
                stats.add(range_requests=1)
                try:
                    span = parse_range(header, size)
                except ValueError:
                    span = (0, size - 1)
                    header = None
                if span is None:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if header is not None:
                    start, end = span
                    status = 206
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            with path.open("rb") as f:
                f.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = f.read(min(CHUNK, left))
                    if not chunk:
                        break
                    try:
                        self.wfile.write(chunk)
                    except OSError:
                        self.close_connection = True
                        return
                    stats.add(body_bytes=len(chunk))
                    left -= len(chunk)

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, required=True)
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-ranges", action="store_true")
    parser.add_argument("--lifetime", type=float, default=3600)
    args = parser.parse_args()
    stats = Stats()
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port),
        make_handler(args.wheels, args.pages, not args.no_ranges, stats),
    )
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    if not sys.stdin.isatty():
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait(args.lifetime)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
