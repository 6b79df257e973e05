"""A local Simple API for the cold benchmarks: serves recorded or synthetic pages on 127.0.0.1.

    python3 scripts/bench/serve.py DIR [--port P]

`GET /simple/<name>/` answers DIR/<name>/index.html as `text/html` (the PEP 503 page, as the
index serves it); `GET /files/<name>.whl` a synthetic project's wheel (synth.wheel_bytes);
anything else is a 404. HTTP/1.1 with keep-alive (each answer one write, Nagle off), one thread per connection,
pages held in memory after their first read. Prints `port N` on stdout once it listens, and
stops by itself after --lifetime seconds (default 3600) or when its stdin, a pipe, closes.
"""
from __future__ import annotations

import argparse
import os
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402


def make_handler(root: Path):
    pages: dict[str, bytes] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Each answer goes out in one write with Nagle off: headers and body in two writes
        # would wait for the client's delayed ACK, 40 ms a page on a kept-alive connection.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            parts = self.path.split("?")[0].strip("/").split("/")
            body = None
            if len(parts) == 2 and parts[0] == "files" and parts[1].endswith(".whl"):
                body = synth.wheel_bytes(parts[1])
            if len(parts) == 2 and parts[0] == "simple" and "." not in parts[1][:1]:
                name = parts[1]
                with lock:
                    body = pages.get(name)
                if body is None:
                    path = root / name / "index.html"
                    if path.is_file():
                        body = path.read_bytes()
                        with lock:
                            pages[name] = body
            if body is None:
                self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                return
            kind = "application/octet-stream" if parts[0] == "files" else "text/html; charset=utf-8"
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
            self.wfile.write(head.encode() + body)

        def log_message(self, *args) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=3600)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.root))
    server.daemon_threads = True
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    # Stop when the parent closes our stdin (when it is a pipe), or after the lifetime,
    # whichever comes first.
    done = threading.Event()
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(args.lifetime)
    server.shutdown()


if __name__ == "__main__":
    main()
