"""Synthetic projects for the scale benchmark: a uv.lock, a poetry.lock and the index's pages.

    python3 scripts/bench/synth.py N OUT_DIR [--seed S]

writes

    OUT_DIR/project/pyproject.toml    the project: 20 direct dependencies
    OUT_DIR/project/uv.lock           N packages, as uv writes them (version 1, revision 3)
    OUT_DIR/poetry/pyproject.toml     the same project for Poetry
    OUT_DIR/poetry/poetry.lock        the same N packages, as Poetry 2 writes them (lock 2.1)
    OUT_DIR/index/<name>/index.html   each package's PEP 503 page: the locked version's files
                                      and those of one older release, with sha256 and
                                      requires-python, as the index serves them

The shapes follow real locks (the jupyterlab fixture): about 3 dependencies per package, a
quarter of the extra edges with an environment marker (platform, Python version), a tenth of
the packages with an extra that others turn on, and 30% binary packages with 18 wheels (three
CPython versions times six platforms) beside the sdist, the rest one pure wheel and an sdist.
The pages link the files relative to themselves (`/files/<name>`); the wheels are small valid
ones (`wheel_bytes`), with their real hashes, which serve.py serves.
Every package is reachable from the roots on x86_64-linux. The same N and seed give the same
files, byte for byte.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import io
import random
import zipfile
from pathlib import Path

import sys as _sys
_sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from defaults import default_index_url  # noqa: E402

# The default index: the locks name it as uv and Poetry do, and py2nix's --index-url then
# points the lookups at the local server.
INDEX = default_index_url().rstrip("/")
FILES = "https://files.example.org/packages"
ROOTS = 20
MARKERS = [
    "sys_platform == 'win32'",
    "python_full_version < '3.12'",
    "platform_machine == 'x86_64'",
    "sys_platform != 'emscripten'",
    "implementation_name == 'pypy'",
    "python_full_version >= '3.13'",
]
PLATFORMS = [
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "macosx_11_0_arm64",
    "macosx_10_9_x86_64",
    "win_amd64",
]
PYTHONS = ["cp311", "cp312", "cp313"]


class Package:
    def __init__(self, index: int, rng: random.Random):
        self.index = index
        self.name = f"synth-pkg-{index:05d}"
        self.dist = self.name.replace("-", "_")
        self.version = f"{rng.randint(1, 30)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        self.old_version = f"0.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        self.binary = rng.random() < 0.3
        self.requires_python = rng.choice([">=3.8", ">=3.9", ">=3.10", None])
        # (dependency index, marker or None, extras requested)
        self.deps: list[tuple[int, str | None, list[str]]] = []
        # extra name -> dependency indexes
        self.extras: dict[str, list[int]] = {}

    def files(self, version: str) -> list[str]:
        names = [f"{self.dist}-{version}.tar.gz"]
        if self.binary:
            for py in PYTHONS:
                for platform in PLATFORMS:
                    names.append(f"{self.dist}-{version}-{py}-{py}-{platform}.whl")
        else:
            names.append(f"{self.dist}-{version}-py3-none-any.whl")
        return names


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def file_url(filename: str) -> str:
    digest = sha256("url:" + filename)
    return f"{FILES}/{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}"


@functools.lru_cache(maxsize=None)
def wheel_bytes(filename: str) -> bytes:
    """A small valid wheel of that name (WHEEL and METADATA, no compiled code), the same bytes
    every time: py2nix downloads Linux wheels to read the libraries they link, and serve.py
    answers `/files/<name>` with these."""
    dist, version = filename.split("-")[:2]
    info = f"{dist}-{version}.dist-info"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as wheel:
        for name, text in (
            ("METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"),
            ("WHEEL", "Wheel-Version: 1.0\nGenerator: synth\nRoot-Is-Purelib: false\n"),
        ):
            wheel.writestr(zipfile.ZipInfo(f"{info}/{name}", (1980, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


def file_sha256(filename: str) -> str:
    """The hash the lock and the page give: a wheel's real one, an sdist's made up."""
    if filename.endswith(".whl"):
        return hashlib.sha256(wheel_bytes(filename)).hexdigest()
    return sha256(filename)


def build(n: int, seed: int) -> list[Package]:
    rng = random.Random(seed)
    packages = [Package(i, rng) for i in range(n)]
    for j in range(ROOTS, n):
        # Every package has one unconditional dependent before it, so all are reachable.
        parent = rng.randint(max(0, j - 64), j - 1)
        packages[parent].deps.append((j, None, []))
    for package in packages:
        i = package.index
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            if i + 1 >= n:
                break
            target = rng.randint(i + 1, min(n - 1, i + 400))
            if any(d == target for d, _, _ in package.deps):
                continue
            marker = rng.choice(MARKERS) if rng.random() < 0.25 else None
            package.deps.append((target, marker, []))
        if rng.random() < 0.1 and i + 1 < n:
            optional = sorted(
                {rng.randint(i + 1, min(n - 1, i + 400)) for _ in range(rng.randint(1, 2))}
            )
            package.extras["speedups"] = optional
    # A third of the edges to a package with an extra turn it on.
    for package in packages:
        deps = []
        for target, marker, extras in package.deps:
            if packages[target].extras and rng.random() < 0.33:
                extras = ["speedups"]
            deps.append((target, marker, extras))
        package.deps = sorted(deps)
    return packages


def toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_uv(packages: list[Package], out: Path) -> None:
    lines = [
        "version = 1",
        "revision = 3",
        'requires-python = ">=3.11"',
        "",
    ]
    project = "synth-project"
    entries: list[tuple[str, list[str]]] = []
    root = [
        "[[package]]",
        f'name = "{project}"',
        'version = "0.1.0"',
        'source = { virtual = "." }',
        "dependencies = [",
    ]
    root += [f'    {{ name = "{packages[i].name}" }},' for i in range(min(ROOTS, len(packages)))]
    root += ["]", "", "[package.metadata]", "requires-dist = ["]
    root += [
        f'    {{ name = "{packages[i].name}", specifier = ">=0" }},'
        for i in range(min(ROOTS, len(packages)))
    ]
    root += ["]", ""]
    entries.append((project, root))
    for p in packages:
        body = [
            "[[package]]",
            f'name = "{p.name}"',
            f'version = "{p.version}"',
            f'source = {{ registry = "{INDEX}" }}',
        ]
        if p.deps:
            body.append("dependencies = [")
            for target, marker, extras in p.deps:
                fields = [f'name = "{packages[target].name}"']
                if extras:
                    fields.append("extra = [" + ", ".join(toml_str(e) for e in extras) + "]")
                if marker:
                    fields.append(f"marker = {toml_str(marker)}")
                body.append("    { " + ", ".join(fields) + " },")
            body.append("]")
        files = p.files(p.version)
        sdist, wheels = files[0], files[1:]
        body.append(
            f'sdist = {{ url = "{file_url(sdist)}", hash = "sha256:{file_sha256(sdist)}", '
            f'size = {len(sdist) * 1000}, upload-time = "2025-01-01T00:00:00Z" }}'
        )
        body.append("wheels = [")
        for wheel in wheels:
            body.append(
                f'    {{ url = "{file_url(wheel)}", hash = "sha256:{file_sha256(wheel)}", '
                f'size = {len(wheel) * 1000}, upload-time = "2025-01-01T00:00:00Z" }},'
            )
        body.append("]")
        body.append("")
        if p.extras:
            body.append("[package.optional-dependencies]")
            for extra, targets in p.extras.items():
                body.append(f"{extra} = [")
                body += [f'    {{ name = "{packages[t].name}" }},' for t in targets]
                body.append("]")
            body.append("")
        entries.append((p.name, body))
    entries.sort(key=lambda e: e[0])
    for _, body in entries:
        lines += body
    (out / "uv.lock").write_text("\n".join(lines))


def write_poetry(packages: list[Package], out: Path) -> None:
    lines = [
        "# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.",
        "",
    ]
    for p in packages:
        lines += [
            "[[package]]",
            f'name = "{p.name}"',
            f'version = "{p.version}"',
            'description = "A synthetic package"',
            "optional = false",
            f'python-versions = "{p.requires_python or "*"}"',
            'groups = ["main"]',
            "files = [",
        ]
        for filename in sorted(p.files(p.version)):
            lines.append(f'    {{file = "{filename}", hash = "sha256:{file_sha256(filename)}"}},')
        lines += ["]", ""]
        optional = {t for targets in p.extras.values() for t in targets}
        if p.deps or optional:
            lines.append("[package.dependencies]")
            for target, marker, extras in p.deps:
                fields = ['version = ">=0"']
                if extras:
                    fields.append("extras = [" + ", ".join(toml_str(e) for e in extras) + "]")
                if marker:
                    fields.append(f"markers = {toml_str(marker.replace(chr(39), chr(34)))}")
                lines.append(f'{packages[target].name} = {{{", ".join(fields)}}}')
            for target in sorted(optional - {t for t, _, _ in p.deps}):
                lines.append(
                    f'{packages[target].name} = {{version = ">=0", optional = true, '
                    f'markers = "extra == \\"speedups\\""}}'
                )
            lines.append("")
        if p.extras:
            lines.append("[package.extras]")
            for extra, targets in p.extras.items():
                names = ", ".join(toml_str(packages[t].name) for t in targets)
                lines.append(f"{extra} = [{names}]")
            lines.append("")
    lines += [
        "[metadata]",
        'lock-version = "2.1"',
        'python-versions = ">=3.11"',
        f'content-hash = "{sha256(str(len(packages)))}"',
        "",
    ]
    (out / "poetry.lock").write_text("\n".join(lines))


def write_pyproject(packages: list[Package], out: Path) -> None:
    roots = ",\n".join(f'    "{packages[i].name}>=0"' for i in range(min(ROOTS, len(packages))))
    (out / "pyproject.toml").write_text(
        "[project]\n"
        'name = "synth-project"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.11"\n'
        f"dependencies = [\n{roots},\n]\n\n"
        "[tool.poetry]\n"
        "package-mode = false\n"
    )


def write_index(packages: list[Package], out: Path) -> None:
    for p in packages:
        anchors = []
        for version in (p.old_version, p.version):
            for filename in p.files(version):
                attrs = ""
                if p.requires_python:
                    attrs += ' data-requires-python="' + p.requires_python.replace(">", "&gt;") + '"'
                if filename.endswith(".whl"):
                    attrs += f' data-dist-info-metadata="sha256={sha256("m:" + filename)}"'
                    attrs += f' data-core-metadata="sha256={sha256("m:" + filename)}"'
                # Relative links: the files are on the server that serves the page.
                anchors.append(
                    f'    <a href="../../files/{filename}#sha256={file_sha256(filename)}"{attrs}>'
                    f"{filename}</a><br />"
                )
        page = (
            "<!DOCTYPE html>\n<html>\n  <head>\n"
            '    <meta name="pypi:repository-version" content="1.4">\n'
            f"    <title>Links for {p.name}</title>\n  </head>\n  <body>\n"
            f"    <h1>Links for {p.name}</h1>\n" + "\n".join(anchors) + "\n  </body>\n</html>\n"
        )
        directory = out / p.name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "index.html").write_text(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of packages")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    packages = build(args.n, args.seed)
    for sub in ("project", "poetry", "index"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    write_pyproject(packages, args.out / "project")
    write_uv(packages, args.out / "project")
    write_pyproject(packages, args.out / "poetry")
    write_poetry(packages, args.out / "poetry")
    write_index(packages, args.out / "index")


if __name__ == "__main__":
    main()
