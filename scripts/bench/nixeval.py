"""Nix evaluation benchmark: py2nix's python.nix against uv2nix on the same uv.lock.

    python3 scripts/bench/nixeval.py --uv2nix DIR --pyproject-nix DIR --build-system-pkgs DIR \\
        [--nixreal DIR] [--py2nix BIN] [--sizes 1000,5000] [--runs 5] [--work DIR] [--only NAME]

Each input is a uv project: the real fixtures of fixtures/bench (jupyterlab, data-science-stack,
airflow) and the synthetic projects of synth.py (--sizes). For each, py2nix writes python.nix
(default systems and Pythons for the fixtures, from the index, cached under --work; the four
systems and CPython 3.11 to 3.13 for the synthetic ones, from synth.py's pages served on
127.0.0.1), and two evaluations instantiate the environment, nothing built (--readonly-mode),
against nixpkgs' real Python infrastructure as `--nixreal` holds it (/work/shared/nixreal):

  py2nix   (pkgs.callPackage python.nix { }).env
  uv2nix   loadWorkspace, mkPyprojectOverlay { sourcePreference = "wheel"; } over
           pyproject.nix's build packages and build-system-pkgs' wheel overlay, then
           mkVirtualEnv with workspace.deps.default: what uv2nix's hello-world template does

Both use the same Python (3.13, nixpkgs' python3 here; 3.12 for airflow, whose lock stops
below 3.13). The two take turns, `--runs` times each after one unmeasured warm-up; the table
has the medians of wall time and of user+system CPU time, the peak resident memory (the largest
reading; the readings come from wait4, and this Python process's own 15 MiB lies below every
one) and, from one more run with NIX_SHOW_STATS, Nix's counters. The uv2nix, pyproject.nix and
build-system-pkgs sources are not in the repository: pass their checkouts (or set UV2NIX,
PYPROJECT_NIX, BUILD_SYSTEM_PKGS); the script says what is missing.
Results: WORK/nixeval.md and WORK/nixeval.json (docs/benchmarks.md has the committed ones).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NIX_CONFIG = "build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes"
SYNTH_TARGETS = [
    *("--system", "x86_64-linux", "--system", "aarch64-linux"),
    *("--system", "x86_64-darwin", "--system", "aarch64-darwin"),
    *("--python", "3.11", "--python", "3.12", "--python", "3.13"),
]
# name, project directory, Python attribute of pkgs
FIXTURES = [
    ("jupyterlab", REPO / "fixtures" / "bench" / "jupyterlab", "python313"),
    ("data-science-stack", REPO / "fixtures" / "bench" / "data-science-stack", "python313"),
    ("airflow", REPO / "fixtures" / "bench" / "airflow", "python312"),
]
STATS = ["cpuTime", "nrThunks", "nrFunctionCalls", "nrPrimOpCalls", "nrOpUpdateValuesCopied"]

# uv2nix as its hello-world template uses it (flake inputs passed as paths).
UV2NIX_EXPR = """
{ nixreal, uv2nix, pyprojectNix, buildSystemPkgs, workspaceRoot, python }:
let
  pkgs = import (nixreal + "/pkgs.nix") { };
  inherit (pkgs) lib;
  pyproject-nix = import pyprojectNix { inherit lib; };
  uv2nixLib = import uv2nix { inherit lib pyproject-nix; };
  buildSystems = import buildSystemPkgs { inherit lib pyproject-nix; uv2nix = uv2nixLib; };
  workspace = uv2nixLib.lib.workspace.loadWorkspace { workspaceRoot = /. + workspaceRoot; };
  overlay = workspace.mkPyprojectOverlay { sourcePreference = "wheel"; };
  pythonSet = (pkgs.callPackage pyproject-nix.build.packages { python = pkgs.${python}; }).overrideScope
    (lib.composeManyExtensions [ buildSystems.overlays.wheel overlay ]);
in
pythonSet.mkVirtualEnv "bench-env" workspace.deps.default
"""


def missing_inputs(args) -> list[str]:
    """What the benchmark needs and does not find, each with where to get it."""
    problems = []
    if shutil.which("nix-instantiate") is None:
        problems.append("nix-instantiate is not on PATH (Debian: apt-get install nix-bin)")
    needs = [
        ("--nixreal", args.nixreal, "pkgs.nix", "the nixpkgs stand-in (/work/shared/nixreal)"),
        ("--uv2nix / UV2NIX", args.uv2nix, "lib/workspace.nix", "a checkout of pyproject-nix/uv2nix"),
        ("--pyproject-nix / PYPROJECT_NIX", args.pyproject_nix, "build/packages.nix",
         "a checkout of pyproject-nix/pyproject.nix"),
        ("--build-system-pkgs / BUILD_SYSTEM_PKGS", args.build_system_pkgs, "overlay.nix",
         "a checkout of pyproject-nix/build-system-pkgs"),
    ]
    for flag, path, probe, what in needs:
        if path is None:
            problems.append(f"{flag} is not given: {what}")
        elif not (Path(path) / probe).is_file():
            problems.append(f"{flag} {path} holds no {probe}: not {what}")
    if not args.py2nix.is_file():
        problems.append(f"--py2nix {args.py2nix} does not exist (cargo build --release -p py2nix)")
    return problems


def run(argv, env=None) -> tuple[float, float, int]:
    """Wall seconds, user+system CPU seconds and peak RSS (KiB) of one run; fails loudly."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(map(str, argv))} failed:\n{err.read().decode()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def nix_env() -> dict:
    return dict(os.environ, NIX_CONFIG=NIX_CONFIG)


def stats_of(argv, work: Path) -> dict:
    path = work / "stats.json"
    run(argv, env=dict(nix_env(), NIX_SHOW_STATS="1", NIX_SHOW_STATS_PATH=str(path)))
    stats = json.loads(path.read_text())
    return {key: stats.get(key) for key in STATS} | {"gcTotalBytes": stats.get("gc", {}).get("totalBytes")}


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.work.mkdir(parents=True, exist_ok=True)
        self.uv2nix_expr = self.work / "uv2nix-env.nix"
        self.uv2nix_expr.write_text(UV2NIX_EXPR)
        self.rows = []

    def py2nix_argv(self, nix_file: Path, python: str) -> list:
        expr = (f"let pkgs = import {self.args.nixreal}/pkgs.nix {{ }}; in "
                f"(pkgs.callPackage {nix_file} {{ python3 = pkgs.{python}; }}).env")
        return ["nix-instantiate", "--readonly-mode", "-E", expr]

    def uv2nix_argv(self, project: Path, python: str) -> list:
        a = self.args
        return ["nix-instantiate", "--readonly-mode", self.uv2nix_expr,
                "--arg", "nixreal", a.nixreal, "--arg", "uv2nix", a.uv2nix,
                "--arg", "pyprojectNix", a.pyproject_nix, "--arg", "buildSystemPkgs", a.build_system_pkgs,
                "--argstr", "workspaceRoot", project, "--argstr", "python", python]

    def lock_fixture(self, name: str, project: Path) -> Path:
        out = self.work / f"{name}.nix"
        subprocess.run([self.args.py2nix, "lock", project, "--lock", project / "uv.lock", "-q",
                        "--cache-dir", self.work / "cache", "-o", out], check=True)
        return out

    def synthetic(self, n: int) -> tuple[Path, Path]:
        out = self.work / f"synth-{n}"
        stamp = hashlib.sha256((HERE / "synth.py").read_bytes()).hexdigest()
        if not ((out / "stamp").is_file() and (out / "stamp").read_text() == stamp):
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([sys.executable, HERE / "synth.py", str(n), out], check=True,
                           stdout=subprocess.DEVNULL)
            (out / "stamp").write_text(stamp)
        server = subprocess.Popen([sys.executable, HERE / "serve.py", out / "index"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            word, port = server.stdout.readline().split()
            assert word == "port"
            nix_file = self.work / f"synth-{n}.nix"
            subprocess.run([self.args.py2nix, "lock", out / "project", "-q", "--no-cache",
                            "--index-url", f"http://127.0.0.1:{port}/simple/", *SYNTH_TARGETS,
                            "-o", nix_file], check=True)
        finally:
            server.stdin.close()
            server.wait(timeout=10)
        return out / "project", nix_file

    def measure(self, name: str, project: Path, nix_file: Path, python: str, packages: int) -> None:
        print(f"{name}: {packages} packages, python.nix {nix_file.stat().st_size / 1e6:.1f} MB", flush=True)
        specs = {"py2nix": self.py2nix_argv(nix_file, python), "uv2nix": self.uv2nix_argv(project, python)}
        readings = {tool: [] for tool in specs}
        for turn in range(self.args.runs + 1):
            for tool, argv in specs.items():
                reading = run(argv, env=nix_env())
                if turn > 0:  # the first turn warms the file cache
                    readings[tool].append(reading)
        row = {"input": name, "packages": packages, "python.nix bytes": nix_file.stat().st_size}
        for tool, argv in specs.items():
            walls, cpus, rss = zip(*readings[tool])
            row[tool] = {
                "wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
                "max_rss_mib": max(rss) / 1024, "walls": walls, "cpus": cpus,
                "stats": stats_of(argv, self.work),
            }
            print(f"  {tool}: {row[tool]['wall_s']:.2f} s wall, {row[tool]['cpu_s']:.2f} s CPU, "
                  f"{row[tool]['max_rss_mib']:.0f} MiB", flush=True)
        self.rows.append(row)

    def report(self) -> str:
        lines = [
            "| input | packages | py2nix env (wall / CPU) | uv2nix venv (wall / CPU) | ratio (CPU) "
            "| py2nix peak | uv2nix peak |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            p, u = r["py2nix"], r["uv2nix"]
            lines.append(
                f"| {r['input']} | {r['packages']} | {p['wall_s']:.2f} s / {p['cpu_s']:.2f} s "
                f"| {u['wall_s']:.2f} s / {u['cpu_s']:.2f} s | {p['cpu_s'] / u['cpu_s']:.2f} "
                f"| {p['max_rss_mib']:.0f} MiB | {u['max_rss_mib']:.0f} MiB |")
        lines += ["", "| input | tool | " + " | ".join(STATS) + " | gc totalBytes |",
                  "|---|---|" + "---|" * (len(STATS) + 1)]
        for r in self.rows:
            for tool in ("py2nix", "uv2nix"):
                s = r[tool]["stats"]
                cells = [f"{s[k]:.2f}" if k == "cpuTime" else f"{s[k]:,}" for k in STATS]
                lines.append(f"| {r['input']} | {tool} | " + " | ".join(cells) + f" | {s['gcTotalBytes']:,} |")
        synth = {r["packages"]: r for r in self.rows if r["input"].startswith("synthetic")}
        sizes = sorted(synth)
        if len(sizes) >= 2:
            small, large = synth[sizes[0]], synth[sizes[-1]]
            lines += ["", f"Growth from {sizes[0]} to {sizes[-1]} packages "
                      f"({sizes[-1] / sizes[0]:.0f}x): "
                      + "; ".join(f"{tool} {large[tool]['cpu_s'] / small[tool]['cpu_s']:.1f}x CPU time, "
                                  f"{large[tool]['max_rss_mib'] / small[tool]['max_rss_mib']:.1f}x peak memory"
                                  for tool in ("py2nix", "uv2nix"))]
        return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env_path = lambda name: Path(os.environ[name]) if os.environ.get(name) else None  # noqa: E731
    # ../shared/nixreal beside the main checkout, or beside the directory of worktrees.
    nixreal = next((d for d in (REPO.parent / "shared" / "nixreal", REPO.parent.parent / "shared" / "nixreal")
                    if d.is_dir()), REPO.parent / "shared" / "nixreal")
    parser.add_argument("--nixreal", type=Path, default=env_path("NIXREAL") or nixreal)
    parser.add_argument("--uv2nix", type=Path, default=env_path("UV2NIX"))
    parser.add_argument("--pyproject-nix", type=Path, default=env_path("PYPROJECT_NIX"))
    parser.add_argument("--build-system-pkgs", type=Path, default=env_path("BUILD_SYSTEM_PKGS"))
    parser.add_argument("--py2nix", type=Path, default=REPO / "target" / "release" / "py2nix")
    parser.add_argument("--work", type=Path, default=REPO / "target" / "bench" / "nixeval")
    parser.add_argument("--sizes", default="1000,5000", help="synthetic lock sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per tool and input")
    parser.add_argument("--only", help="measure only the inputs whose name contains this")
    args = parser.parse_args()
    for name in ("nixreal", "uv2nix", "pyproject_nix", "build_system_pkgs", "py2nix", "work"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    problems = missing_inputs(args)
    if problems:
        print("nixeval.py: cannot run, missing:\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        sys.exit(2)
    bench = Bench(args)
    wanted = lambda name: args.only is None or args.only in name  # noqa: E731
    for name, project, python in FIXTURES:
        if wanted(name):
            packages = (project / "uv.lock").read_text().count("[[package]]")
            bench.measure(name, project, bench.lock_fixture(name, project), python, packages)
    for n in (int(s) for s in args.sizes.split(",") if s):
        if wanted(f"synthetic {n}"):
            project, nix_file = bench.synthetic(n)
            bench.measure(f"synthetic {n}", project, nix_file, "python313", n)
    report = bench.report()
    (args.work / "nixeval.md").write_text(report)
    (args.work / "nixeval.json").write_text(json.dumps(bench.rows, indent=2, default=list))
    print(report)


if __name__ == "__main__":
    main()
