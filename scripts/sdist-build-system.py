#!/usr/bin/env python3
"""Read the PEP 517 build requirements of the sdists listed in the recorded index pages.

For each package named on the command line, reads fixtures/index/simple/<name>/index.html,
takes every sdist anchor (.tar.gz, .zip, .tar.bz2), downloads the file from the URL the page
lists (into --cache, default /tmp/py2nix-sdists), checks its sha256 against the anchor's
#sha256= fragment, reads [build-system] requires from the sdist's top-level pyproject.toml and
maps each requirement to a name in nixpkgs' Python package set (python3.pkgs.<name>).

No pyproject.toml, or one without [build-system]: the PEP 517 fallback, setuptools + wheel.

Prints, per package, the build requirements of each version and a suggested set of
`[[rule]]` tables for overrides/<shard>/<name>/override.toml, newest first, one rule per run
of versions with the same build-system names. The suggestion only covers `build-system`:
native inputs (pkg-config, libraries) come from nixpkgs' own derivation of the package and
are added by hand, see overrides/README.md.

Requirements the mapping table does not know are printed as `?name`, and names nixpkgs does
not package (such as coherent.licensed) are reported as dropped: check both by hand.

Python 3.11+ (tomllib), standard library only.

Usage:
  python3 scripts/sdist-build-system.py numpy scipy pillow
  python3 scripts/sdist-build-system.py --all          # every package with a recorded page
"""
from __future__ import annotations

import argparse
import hashlib
import html
import io
import re
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# PEP 503 normalised requirement name -> python3.pkgs attribute. None: not packaged in
# nixpkgs, drop it (nixpkgs' own derivations patch it out of pyproject.toml).
NIXPKGS_NAMES: dict[str, str | None] = {
    "setuptools": "setuptools",
    "wheel": "wheel",
    "flit-core": "flit-core",
    "flit-scm": "flit-scm",
    "setuptools-scm": "setuptools-scm",
    "hatchling": "hatchling",
    "hatch-vcs": "hatch-vcs",
    "hatch-fancy-pypi-readme": "hatch-fancy-pypi-readme",
    "poetry-core": "poetry-core",
    "pdm-backend": "pdm-backend",
    "maturin": "maturin",
    "meson": "meson",
    "meson-python": "meson-python",
    "cython": "cython",
    "pybind11": "pybind11",
    "pythran": "pythran",
    "numpy": "numpy",
    "versioneer": "versioneer",
    "cppy": "cppy",
    "packaging": "packaging",
    "coherent-licensed": None,
}

SDIST_RE = re.compile(r"""href="([^"]+\.(?:tar\.gz|zip|tar\.bz2))#sha256=([0-9a-f]{64})\"""")
REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
DEFAULT_BUILD_SYSTEM = ["setuptools", "wheel"]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sdist_version(name: str, filename: str) -> str:
    stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", filename)
    # The file name is <name>-<version>, with the name spelled in any PEP 503 way.
    prefix, _, version = stem.rpartition("-")
    if normalize(prefix) != name:
        raise ValueError(f"cannot read the version of {filename}")
    return version


def fetch(url: str, sha256: str, cache: Path) -> bytes:
    path = cache / url.rsplit("/", 1)[1]
    if path.exists():
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"sha256 mismatch for {path.name}")
    path.write_bytes(data)
    return data


def read_pyproject(filename: str, data: bytes) -> bytes | None:
    """The top-level pyproject.toml of an sdist, or None."""
    if filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                parts = member.split("/")
                if len(parts) == 2 and parts[1] == "pyproject.toml":
                    return archive.read(member)
        return None
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            parts = member.name.lstrip("./").split("/")
            if len(parts) == 2 and parts[1] == "pyproject.toml" and member.isfile():
                extracted = archive.extractfile(member)
                return extracted.read() if extracted else None
    return None


def build_requires(filename: str, data: bytes) -> tuple[list[str], str]:
    text = read_pyproject(filename, data)
    if text is None:
        return [], "no pyproject.toml: PEP 517 fallback"
    build_system = tomllib.loads(text.decode()).get("build-system")
    if build_system is None:
        return [], "pyproject.toml without [build-system]: PEP 517 fallback"
    return list(build_system.get("requires", [])), f"backend {build_system.get('build-backend', '(none)')}"


def map_requirements(requires: list[str]) -> tuple[list[str], list[str]]:
    names: list[str] = []
    dropped: list[str] = []
    for requirement in requires:
        match = REQ_NAME_RE.match(requirement)
        if not match:
            continue
        name = normalize(match.group(1))
        if name in NIXPKGS_NAMES:
            mapped = NIXPKGS_NAMES[name]
            if mapped is None:
                dropped.append(name)
                continue
        else:
            mapped = "?" + name
        if mapped not in names:
            names.append(mapped)
    return names, dropped


def version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.+-]", version))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--all", action="store_true", help="every package with a recorded page")
    parser.add_argument("--index", type=Path, default=REPO / "fixtures" / "index" / "simple")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/py2nix-sdists"))
    args = parser.parse_args()
    names = sorted(p.name for p in args.index.iterdir() if p.is_dir()) if args.all else [normalize(n) for n in args.names]
    if not names:
        parser.error("name some packages, or pass --all")
    args.cache.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in names:
        page = args.index / name / "index.html"
        if not page.exists():
            print(f"# {name}: no recorded page", file=sys.stderr)
            status = 1
            continue
        rows = []
        for url, sha256 in SDIST_RE.findall(page.read_text()):
            url = html.unescape(url)
            filename = url.rsplit("/", 1)[1]
            data = fetch(url, sha256, args.cache)
            requires, how = build_requires(filename, data)
            mapped, dropped = map_requirements(requires) if requires else (list(DEFAULT_BUILD_SYSTEM), [])
            rows.append((sdist_version(name, filename), requires, how, mapped, dropped))
        print(f"## {name}")
        if not rows:
            print("#   no sdist on the recorded page (wheels only)\n")
            continue
        rows.sort(key=lambda row: version_key(row[0]), reverse=True)
        for version, requires, how, mapped, dropped in rows:
            print(f"#   {version}: {how}; requires {requires}")
            if dropped:
                print(f"#     dropped (not in nixpkgs): {dropped}")
        # Runs of versions with the same names, newest first.
        runs: list[tuple[str, list[str]]] = []
        for version, _, _, mapped, _ in rows:
            if runs and runs[-1][1] == mapped:
                runs[-1] = (version, mapped)
            else:
                runs.append((version, mapped))
        for index, (oldest, mapped) in enumerate(runs):
            print("[[rule]]")
            if len(runs) > 1 and index < len(runs) - 1:
                print(f'versions = ">={oldest}"')
            print("build-system = [" + ", ".join(f'"{n}"' for n in mapped) + "]")
        print()
    return status


if __name__ == "__main__":
    sys.exit(main())
