#!/usr/bin/env bash
# Runs the cargo-fuzz targets for a while each: fuzz/run.sh SECONDS [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a C++ compiler (libFuzzer is built from
# source). Works on stable Rust: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags, and
# `-s none` leaves out AddressSanitizer (py2nix forbids unsafe code, so what a fuzzer finds
# here is a panic, an overflow (debug assertions are on), a hang or runaway memory).
# New inputs go to fuzz/corpus/<target>/, crashes to fuzz/artifacts/<target>/, the libFuzzer
# output to fuzz/logs/<target>.log. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
mkdir -p fuzz/logs
cargo fuzz build --fuzz-dir fuzz -s none -O -a
for target in "${targets[@]}"; do
  status=0
  cargo fuzz run --fuzz-dir fuzz "$target" -s none -O -a -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=20 \
    -print_final_stats=1 >"fuzz/logs/$target.log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz/logs/$target.log" | tail -1)
  echo "$target: ${runs:-?} executions in ${seconds}s, exit $status"
done
