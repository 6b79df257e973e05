#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/seed-*.

Seeds are small (a few kilobytes) so that libFuzzer runs fast: each real fixture lock is cut
to its header, its first packages and its trailing tables. The inputs libFuzzer adds beside
them (named by their sha1) are kept in the repository too; see docs/fuzzing.md.

Run from anywhere: python3 fuzz/seeds.py
"""

import html
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, name, text):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (directory / f"seed-{name}").write_bytes(data)


def cut_blocks(text, marker, keep):
    """The text before the first `marker` block, `keep` blocks, and the tables after the last
    block that are not part of it (poetry.lock's [metadata], for example)."""
    parts = text.split(f"\n{marker}\n")
    head, blocks = parts[0], parts[1:]
    tail = ""
    if blocks:
        last = blocks[-1]
        found = re.search(r"\n\[(?!package|packages)[a-z]", last)
        if found:
            tail = last[found.start():]
    # The smallest blocks, in file order (a block with fifty wheels teaches a fuzzer nothing
    # that one with two does not).
    if blocks and tail:
        blocks[-1] = blocks[-1][: len(blocks[-1]) - len(tail)]
    smallest = sorted(range(len(blocks)), key=lambda i: len(blocks[i]))[:keep]
    kept = [head] + [blocks[i] for i in sorted(smallest)]
    out = f"\n{marker}\n".join(kept)
    if "[metadata.files]" in tail:
        # lock-version 1.x keeps hashes apart: only the kept packages' entries.
        names = set(re.findall(r'^name = "([^"]+)"', out, re.M))
        entries = re.split(r"(?m)^(?=[A-Za-z0-9_.-]+ = \[)", tail)
        kept_entries = []
        for entry in entries:
            if not re.match(r"[A-Za-z0-9_.-]+ = \[", entry):
                kept_entries.append(entry)
            elif entry.split(" =")[0] in names:
                lines = entry.splitlines(keepends=True)
                kept_entries.append("".join(lines[:3] + ["]\n"]))
        tail = "".join(kept_entries)
    if tail and tail not in out:
        out += "\n" + tail
    return out


def slug(path):
    return "-".join(path.relative_to(ROOT / "fixtures").parts).replace(".", "_")


def locks():
    for path in sorted((ROOT / "fixtures").glob("poetry/*/poetry.lock")):
        write("poetry_lock", slug(path), cut_blocks(path.read_text(), "[[package]]", 3))
    for path in sorted((ROOT / "fixtures").glob("*/*/uv.lock")):
        if "bench" not in path.parts:
            write("uv_lock", slug(path), cut_blocks(path.read_text(), "[[package]]", 4))
    for path in sorted((ROOT / "fixtures").glob("pylock/*/pylock.toml")):
        write("pylock", slug(path), cut_blocks(path.read_text(), "[[packages]]", 3))
    for path in sorted((ROOT / "fixtures").glob("pdm/*/pdm.lock")):
        write("pdm_lock", slug(path), cut_blocks(path.read_text(), "[[package]]", 3))
    for path in sorted((ROOT / "fixtures").glob("*/*/pyproject.toml")):
        if path.stat().st_size < 8192:
            write("pyproject", slug(path), path.read_text())
    for path in sorted((ROOT / "fixtures").glob("requirements/*/*")):
        if path.suffix in (".txt", ".in"):
            lines = path.read_text().splitlines(keepends=True)
            write("requirements", slug(path), "".join(lines[:60]))


def pages():
    simple = ROOT / "fixtures" / "index" / "simple"
    names = set()
    small = sorted(simple.glob("*/index.html"), key=lambda p: p.stat().st_size)
    for path in small[:6] + [ROOT / "fixtures" / "index" / "full" / "flask" / "index.html"]:
        text = path.read_text()
        if len(text) > 8192:
            anchors = text.split("<a ")
            text = "<a ".join(anchors[:8]) + "\n</body></html>\n"
        write("simple_html", slug(path), text)
        files = []
        for href, attrs, name in re.findall(r'<a href="([^"]*)"([^>]*)>([^<]*)</a>', text):
            url, _, fragment = html.unescape(href).partition("#")
            entry = {"filename": html.unescape(name), "url": url, "hashes": {}}
            if fragment.startswith("sha256="):
                entry["hashes"]["sha256"] = fragment[len("sha256="):]
            requires = re.search(r'data-requires-python="([^"]*)"', attrs)
            if requires:
                entry["requires-python"] = html.unescape(requires.group(1))
            if "data-yanked" in attrs:
                entry["yanked"] = True
            if "data-core-metadata" in attrs:
                entry["core-metadata"] = {"sha256": "00"}
            files.append(entry)
        page = {"meta": {"api-version": "1.1"}, "name": path.parent.name, "files": files}
        write("simple_json", slug(path), json.dumps(page, indent=1))
    for path in simple.glob("*/index.html"):
        names.update(re.findall(r">([^<>]+\.(?:whl|tar\.gz|zip|tar\.bz2))</a>", path.read_text()))
    chosen = sorted(names)[:: max(1, len(names) // 120)]
    for i, name in enumerate(chosen):
        write("filename", f"{i:03}", name)
    extra = [
        "numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "x-1.0-1-py2.py3-none-any.whl",
        "x-1.0-py3-none-musllinux_1_2_aarch64.whl",
        "x-1.0-cp312-abi3-macosx_11_0_universal2.whl",
        "zope.interface-6.0.zip",
        "python-dateutil-2.8.2.tar.gz",
        "x-1.0.tar.Z",
    ]
    for i, name in enumerate(extra):
        write("filename", f"extra-{i}", name)


def nix():
    write("nix_printer", "plain", b"\x05\x02\x03\x05flask\x03\x03\x05hello")
    write("nix_printer", "interpolation", b"${builtins.abort \"x\"}\x03\x0a\x00\x01\x02")
    write("nix_printer", "indented", b"''${x}'' \\${y} $${z}\x05\x01\x08\x00\x05\x02ab")
    write("nix_printer", "numbers", b"\x04\x03\x02\x08\x00\x00\x00\x00\x00\x00\x00\x80\x02\x01\xff")
    write("nix_printer", "unicode", "\u202e\u2028\ufeff\U0001f980".encode() + b"\x03\x10\x90\x00\x00")


if __name__ == "__main__":
    locks()
    pages()
    nix()
