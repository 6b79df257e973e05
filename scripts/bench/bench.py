"""py2nix's whole-process benchmark: warm, cold and scale, against uv, Poetry and the floors.

Run it through scripts/bench/run.sh, which builds everything and installs uv and Poetry first;
`python bench.py --help` lists the knobs. Prints a Markdown report and writes it, with the raw
numbers and the scale plot, to the work directory (target/bench/):

- warm: `py2nix lock --format nix` for one target on the jupyterlab fixture's uv.lock and
  poetry.lock, cache filled, against `uv export --frozen`, `poetry export` and the bare TOML
  parse of the same lock (`toml-floor`);
- cold: the same with an empty cache, against fetching the same Simple API pages with
  `fetch-floor` (py2nix's HTTP stack and nothing else), 16 at a time (the parallel-fetch floor)
  and one at a time; from a local recording of the pages served on 127.0.0.1 and from the real
  index;
- scale: synthetic locks of 1,000, 5,000 and 20,000 packages (synth.py), warm and cold (local).

Medians of several runs; time is wall-clock, memory the peak resident set (run-once).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402
from measure import Result, measure_many  # noqa: E402

TARGET = ["--system", "x86_64-linux", "--python", "3.12"]
FIXTURE = REPO / "fixtures" / "bench" / "jupyterlab"


class Server:
    """serve.py on a free port, for as long as this object lives."""

    def __init__(self, root: Path):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "serve.py"), str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            raise RuntimeError("the local index server did not start")
        self.url = f"http://127.0.0.1:{line[1]}/simple/"

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Bench:
    def __init__(self, args):
        self.args = args
        self.work: Path = args.work
        self.py2nix = args.py2nix
        self.tools = args.tools
        self.uv = args.uv
        self.poetry = args.poetry
        self.results: dict = {"warm": {}, "cold": {}, "scale": []}
        self.load_start = load()
        measure.RUN_ONCE = self.tools / "run-once"
        self.env = dict(os.environ)
        self.env.pop("PY2NIX_INDEX_URL", None)
        self.env["UV_CACHE_DIR"] = str(self.work / "uv-cache")
        self.env["POETRY_CACHE_DIR"] = str(self.work / "poetry-cache")
        self.env["POETRY_VIRTUALENVS_CREATE"] = "false"
        self.env.setdefault("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")

    def runs(self, n: int) -> int:
        return max(3, n // 3) if self.args.quick else n

    # The commands -------------------------------------------------------------------------

    def py2nix_cmd(self, project: Path, lock: str, cache: Path, index_url: str | None):
        cmd = [self.py2nix, "lock", project, "--lock", project / lock, "--format", "nix"]
        cmd += TARGET + ["--cache-dir", cache]
        if index_url:
            cmd += ["--index-url", index_url]
        return cmd

    def fetch_cmd(self, urls: list[str], parallel: bool, name: str) -> list:
        """The fetch floor: `fetch-floor` getting `urls`, 16 at a time or one at a time."""
        listing = self.work / f"urls-{name}.txt"
        listing.write_text("".join(u + "\n" for u in urls))
        return [self.tools / "fetch-floor", "-j", "16" if parallel else "1", listing]

    def measure(self, specs, runs) -> list[Result]:
        """Measures `(name, argv, prepare)` specs in turns (see `measure_many`)."""
        results = measure_many(specs, runs=runs, env=self.env)
        for r in results:
            print(f"  {r.name:58} {r.median_s * 1000:9.1f} ms {r.median_mib:7.1f} MiB", flush=True)
        return results

    def cold_prepare(self, cache: Path):
        return lambda: shutil.rmtree(cache, ignore_errors=True)

    def pages_cold_prepare(self, cache: Path):
        """Only the index pages forgotten (`simple-*`); what py2nix learnt from files (the
        libraries Linux wheels link, `wheel-sonames-*`) stays."""

        def prepare():
            for entry in cache.glob("simple-*"):
                shutil.rmtree(entry, ignore_errors=True)

        return prepare

    # The cases ----------------------------------------------------------------------------

    def warm_and_cold(self) -> None:
        recording = self.work / "recording-jupyterlab"
        subprocess.run(
            [sys.executable, HERE / "record.py", FIXTURE / "uv.lock", recording], check=True, env=self.env
        )
        names = [line.rsplit("/", 2)[-2] for line in (recording / "urls.txt").read_text().split()]
        server = Server(recording)
        try:
            local_urls = [server.url + n + "/" for n in names]
            warm = self.results["warm"]
            cold = self.results["cold"]
            print("warm (jupyterlab, one target, cache filled)")
            specs, keys = [], []
            for lock in ("uv.lock", "poetry.lock"):
                cache = self.work / f"cache-warm-{lock}"
                shutil.rmtree(cache, ignore_errors=True)
                # The unmeasured first turn fills the cache.
                specs.append((f"py2nix lock ({lock})", self.py2nix_cmd(FIXTURE, lock, cache, server.url), None))
                specs.append((f"TOML parse floor ({lock})", [self.tools / "toml-floor", FIXTURE / lock], None))
                keys += [f"py2nix {lock}", f"toml {lock}"]
            specs.append(("uv export --frozen", [self.uv, "export", "--frozen", "--project", FIXTURE], None))
            keys.append("uv export")
            warm.update(zip(keys, self.measure(specs, self.runs(15))))
            poetry = [self.poetry, "-C", FIXTURE, "export", "-f", "requirements.txt", "--no-interaction"]
            (warm["poetry export"],) = self.measure([("poetry export", poetry, None)], self.runs(7))
            print(f"cold, local recording ({len(names)} pages on 127.0.0.1)")
            self.cold("local", server.url, local_urls)
            (cold["local serial"],) = self.measure(
                [("fetch floor, one at a time", self.fetch_cmd(local_urls, False, "local"), None)], self.runs(5)
            )
        finally:
            server.close()
        if self.args.skip_real:
            return
        real_urls = (recording / "urls.txt").read_text().split()
        print(f"cold, the real index ({len(names)} pages)")
        self.cold("real", None, real_urls)
        (cold["real serial"],) = self.measure(
            [("fetch floor, one at a time", self.fetch_cmd(real_urls, False, "real"), None)], self.runs(3)
        )

    def cold(self, where: str, index_url: str | None, urls: list[str]) -> None:
        specs, keys = [], []
        for lock in ("uv.lock", "poetry.lock"):
            cache = self.work / f"cache-{where}-{lock}"
            specs.append(
                (
                    f"py2nix lock ({lock}, empty cache)",
                    self.py2nix_cmd(FIXTURE, lock, cache, index_url),
                    self.cold_prepare(cache),
                )
            )
            keys.append(f"{where} py2nix {lock}")
            cache = self.work / f"cache-{where}-pages-{lock}"
            specs.append(
                (
                    f"py2nix lock ({lock}, no pages cached)",
                    self.py2nix_cmd(FIXTURE, lock, cache, index_url),
                    self.pages_cold_prepare(cache),
                )
            )
            keys.append(f"{where} pages py2nix {lock}")
        specs.append(("fetch floor, 16 at a time", self.fetch_cmd(urls, True, where), None))
        keys.append(f"{where} parallel")
        self.results["cold"].update(zip(keys, self.measure(specs, self.runs(9 if where == "local" else 7))))

    def synthetic(self, n: int) -> Path:
        out = self.work / f"synth-{n}"
        stamp = hashlib.sha256((HERE / "synth.py").read_bytes()).hexdigest()
        if (out / "stamp").is_file() and (out / "stamp").read_text() == stamp:
            return out
        shutil.rmtree(out, ignore_errors=True)
        print(f"  generating {n} packages", flush=True)
        subprocess.run([sys.executable, HERE / "synth.py", str(n), out], check=True)
        (out / "stamp").write_text(stamp)
        return out

    def scale(self) -> None:
        for n in self.args.sizes:
            print(f"scale: {n} packages")
            out = self.synthetic(n)
            runs = self.runs({1000: 9, 5000: 5}.get(n, 3))
            server = Server(out / "index")
            try:
                row = {"packages": n, "uv.lock bytes": (out / "project" / "uv.lock").stat().st_size}
                cold_cache = self.work / f"cache-synth-{n}-cold"
                warm_cache = self.work / f"cache-synth-{n}"
                urls = [server.url + f"synth-pkg-{i:05d}/" for i in range(n)]
                specs = [
                    (
                        "py2nix lock (uv.lock, empty cache, local)",
                        self.py2nix_cmd(out / "project", "uv.lock", cold_cache, server.url),
                        self.cold_prepare(cold_cache),
                    ),
                    # The unmeasured first turn fills this cache.
                    (
                        "py2nix lock (uv.lock, warm)",
                        self.py2nix_cmd(out / "project", "uv.lock", warm_cache, server.url),
                        None,
                    ),
                    (
                        "py2nix lock (poetry.lock, warm)",
                        self.py2nix_cmd(out / "poetry", "poetry.lock", warm_cache, server.url),
                        None,
                    ),
                    ("uv export --frozen", [self.uv, "export", "--frozen", "--project", out / "project"], None),
                    ("TOML parse floor (uv.lock)", [self.tools / "toml-floor", out / "project" / "uv.lock"], None),
                    ("fetch floor, 16 at a time (local)", self.fetch_cmd(urls, True, f"synth-{n}"), None),
                ]
                keys = [
                    "py2nix cold uv.lock",
                    "py2nix warm uv.lock",
                    "py2nix warm poetry.lock",
                    "uv export",
                    "toml uv.lock",
                    "parallel fetch",
                ]
                shutil.rmtree(warm_cache, ignore_errors=True)
                row.update(zip(keys, self.measure(specs, runs)))
            finally:
                server.close()
            self.results["scale"].append(row)

    # The report ---------------------------------------------------------------------------

    def report(self) -> str:
        def cell(r: Result) -> str:
            return f"{fmt_s(r.median_s)} / {r.median_mib:.1f} MiB"

        def ratio(a: Result, b: Result, mem=False) -> str:
            x = (a.median_mib / b.median_mib) if mem else (a.median_s / b.median_s)
            return f"{x:.2f}x"

        lines = [
            f"Date: {datetime.date.today().isoformat()}; machine: {machine()}; "
            f"load average {self.load_start} at the start, {load()} at the end",
            "",
            f"py2nix: {version(self.py2nix)}; uv: {version(self.uv)}; poetry: {version(self.poetry)}",
            "",
        ]
        w = self.results["warm"]
        if w:
            lines += [
                "Warm (jupyterlab fixture, one target, cache filled): median time / peak memory",
                "",
                "| command | uv.lock | poetry.lock |",
                "| --- | --- | --- |",
                f"| `py2nix lock --format nix` | {cell(w['py2nix uv.lock'])} | {cell(w['py2nix poetry.lock'])} |",
                f"| `uv export --frozen` | {cell(w['uv export'])} | |",
                f"| `poetry export` | | {cell(w['poetry export'])} |",
                f"| TOML parse floor | {cell(w['toml uv.lock'])} | {cell(w['toml poetry.lock'])} |",
                f"| py2nix / uv export, time (target ≤ 1) | {ratio(w['py2nix uv.lock'], w['uv export'])} "
                f"| {ratio(w['py2nix poetry.lock'], w['uv export'])} |",
                f"| py2nix / TOML floor, time (target ≤ 2) | {ratio(w['py2nix uv.lock'], w['toml uv.lock'])} "
                f"| {ratio(w['py2nix poetry.lock'], w['toml poetry.lock'])} |",
                f"| py2nix / uv export, memory (target ≤ 1.5) "
                f"| {ratio(w['py2nix uv.lock'], w['uv export'], True)} "
                f"| {ratio(w['py2nix poetry.lock'], w['uv export'], True)} |",
                f"| py2nix / poetry export, time | | {ratio(w['py2nix poetry.lock'], w['poetry export'])} |",
                "",
                "CPU time (user + system, all threads; py2nix parses a lock over 128 KiB in pieces "
                "on the available cores, so its wall time can be below its CPU time):",
                "",
                "| command | uv.lock | poetry.lock |",
                "| --- | --- | --- |",
                f"| `py2nix lock --format nix` | {fmt_s(w['py2nix uv.lock'].median_cpu)} "
                f"| {fmt_s(w['py2nix poetry.lock'].median_cpu)} |",
                f"| `uv export --frozen` | {fmt_s(w['uv export'].median_cpu)} | |",
                f"| TOML parse floor | {fmt_s(w['toml uv.lock'].median_cpu)} "
                f"| {fmt_s(w['toml poetry.lock'].median_cpu)} |",
                "",
            ]
        c = self.results["cold"]
        if c:
            lines += [
                "Cold (jupyterlab, one target): median time / peak memory. *Empty cache*: nothing "
                "cached, so py2nix also downloads the chosen Linux wheels (from the real file host "
                "in both rows) to read the libraries they link; *no pages cached*: only the index "
                "pages are fetched.",
                "",
                "| index | lock | py2nix, empty cache | py2nix, no pages cached | fetch floor, 16 at a time "
                "| one at a time | empty / floor | no pages / floor (target ≤ 2) |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for where, label in (("local", "local recording, 127.0.0.1"), ("real", "the real index")):
                if f"{where} parallel" not in c:
                    continue
                floor = c[f"{where} parallel"]
                for lock in ("uv.lock", "poetry.lock"):
                    empty, pages = c[f"{where} py2nix {lock}"], c[f"{where} pages py2nix {lock}"]
                    lines.append(
                        f"| {label} | {lock} | {cell(empty)} | {cell(pages)} | {cell(floor)} "
                        f"| {cell(c[f'{where} serial'])} | {ratio(empty, floor)} | {ratio(pages, floor)} |"
                    )
            lines.append("")
        if self.results["scale"]:
            lines += [
                "Scale (synthetic locks, one target, local index): median time / peak memory",
                "",
                "| packages | uv.lock size | py2nix warm, uv.lock | py2nix warm, poetry.lock "
                "| py2nix cold, uv.lock | uv export --frozen | TOML parse floor | fetch floor, 16 at a time "
                "| py2nix warm / TOML floor |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for row in self.results["scale"]:
                lines.append(
                    f"| {row['packages']:,} | {row['uv.lock bytes'] / 2**20:.1f} MiB "
                    f"| {cell(row['py2nix warm uv.lock'])} | {cell(row['py2nix warm poetry.lock'])} "
                    f"| {cell(row['py2nix cold uv.lock'])} | {cell(row['uv export'])} "
                    f"| {cell(row['toml uv.lock'])} | {cell(row['parallel fetch'])} "
                    f"| {ratio(row['py2nix warm uv.lock'], row['toml uv.lock'])} |"
                )
            rows = self.results["scale"]
            if len(rows) >= 2:
                first, last = rows[0], rows[-1]
                k = last["packages"] / first["packages"]
                lines += ["", f"Growth from {first['packages']:,} to {last['packages']:,} packages ({k:.0f}x):"]
                for key in ("py2nix warm uv.lock", "py2nix warm poetry.lock", "py2nix cold uv.lock", "uv export"):
                    a, b = first[key], last[key]
                    lines.append(
                        f"- {key}: time {b.median_s / a.median_s:.1f}x, memory {b.median_mib / a.median_mib:.1f}x"
                    )
            lines.append("")
        return "\n".join(lines)

    def save(self) -> None:
        def plain(value):
            if isinstance(value, Result):
                return value.as_json()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        (self.work / "results.json").write_text(json.dumps(plain(self.results), indent=1))
        text = self.report()
        (self.work / "results.md").write_text(text)
        print()
        print(text)
        if self.results["scale"]:
            import plot

            plot.plot(self.results["scale"], self.work / "scale.png")
            print(f"plot: {self.work / 'scale.png'}")


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def version(cmd) -> str:
    try:
        out = subprocess.run([cmd, "--version"], capture_output=True, text=True, timeout=60).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def load() -> str:
    """The one-minute load average: other work on the machine shows in every median."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        mem = 0
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({model}), {mem:.0f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=REPO / "target" / "bench")
    parser.add_argument("--py2nix", type=Path, default=REPO / "target" / "release" / "py2nix")
    parser.add_argument("--tools", type=Path, default=REPO / "target" / "bench" / "tools" / "release")
    parser.add_argument("--uv", type=Path, default=REPO / "target" / "bench" / "venv" / "bin" / "uv")
    parser.add_argument("--poetry", type=Path, default=REPO / "target" / "bench" / "venv" / "bin" / "poetry")
    parser.add_argument("--sizes", default="1000,5000,20000", help="synthetic lock sizes, comma-separated")
    parser.add_argument("--only", choices=["fixture", "scale"], help="run one part only")
    parser.add_argument("--skip-real", action="store_true", help="no cold runs against the real index")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a third), for a smoke test")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    if args.only != "scale":
        bench.warm_and_cold()
    if args.only != "fixture":
        bench.scale()
    bench.save()


if __name__ == "__main__":
    main()
