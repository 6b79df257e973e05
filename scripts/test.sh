#!/usr/bin/env bash
# Runs py2nix's whole test suite: Rust unit and integration tests, the Nix logic's own tests,
# real Nix checks of every generated python.nix and pip end-to-end installs.
# Installs Debian's Nix first when it is missing (apt-get, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nix-instantiate >/dev/null 2>&1; then
  echo "installing Debian's nix-bin (needed by the Nix tests)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nix-bin >/dev/null
fi
# Root without the nixbld users or a sandbox, as on Debian's single-user install.
export NIX_CONFIG=$'build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes'

cargo test --workspace --locked
