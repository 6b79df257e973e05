#!/usr/bin/env bash
# py2nix's whole-process benchmark, from a fresh machine with Rust and Python 3.11+:
#
#   bash scripts/bench/run.sh            # everything (10 to 15 minutes on 2 cores)
#   bash scripts/bench/run.sh --quick    # fewer runs, for a smoke test
#   bash scripts/bench/run.sh --skip-real --sizes 1000   # no real index, one synthetic size
#
# Builds release py2nix and the helpers in scripts/bench/tools, installs uv, Poetry with
# poetry-plugin-export and matplotlib from PyPI into a venv under target/bench/, then runs
# bench.py (arguments are passed on).
# Results: target/bench/results.md, results.json and scale.png (docs/benchmarks.md has the
# committed ones).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=target/bench
mkdir -p "$work"

echo "building release py2nix and the benchmark helpers" >&2
cargo build --release --locked -p py2nix
CARGO_TARGET_DIR="$work/tools" cargo build --release --locked --manifest-path scripts/bench/tools/Cargo.toml

venv="$work/venv"
if [ ! -x "$venv/bin/poetry" ] || [ ! -x "$venv/bin/uv" ] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  echo "installing uv, Poetry, poetry-plugin-export and matplotlib into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "uv==0.13.8" "poetry==2.5.1" "poetry-plugin-export==1.10.1" "matplotlib==3.11.2"
fi

exec "$venv/bin/python" scripts/bench/bench.py "$@"
