"""The scale plot: median wall time and peak memory against the number of locked packages.

    python3 scripts/bench/plot.py target/bench/results.json OUT.png

(bench.py calls `plot` itself at the end of a run with scale results.) Log-log axes, with a
dotted line of slope one through py2nix's first warm point in each panel: a curve parallel to
it grows linearly.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

SERIES = [
    ("py2nix warm uv.lock", "py2nix, warm, uv.lock", "o-"),
    ("py2nix warm poetry.lock", "py2nix, warm, poetry.lock", "s-"),
    ("py2nix cold uv.lock", "py2nix, cold (local index), uv.lock", "^-"),
    ("uv export", "uv export --frozen", "D--"),
    ("toml uv.lock", "TOML parse floor (uv.lock)", "v:"),
    ("parallel fetch", "fetch floor, 16 at a time (local)", "x:"),
]


def value(entry, key: str) -> float:
    if isinstance(entry, dict):
        return entry[key]
    return getattr(entry, key)


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [row["packages"] for row in rows]
    fig, (time_ax, mem_ax) = plt.subplots(1, 2, figsize=(12, 5))
    for key, label, style in SERIES:
        if not all(key in row for row in rows):
            continue
        time_ax.plot(ns, [value(row[key], "median_s") for row in rows], style, label=label)
        mem_ax.plot(ns, [value(row[key], "median_mib") for row in rows], style, label=label)
    # Slope one through py2nix's first warm point: linear growth runs parallel to it.
    for ax, key in ((time_ax, "median_s"), (mem_ax, "median_mib")):
        base = value(rows[0]["py2nix warm uv.lock"], key)
        ax.plot(ns, [base * n / ns[0] for n in ns], color="grey", linestyle=(0, (1, 4)), label="linear")
    for ax, title, unit in ((time_ax, "Wall time (median)", "seconds"), (mem_ax, "Peak memory (median)", "MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ns)
        ax.set_xticklabels([f"{n:,}" for n in ns])
        ax.set_xlabel("packages in the lock")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    time_ax.legend(fontsize=8)
    fig.suptitle("py2nix lock --format nix, one target, synthetic locks")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1]).read_text())
    plot(data["scale"], Path(sys.argv[2]))
