#!/usr/bin/env bash
# Regenerates the example plans of this directory: JSON plans py2nix makes from
# fixtures (the lock and the recorded index pages of fixtures/index, served on
# 127.0.0.1, so no network is used), for every system and the default Python
# versions. The flake's checks build them with real nixpkgs through
# lib.fromPlan; tests/nix/test-lib.nix evaluates them against the stubs.
#
#   bash tests/nix/examples/update.sh           (from anywhere; builds py2nix with cargo)
#   PY2NIX=/path/to/py2nix bash tests/nix/examples/update.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
examples=(poetry/flask-pillow poetry/cycle uv/workspace)

if [ -z "${PY2NIX:-}" ]; then
  (cd "$root" && cargo build --release -q -p py2nix)
  PY2NIX="$root/target/release/py2nix"
fi

tmp=$(mktemp -d)
python3 - "$root/fixtures/index" >"$tmp/port" <<'PY' &
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
handler = functools.partial(Quiet, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
server=$!
trap 'kill "$server"; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done

for example in "${examples[@]}"; do
  out="$here/${example//\//-}.json"
  PY2NIX_INDEX_URL="http://127.0.0.1:$(cat "$tmp/port")/simple/" \
    "$PY2NIX" lock "$root/fixtures/$example" --format json -o "$out" --cache-dir "$tmp/cache" -q
  chmod 644 "$out"
  echo "wrote ${out#"$root"/}"
done
