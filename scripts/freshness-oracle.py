#!/usr/bin/env python3
"""Compares py2nix's stale-lock verdicts with the tools' own, on copies of the fixtures.

For each edit of a fixture's pyproject.toml (a dependency added, removed or constrained, a
group, extra, member or source changed, or a cosmetic edit), the script copies the fixture into
a scratch directory, applies the edit and asks both the tool and py2nix whether the lock is
still current:

- uv.lock: `uv lock --check --offline` (with the lock's own `exclude-newer`);
- poetry.lock: `poetry check --lock`;
- pdm.lock: `pdm lock --check`;
- py2nix: `py2nix lock --offline` with an empty cache, stale when it says "is out of date".

It prints `ok` or `MISMATCH` per edit and exits 1 on any mismatch. Set up the tools with
`python3 -m venv VENV && VENV/bin/pip install uv poetry pdm`, build py2nix, then run

    python3 scripts/freshness-oracle.py --venv VENV --py2nix target/debug/py2nix

uv may fetch a workspace member's build backend from the index to read its dynamic metadata.
Fixtures are only read, never edited.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")


def add_dep(dep):
    return lambda t: t.replace("dependencies = [\n", "dependencies = [\n    \"%s\",\n" % dep, 1)


def ins(after, line):
    return lambda t: t.replace(after, after + "\n" + line, 1)


# (fixture under fixtures/uv, member directory, name, edit of its pyproject.toml)
UV_EDITS = [
 ("flask-pillow", ".", "none", lambda t: t),
 ("flask-pillow", ".", "add tomli", add_dep("tomli")),
 ("flask-pillow", ".", "remove pillow", lambda t: t.replace('    "pillow",\n', "")),
 ("flask-pillow", ".", "constrain flask", lambda t: t.replace('"flask",', '"flask>=3",')),
 ("flask-pillow", ".", "marker always true", lambda t: t.replace('"flask",', '"flask; python_version >= \'3.8\'",')),
 ("flask-pillow", ".", "marker sometimes true", lambda t: t.replace('"flask",', '"flask; python_version >= \'3.10\'",')),
 ("flask-pillow", ".", "rename Flask case", lambda t: t.replace('"flask",', '"Flask",')),
 ("flask-pillow", ".", "group add", lambda t: t.replace('dev = ["pytest"]', 'dev = ["pytest", "ruff"]')),
 ("flask-pillow", ".", "group rename", lambda t: t.replace('dev = ["pytest"]', 'test = ["pytest"]')),
 ("flask-pillow", ".", "description", lambda t: t.replace('description = "', 'description = "Edited ')),
 ("flask-pillow", ".", "constraint changed", lambda t: t.replace('"zipp==3.23.1",', '"zipp==3.23.0",')),
 ("flask-pillow", ".", "requires-python", lambda t: t.replace('">=3.9,<3.14"', '">=3.10,<3.14"')),
 ("flask-pillow", ".", "requires-python same", lambda t: t.replace('">=3.9,<3.14"', '"<3.14,>=3.9"')),
 ("forks", ".", "extra add dep", lambda t: t.replace('http = ["requests[socks]"]', 'http = ["requests[socks]", "idna"]')),
 ("forks", ".", "extra rename", lambda t: t.replace('http = ', 'web = ')),
 ("forks", ".", "marker equivalent", lambda t: t.replace("python_version < '3.11'", "python_full_version < '3.11'")),
 ("forks", ".", "marker changed", lambda t: t.replace("sys_platform == 'win32'", "sys_platform == 'darwin'")),
 ("forks", ".", "extras changed", lambda t: t.replace('requests[socks]', 'requests')),
 ("forks", ".", "version bump", lambda t: t.replace('version = "0.1.0"', 'version = "0.2.0"')),
 ("old-revision", ".", "add dep", add_dep("six")),
 ("old-revision", ".", "none", lambda t: t),
 ("sdist-build", ".", "remove", lambda t: t.replace('    "psycopg2",\n', "")),
 ("sdist-build", ".", "build-system add", lambda t: t + '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'),
 ("virtual-root", ".", "group docs", lambda t: t.replace('docs = ["six"]', 'docs = ["six", "idna"]')),
 ("virtual-root", ".", "none", lambda t: t),
 ("virtual-root", "packages/tool", "member dep", add_dep("six")),
 ("virtual-root", "packages/tool", "member extra", lambda t: t.replace('cli = ["colorama"]', 'cli = ["colorama>=0.4"]')),
 ("virtual-root", "packages/tool", "member description", lambda t: t.replace('description = "', 'description = "Edited ')),
 ("workspace", ".", "none", lambda t: t),
 ("workspace", "packages/lib", "member dep", add_dep("attrs")),
 ("workspace", "packages/app", "member constraint", lambda t: t.replace('"attrs>=23"', '"attrs>=24"')),
 ("workspace", "packages/app", "member source removed", lambda t: t.replace('[tool.uv.sources]\nws-lib = { workspace = true }\n', '')),
 ("workspace", ".", "group include", lambda t: t.replace('lint = ["idna"]', 'lint = ["idna", "six"]')),
 ("workspace", ".", "default-groups", lambda t: t.replace('default-groups = ["dev", "lint"]', 'default-groups = ["dev"]')),
 ("workspace", ".", "legacy dev-deps", lambda t: t.replace('[tool.uv]\n', '[tool.uv]\ndev-dependencies = ["six"]\n')),
 ("workspace", "packages/lib", "member description", lambda t: t.replace('description = "', 'description = "Edited ')),
 ("workspace", ".", "root description", lambda t: t.replace('description = "', 'description = "Edited ')),
 ("workspace", "packages/extra", "new member", lambda t: '[project]\nname = "ws-extra"\nversion = "1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'),
 ("workspace", ".", "exclude member", lambda t: t.replace('members = ["packages/*"]', 'members = ["packages/*"]\nexclude = ["packages/lib"]')),
 ("workspace", ".", "root version", lambda t: t.replace('version = "0.1.0"', 'version = "0.1.1"')),
 ("workspace", "packages/app", "member optional", lambda t: t + '\n[project.optional-dependencies]\nx = ["six"]\n'),
 ("flask-pillow", ".", "override add", lambda t: t.replace('[tool.uv]\n', '[tool.uv]\noverride-dependencies = ["six==1.17.0"]\n')),
 ("flask-pillow", ".", "legacy dev add", lambda t: t.replace('[tool.uv]\n', '[tool.uv]\ndev-dependencies = ["ruff"]\n')),
 ("forks", ".", "package false", lambda t: t + '\n[tool.uv]\npackage = false\n'),
 ("forks", ".", "keywords authors", lambda t: t.replace('description = "', 'keywords = ["a"]\nauthors = [{name = "x"}]\ndescription = "')),
 ("old-revision", ".", "group add", lambda t: t.replace('dev = ["pytest"]', 'dev = ["pytest", "six"]')),
 ("old-revision", ".", "default groups", lambda t: t + '\n[tool.uv]\ndefault-groups = []\n'),
 ("sdist-build", ".", "url dep", add_dep("six @ https://example.invalid/six-1.17.0-py2.py3-none-any.whl")),
]

# (fixture under fixtures/, name, edit of its pyproject.toml)
LOCK_HASH_EDITS = [
 ("poetry/flask-pillow","none",lambda t:t),
 ("poetry/flask-pillow","add dep",ins("[tool.poetry.dependencies]",'tomli = "^2"')),
 ("poetry/flask-pillow","constraint",lambda t:t.replace('flask = "*"','flask = "^3"')),
 ("poetry/flask-pillow","package-mode",lambda t:t.replace('package-mode = false','package-mode = false\ndescription = "x"')),
 ("poetry/groups","none",lambda t:t),
 ("poetry/groups","group dep",lambda t:re.sub(r'(\[tool\.poetry\.group\.[^\]]*\.dependencies\])', r'\1\nruff = "*"', t, count=1)),
 ("poetry/lock-1-1","none",lambda t:t),
 ("poetry/lock-1-1","add",ins("[tool.poetry.dependencies]",'tomli = "^2"')),
 ("poetry/pep735-groups","none",lambda t:t),
 ("poetry/pep735-groups","group",lambda t:re.sub(r'(\[dependency-groups\]\n[^=]*= \[)', r'\1"ruff", ', t, count=1)),
 ("poetry/pep735-groups","description",lambda t:t.replace('description = "','description = "E ')),
 ("poetry/data-science","none",lambda t:t),
 ("poetry/data-science","req-python",lambda t:re.sub(r'requires-python = "([^"]*)"', r'requires-python = "\1,!=3.12.0"', t, count=1)),
 ("poetry/markers-extras","none",lambda t:t),
 ("poetry/markers-extras","readme",lambda t:t.replace('[tool.poetry]','[tool.poetry]\nreadme = "R.md"',1)),
 ("poetry/cycle","add",lambda t:t.replace('dependencies = [','dependencies = [\n    "six",',1)),
 ("pdm/flask","none",lambda t:t),
 ("pdm/flask","add",lambda t:t.replace('dependencies = [','dependencies = [\n    "six",',1)),
 ("pdm/flask","dev",lambda t:t.replace('dev = ["pytest==8.3.5"]','dev = ["pytest==8.3.5", "ruff"]')),
 ("pdm/flask","description",lambda t:t.replace('version = "0.1.0"','version = "0.1.0"\ndescription = "x"')),
 ("pdm/local-path","none",lambda t:t),
 ("pdm/local-path","devdep",lambda t:t.replace('dev = [','dev = ["ruff", ',1)),
]


def py2nix_says_stale(py2nix, directory, cache):
    run = subprocess.run(
        [py2nix, "lock", "--offline", "--cache-dir", cache, directory],
        capture_output=True, text=True, timeout=120,
    )
    if "error: failed to parse" in run.stderr:
        # py2nix cannot read the project at all: no verdict to compare.
        return None, run.stderr.splitlines()[:2]
    return "is out of date" in run.stderr, [l for l in run.stderr.splitlines() if l.startswith("  - ")][:2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True, help="a venv with uv, poetry and pdm")
    parser.add_argument("--py2nix", default=os.path.join(ROOT, "target/debug/py2nix"))
    args = parser.parse_args()
    tool = lambda name: os.path.join(args.venv, "bin", name)
    scratch = tempfile.mkdtemp(prefix="py2nix-freshness-")
    cache = os.path.join(scratch, "empty-cache")
    mismatches = 0

    unread = 0

    def report(agree, label, tool_stale, tool_says, py_stale, py_says):
        nonlocal mismatches, unread
        if py_stale is None:
            unread += 1
            print("UNREAD  ", label, "| py2nix cannot read the project:", py_says)
            return
        mismatches += 0 if agree else 1
        print("ok      " if agree else "MISMATCH", label,
              "| tool:", "stale" if tool_stale else "current", tool_says,
              "| py2nix:", "stale" if py_stale else "current", py_says)

    for fixture, member, name, edit in UV_EDITS:
        directory = os.path.join(scratch, "uv-%s-%s" % (fixture, re.sub(r"\W+", "-", name)))
        shutil.copytree(os.path.join(FIXTURES, "uv", fixture), directory)
        path = os.path.join(directory, member, "pyproject.toml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        text = open(path).read() if os.path.exists(path) else ""
        open(path, "w").write(edit(text))
        lock = open(os.path.join(directory, "uv.lock")).read()
        newer = re.search(r'exclude-newer = "([^"]*)"', lock)
        command = [tool("uv"), "lock", "--check", "--offline"]
        if newer:
            command += ["--exclude-newer", newer.group(1)]
        run = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300)
        said = [l for l in run.stderr.splitlines() if "Resolving despite" in l or "error" in l][:1]
        py_stale, py_said = py2nix_says_stale(args.py2nix, directory, cache)
        tool_stale = run.returncode != 0
        report(tool_stale == py_stale, "uv/%s %s: %s" % (fixture, member, name), tool_stale, said, py_stale, py_said)

    for fixture, name, edit in LOCK_HASH_EDITS:
        directory = os.path.join(scratch, "%s-%s" % (fixture.replace("/", "-"), re.sub(r"\W+", "-", name)))
        shutil.copytree(os.path.join(FIXTURES, fixture), directory)
        path = os.path.join(directory, "pyproject.toml")
        text = open(path).read()
        open(path, "w").write(edit(text))
        env = dict(os.environ, PDM_IGNORE_SAVED_PYTHON="1", PDM_CHECK_UPDATE="false")
        if fixture.startswith("poetry"):
            run = subprocess.run([tool("poetry"), "check", "--lock", "--no-interaction"],
                                 cwd=directory, capture_output=True, text=True, timeout=120)
            out = run.stdout + run.stderr
            tool_stale = "changed significantly" in out or "not consistent" in out
        else:
            run = subprocess.run([tool("pdm"), "lock", "--check"], cwd=directory,
                                 capture_output=True, text=True, timeout=120, env=env)
            out = run.stdout + run.stderr
            tool_stale = run.returncode != 0
        py_stale, py_said = py2nix_says_stale(args.py2nix, directory, cache)
        report(tool_stale == py_stale, "%s: %s" % (fixture, name), tool_stale, out.strip().splitlines()[-1:], py_stale, py_said)

    shutil.rmtree(scratch, ignore_errors=True)
    print("%d mismatches, %d projects py2nix cannot read" % (mismatches, unread))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
