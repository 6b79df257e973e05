#!/usr/bin/env python3
"""Record PEP 503 Simple API pages for the packages named in the fixture lock files.

Reads every fixtures/**/poetry.lock (file names from [[package]].files in lock-version 2.x, or
[metadata.files] in lock-version 1.x), uv.lock (the file names of the sdist and wheel URLs of
registry packages), pylock.toml and pylock.*.toml (wheels and sdists of packages with an
`index`), pdm.lock (the `files` of packages that are not paths, URLs or VCS checkouts) and
requirements*.txt (the sha256 hashes of `--hash` options), fetches
<index-url>/<normalized-name>/ for each package, and writes

  <out>/simple/<normalized-name>/index.html   the page with only the <a> anchors whose text is a
                                              file name some fixture lock names, or whose
                                              sha256 a requirements file names (anchors kept
                                              byte for byte, attributes untouched)
  <out>/full/<name>/index.html                the whole page, unfiltered, for each --full name

Every lock file name must be found on its page with the same sha256 as in the lock; otherwise
the script reports it and exits 1 (after writing what it could).

With --add-only, the pages already recorded under <out>/simple are kept byte for byte (whole
pages are written only for the --full names, which default to none): a page is written only for
a package that has none yet, and an existing page only gains the anchors (byte
for byte as served, each inserted after the recorded anchor that precedes it on the index's
page) of files that the locks name and the page lacks. Nothing is deleted. --newest NAME
(repeatable) also keeps, on NAME's filtered page, every file of the newest version the index
lists (for build requirements that are chosen from the index but have no whole page).

Python 3.11+ (tomllib), standard library only.

Usage:
  python3 scripts/record-index.py --index-url <simple-api-url>
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# One anchor, plus the "<br/>" and newline that follow it on a PEP 503 page.
ANCHOR_RE = re.compile(
    r"(?P<open><a\b[^>]*>)(?P<text>.*?)</a\s*>(?:[ \t]*<br\s*/?>)?[ \t]*\n?",
    re.IGNORECASE | re.DOTALL,
)
HREF_RE = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_files(lock_path: Path) -> dict[str, dict[str, str]]:
    """Return {normalized name: {file name: hash}} for one poetry.lock."""
    with lock_path.open("rb") as f:
        data = tomllib.load(f)
    result: dict[str, dict[str, str]] = {}
    metadata_files = data.get("metadata", {}).get("files", {})
    for name, files in metadata_files.items():  # lock-version 1.x
        bucket = result.setdefault(normalize(name), {})
        for entry in files:
            bucket[entry["file"]] = entry.get("hash", "")
    for package in data.get("package", []):  # lock-version 2.x
        source = package.get("source")
        if source and source.get("type") not in (None, "legacy"):
            continue  # git, url, file, directory: not on the index
        bucket = result.setdefault(normalize(package["name"]), {})
        for entry in package.get("files", []):
            bucket[entry["file"]] = entry.get("hash", "")
    return {name: files for name, files in result.items() if files}


def url_basename(url: str) -> str:
    return urllib.parse.unquote(url.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1])


def uv_lock_files(lock_path: Path) -> dict[str, dict[str, str]]:
    """{normalized name: {file name: hash}} for the registry packages of one uv.lock."""
    with lock_path.open("rb") as f:
        data = tomllib.load(f)
    result: dict[str, dict[str, str]] = {}
    for package in data.get("package", []):
        if "registry" not in package.get("source", {}):
            continue
        bucket = result.setdefault(normalize(package["name"]), {})
        entries = list(package.get("wheels", []))
        if "sdist" in package:
            entries.append(package["sdist"])
        for entry in entries:
            if "url" in entry:
                bucket[url_basename(entry["url"])] = entry.get("hash", "")
    return {name: files for name, files in result.items() if files}


def pylock_files(lock_path: Path) -> dict[str, dict[str, str]]:
    """{normalized name: {file name: hash}} for the index packages of one pylock.toml."""
    with lock_path.open("rb") as f:
        data = tomllib.load(f)
    result: dict[str, dict[str, str]] = {}
    for package in data.get("packages", []):
        if "index" not in package:
            continue
        bucket = result.setdefault(normalize(package["name"]), {})
        entries = list(package.get("wheels", []))
        if "sdist" in package:
            entries.append(package["sdist"])
        for entry in entries:
            # uv writes `name` normalised (pyyaml-…) where the file is PyYAML-…: the URL
            # names the real file.
            name = url_basename(entry["url"]) if "url" in entry else entry.get("name", "")
            sha = entry.get("hashes", {}).get("sha256")
            bucket[name] = f"sha256:{sha}" if sha else ""
    return {name: files for name, files in result.items() if files}


def pdm_lock_files(lock_path: Path) -> dict[str, dict[str, str]]:
    """{normalized name: {file name: hash}} for the index packages of one pdm.lock."""
    with lock_path.open("rb") as f:
        data = tomllib.load(f)
    result: dict[str, dict[str, str]] = {}
    for package in data.get("package", []):
        if any(key in package for key in ("path", "url", "git", "hg", "svn", "bzr")):
            continue  # a local directory, a direct URL or a VCS checkout: not on the index
        bucket = result.setdefault(normalize(package["name"]), {})
        for entry in package.get("files", []):
            name = entry.get("file") or url_basename(entry.get("url", ""))
            if name:
                bucket[name] = entry.get("hash", "")
    return {name: files for name, files in result.items() if files}


REQUIREMENT_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*===?\s*([^\s;\\]+)")
HASH_RE = re.compile(r"--hash[=\s]+sha256:([0-9a-fA-F]{64})")


def requirements_hashes(path: Path) -> dict[str, set[str]]:
    """{normalized name: {sha256}} for the pinned, hashed lines of one requirements file."""
    text = path.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text).splitlines()
    result: dict[str, set[str]] = {}
    for line in logical:
        line = line.split(" #")[0]
        match = REQUIREMENT_RE.match(line)
        hashes = {h.lower() for h in HASH_RE.findall(line)}
        if match and hashes:
            result.setdefault(normalize(match.group(1)), set()).update(hashes)
    return result


def fetch(url: str, timeout: float = 120.0) -> str:
    request = urllib.request.Request(
        url, headers={"Accept": "text/html", "User-Agent": "py2nix-record-index"}
    )
    last_error: Exception | None = None
    for _ in range(3):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                charset = response.headers.get_content_charset() or "utf-8"
                return response.read().decode(charset)
        except (urllib.error.URLError, TimeoutError) as error:
            last_error = error
    raise RuntimeError(f"fetching {url}: {last_error}")


def href_sha256(open_tag: str) -> str | None:
    match = HREF_RE.search(open_tag)
    if not match:
        return None
    href = html.unescape(next(g for g in match.groups() if g is not None))
    fragment = href.partition("#")[2]
    key, _, value = fragment.partition("=")
    return value.lower() if key == "sha256" else None


def filter_page(
    page: str, wanted: set[str], hashes: set[str] | None = None
) -> tuple[str, dict[str, str | None]]:
    """Drop every anchor whose text is not in `wanted` and whose sha256 is not in `hashes`;
    return the page and {file: sha256}."""
    found: dict[str, str | None] = {}
    hashes = hashes or set()

    def keep_or_drop(match: re.Match[str]) -> str:
        text = html.unescape(match.group("text")).strip()
        if text in wanted or href_sha256(match.group("open")) in hashes:
            found[text] = href_sha256(match.group("open"))
            return match.group(0)
        return ""

    return ANCHOR_RE.sub(keep_or_drop, page), found


def anchor_text(match: re.Match[str]) -> str:
    return html.unescape(match.group("text")).strip()


def add_anchors(recorded: str, live: str, add: set[str]) -> tuple[str, int]:
    """Insert into the recorded page the live page's anchors whose text is in `add` and that the
    recorded page lacks, each after the recorded anchor that precedes it on the live page (or
    before the first recorded anchor); the recorded bytes are kept. Returns the page and the
    number of anchors inserted."""
    recorded_anchors = {anchor_text(m): m for m in ANCHOR_RE.finditer(recorded)}
    insert_at: dict[int, list[str]] = {}
    previous_end: int | None = None
    for match in ANCHOR_RE.finditer(live):
        text = anchor_text(match)
        if text in recorded_anchors:
            previous_end = recorded_anchors[text].end()
        elif text in add:
            if previous_end is None:
                first = next(iter(recorded_anchors.values()), None)
                position = first.start() if first else recorded.rfind("</body>")
            else:
                position = previous_end
            insert_at.setdefault(position, []).append(match.group(0))
    if not insert_at:
        return recorded, 0
    pieces, last = [], 0
    for position in sorted(insert_at):
        pieces.append(recorded[last:position])
        pieces.extend(insert_at[position])
        last = position
    pieces.append(recorded[last:])
    return "".join(pieces), sum(map(len, insert_at.values()))


def newest_version_files(page: str, name: str) -> set[str]:
    """The file names of the newest (release, not pre-release) version on a page, by the
    version in each file name; empty when none parses."""
    versions: dict[tuple, set[str]] = {}
    prefix = re.compile(rf"^{re.sub(r'-', '[-_.]+', name)}-([0-9][0-9A-Za-z.+!]*?)"
                        r"(?:-[^-]+-[^-]+-[^-]+\.whl|\.tar\.gz|\.zip)$", re.IGNORECASE)
    for match in ANCHOR_RE.finditer(page):
        text = anchor_text(match)
        found = prefix.match(text)
        if not found or "data-yanked" in match.group("open"):
            continue
        parts = found.group(1).split(".")
        if not all(part.isdigit() for part in parts):
            continue  # a pre-release, post-release or local version: not chosen by default
        versions.setdefault(tuple(int(p) for p in parts), set()).add(text)
    return versions[max(versions)] if versions else set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index-url", required=True, help="base URL of the PEP 503 Simple API (…/simple)"
    )
    parser.add_argument("--fixtures", type=Path, default=REPO / "fixtures")
    parser.add_argument("--out", type=Path, default=REPO / "fixtures" / "index")
    parser.add_argument(
        "--full", action="append", default=None,
        help="package whose whole page is also kept unfiltered (default: flask)",
    )
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument(
        "--add-only", action="store_true",
        help="keep the recorded pages byte for byte; only add new pages and new anchors",
    )
    parser.add_argument(
        "--newest", action="append", default=[],
        help="package whose newest version's files are kept on its filtered page too",
    )
    args = parser.parse_args()
    index_url = args.index_url.rstrip("/")
    full = [normalize(n) for n in (args.full or ([] if args.add_only else ["flask"]))]
    newest = [normalize(n) for n in args.newest]

    readers = [("poetry.lock", lock_files), ("uv.lock", uv_lock_files),
               ("pylock.toml", pylock_files), ("pylock.*.toml", pylock_files),
               ("pdm.lock", pdm_lock_files)]
    locks = []
    wanted: dict[str, dict[str, str]] = {}
    for pattern, reader in readers:
        for lock in sorted(args.fixtures.rglob(pattern)):
            if lock.parent.parent.name == "index":
                continue
            locks.append(lock)
            for name, files in reader(lock).items():
                wanted.setdefault(name, {}).update(files)
    wanted_hashes: dict[str, set[str]] = {}
    for requirements in sorted(args.fixtures.rglob("requirements*.txt")):
        locks.append(requirements)
        for name, hashes in requirements_hashes(requirements).items():
            wanted_hashes.setdefault(name, set()).update(hashes)
            wanted.setdefault(name, {})
    print(f"{len(locks)} lock files, {len(wanted)} packages, "
          f"{sum(map(len, wanted.values()))} files", file=sys.stderr)

    for name in newest:
        wanted.setdefault(name, {})
    names = sorted(set(wanted) | set(full))
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pages = dict(zip(names, pool.map(lambda n: fetch(f"{index_url}/{n}/"), names)))

    simple_dir = args.out / "simple"
    if simple_dir.exists() and not args.add_only:
        shutil.rmtree(simple_dir)
    problems = []
    added_pages, grown_pages, kept_pages = 0, 0, 0
    for name in sorted(wanted):
        files = wanted[name]
        newest_files = newest_version_files(pages[name], name) if name in newest else set()
        if name in newest and not newest_files:
            problems.append(f"{name}: no release version found on the index page")
        filtered, found = filter_page(
            pages[name], set(files) | newest_files, wanted_hashes.get(name)
        )
        missing_hashes = wanted_hashes.get(name, set()) - {h for h in found.values() if h}
        if wanted_hashes.get(name) and len(missing_hashes) == len(wanted_hashes[name]):
            problems.append(f"{name}: no file with a requirements file's hash on the index page")
        for file, lock_hash in sorted(files.items()):
            if file not in found:
                problems.append(f"{name}: {file} not on the index page")
            elif lock_hash.startswith("sha256:") and found[file] != lock_hash[7:].lower():
                problems.append(f"{name}: {file} sha256 differs (lock {lock_hash}, "
                                f"index {found[file]})")
        target = simple_dir / name / "index.html"
        if args.add_only and target.exists():
            recorded = target.read_text(encoding="utf-8")
            grown, count = add_anchors(recorded, filtered, set(found))
            if count:
                target.write_text(grown, encoding="utf-8", newline="")
                grown_pages += 1
                print(f"{name}: {count} anchor(s) added to the recorded page", file=sys.stderr)
            else:
                kept_pages += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(filtered, encoding="utf-8", newline="")
        added_pages += 1
    for name in full:
        target = args.out / "full" / name / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(pages[name], encoding="utf-8", newline="")

    for problem in problems:
        print("problem:", problem, file=sys.stderr)
    if args.add_only:
        print(f"{added_pages} new filtered page(s), {grown_pages} recorded page(s) grown, "
              f"{kept_pages} kept as recorded, {len(full)} full page(s) under {args.out}",
              file=sys.stderr)
    else:
        print(f"wrote {len(wanted)} filtered pages and {len(full)} full page(s) under {args.out}",
              file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
