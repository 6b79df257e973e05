#!/usr/bin/env bash
# Runs the Nix tests of nix/python-logic.nix, nix/lib.nix (the flake's `lib`),
# flake.nix and the template; needs Nix only (no nixpkgs: the tests use the
# stubs of stubs.nix and stub-nixpkgs.nix).
#
#   tests/nix/run.sh            run everything
#   tests/nix/run.sh cycle      only test files / checks whose name has "cycle"
#
# First every .nix file of the repository is parsed. Each test-*.nix file is
# an attribute set of tests, each evaluated on its own (see runner.nix). Then
# python.nix files are generated the way py2nix does
# (crates/py2nix-nix/src/python_nix.rs) and checked as a whole, also against
# lib.fromPlan on the same plan as a JSON file, and the shell code the logic
# writes (postUnpack, netrcPhase, editableShellHook) is run in bash. Last, the
# template's python.nix must hold the current logic, and both flakes are
# evaluated by `nix` itself (pure evaluation, `nix flake init -t`; this needs
# a writable store). Prints "N passed, N failed"; exits 1 on a failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
logic="$root/nix/python-logic.nix"
filter="${1:-}"

if ! command -v nix-instantiate >/dev/null 2>&1; then
  echo "run.sh: nix-instantiate is not installed" >&2
  exit 2
fi

# --readonly-mode: builtins.toFile in the stubs only computes store paths.
nixeval() { timeout 120 nix-instantiate --eval --readonly-mode "$@"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/     /'; fi
}
selected() { [ -z "$filter" ] || [[ "$1" == *"$filter"* ]]; }
unquote() { local s="${1#\"}"; printf '%s' "${s%\"}"; }

# ------------------------------------------------------------------ parse

# Every .nix file of the repository (tracked or not, but not ignored: git
# ls-files; without git, every one outside target/ and .git/), the template's
# flake.nix and python.nix included.
nix_files() {
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$root" ls-files -z --cached --others --exclude-standard -- '*.nix' \
      | while IFS= read -r -d '' f; do [ -e "$root/$f" ] && printf '%s\n' "$f"; done | sort -u
  else
    (cd "$root" && find . \( -path ./target -o -path ./.git \) -prune -o -type f -name '*.nix' -print | sed 's|^\./||' | sort)
  fi
}

if selected "parse"; then
  nix_files >"$tmp/nix-files"
  for f in nix/python-logic.nix nix/lib.nix flake.nix templates/default/flake.nix templates/default/python.nix; do
    grep -qxF -- "$f" "$tmp/nix-files" || fail "parse $f" "not among the repository's .nix files"
  done
  while IFS= read -r f; do
    name="parse $f"
    if err=$(nix-instantiate --parse "$root/$f" 2>&1 >/dev/null); then pass "$name"; else fail "$name" "$err"; fi
  done <"$tmp/nix-files"
fi

# ------------------------------------------------------------------ test files

for file in "$here"/test-*.nix; do
  base=$(basename "$file" .nix)
  if ! names=$(nixeval --expr "builtins.concatStringsSep \" \" (builtins.attrNames (import $file))" 2>"$tmp/err"); then
    fail "$base (file does not evaluate)" "$(cat "$tmp/err")"
    continue
  fi
  for name in $(unquote "$names"); do
    label="$base/$name"
    selected "$label" || continue
    if ! expect=$(nixeval --argstr file "$file" --argstr name "$name" "$here/expect-error.nix" 2>"$tmp/err"); then
      fail "$label" "$(cat "$tmp/err")"
      continue
    fi
    expect=$(unquote "$expect")
    out=$(nixeval --strict --argstr file "$file" --argstr name "$name" "$here/runner.nix" 2>"$tmp/err")
    status=$?
    if [ -n "$expect" ]; then
      if [ $status -ne 0 ] && grep -qF -- "$expect" "$tmp/err"; then
        pass "$label"
      elif [ $status -ne 0 ]; then
        fail "$label" "expected an error containing: $expect
got: $(grep -m3 'error' "$tmp/err")"
      else
        fail "$label" "expected an error containing: $expect; evaluation succeeded"
      fi
    elif [ $status -ne 0 ]; then
      fail "$label" "$(tail -n 20 "$tmp/err")"
    elif [ "$out" = '"PASS"' ]; then
      pass "$label"
    else
      fail "$label" "$(unquote "$out" | sed 's/\\n/\n/g; s/\\"/"/g')"
    fi
  done
done

# ------------------------------------------------------------------ generated file

# A Nix string, raw, on stdout (decoded from JSON by jq or python3).
nixstr() { # nix-expression
  local json
  json=$(nixeval --strict --json --expr "$1") || return 1
  if command -v jq >/dev/null 2>&1; then
    printf '%s' "$json" | jq -j .
  else
    printf '%s' "$json" | python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin))'
  fi
}

# A python.nix laid out as py2nix writes it (render_python_nix in
# crates/py2nix-nix/src/python_nix.rs): the plan as a literal, then the logic
# file applied to it, with `root = ./.`, the file's own directory.
generate() { # plan-expression output
  local plan
  plan=$(nixeval --strict --expr "$1") || return 1
  {
    echo "# @generated by py2nix 0.1.0 -- do not edit"
    echo "{ pkgs, stdenv, fetchurl, python3 }:"
    echo "let"
    echo "  plan = $plan;"
    echo "in"
    echo "("
    cat "$logic"
    echo ") { inherit plan pkgs stdenv fetchurl python3; root = ./.; }"
  } >"$2"
}

check() { # label expected-output nix-expression
  local label="$1" expected="$2" out
  selected "$label" || return 0
  if ! out=$(nixeval --strict --json --expr "$3" 2>"$tmp/err"); then
    fail "$label" "$(tail -n 20 "$tmp/err")"
  elif [ "$out" != "$expected" ]; then
    fail "$label" "expected: $expected
actual:   $out"
  else
    pass "$label"
  fi
}

gen="$tmp/python.nix"
if generate "(import $here/plans.nix).combined" "$gen"; then
  if selected "generated/parses"; then
    if err=$(nix-instantiate --parse "$gen" 2>&1 >/dev/null); then pass "generated/parses"; else fail "generated/parses" "$err"; fi
  fi

  # The exact check the project runs on every python.nix.
  check "generated/plan-needs-no-arguments" \
    "$(nixeval --strict --json --expr "(import $here/plans.nix).combined")" \
    "let f = import $gen; in (f (builtins.mapAttrs (_: _: throw \"plan must not need arguments\") (builtins.functionArgs f))).plan"

  # The same plan as a JSON file beside it: lib.fromPlan gives what python.nix gives.
  nixeval --strict --json --expr "(import $here/plans.nix).combined" >"$tmp/plan.json"
  check "lib/from-plan-file-equals-python-nix" 'true' \
    "let s = import $here/stubs.nix { }; h = import $here/lib.nix; lib = import $root/nix/lib.nix;
     in h.summary (lib.fromPlan { plan = $tmp/plan.json; inherit (s) pkgs; }) == h.summary (import $gen s.args)"

  check "generated/function-arguments" \
    '{"fetchurl":false,"pkgs":false,"python3":false,"stdenv":false}' \
    "builtins.functionArgs (import $gen)"

  check "generated/builds-with-stubs" \
    '{"env":["a","b","flask","markupsafe"],"forced":true,"roots":["flask","a"]}' \
    "let s = import $here/stubs.nix { }; r = import $gen s.args; h = import $here/lib.nix;
     in { forced = h.forceAll r; env = r.env.extraLibs; roots = map (p: p.pname) r.roots; }"

  check "generated/other-target-selected-by-python" \
    '["flask"]' \
    "let s = import $here/stubs.nix { system = \"aarch64-darwin\"; pythonVersion = \"3.12\"; }; r = import $gen s.args;
     in builtins.attrNames r.packages"
else
  fail "generated (could not write the file)" "$(cat "$tmp/err" 2>/dev/null)"
fi

# A python.nix with every kind of source, in a copy of local/ (its path
# sources are relative to local/app, where the file is written).
cp -R "$here/local" "$tmp/local"
app="$tmp/local/app"
gen2="$app/python.nix"
stubs2="let s = import $here/stubs.nix { }; r = import $gen2 s.args; h = import $here/lib.nix; in"
if generate "(import $here/plans.nix).sources" "$gen2"; then
  if selected "generated-sources/parses"; then
    if err=$(nix-instantiate --parse "$gen2" 2>&1 >/dev/null); then pass "generated-sources/parses"; else fail "generated-sources/parses" "$err"; fi
  fi

  check "generated-sources/plan-needs-no-arguments" \
    "$(nixeval --strict --json --expr "(import $here/plans.nix).sources")" \
    "let f = import $gen2; in (f (builtins.mapAttrs (_: _: throw \"plan must not need arguments\") (builtins.functionArgs f))).plan"

  check "generated-sources/builds-with-stubs" \
    '{"devEnv":["epoch","gitpkg","gitsub","hostile","plain","private-sdist","private-wheel","spaced","tiny","tiny-sdist","tree"],"forced":true}' \
    "$stubs2 { forced = h.forceAll r; devEnv = r.devEnv.extraLibs; }"

  # The same plan as a JSON file beside it: lib.fromPlan gives what python.nix
  # gives, its path sources relative to the plan file's directory.
  nixeval --strict --json --expr "(import $here/plans.nix).sources" >"$app/plan.json"
  check "lib/from-plan-file-equals-python-nix-with-local-sources" 'true' \
    "$stubs2 let lib = import $root/nix/lib.nix; p = lib.fromPlan { plan = $app/plan.json; inherit (s) pkgs; };
     in h.forceAll p && h.summary p == h.summary r && h.summary (lib.fromPythonNix { file = $gen2; inherit (s) pkgs; }) == h.summary r"

  # root = ./. is the file's directory: the same contents as the fixtures,
  # so the same store paths.
  check "generated-sources/root-is-the-file-directory" \
    '[true,true,true]' \
    "$stubs2 [
       (r.packages.spaced.args.src == builtins.path { path = $here/local + \"/dir with space/pkg\"; name = \"spaced-source\"; })
       (r.packages.tiny.args.src == builtins.path { path = $here/local/app/dist/tiny-1.0-py3-none-any.whl; name = \"tiny-1.0-py3-none-any.whl\"; })
       (r.packages.tree.args.src == builtins.path { path = $here/local/app/tree; name = \"tree-source\"; })
     ]"

  # editableShellHook, run in the directory holding python.nix.
  if selected "shell/editable-shell-hook"; then
    if nixstr "$stubs2 r.editableShellHook" >"$tmp/hook" 2>"$tmp/err"; then
      got=$(cd "$app" && PYTHONPATH=/pre bash -euo pipefail -c '. "$1"; printf %s "$PYTHONPATH"' hook "$tmp/hook" 2>&1)
      got_unset=$(cd "$app" && env -u PYTHONPATH bash -euo pipefail -c '. "$1"; printf %s "$PYTHONPATH"' hook "$tmp/hook" 2>&1)
      want="$app/libs/srclayout/src:$app/libs/flat"
      if [ "$got" = "$want:/pre" ] && [ "$got_unset" = "$want" ] \
        && [ -f "$app/libs/srclayout/src/srclayout/__init__.py" ] && [ -f "$app/libs/flat/flat/__init__.py" ]; then
        pass "shell/editable-shell-hook"
      else
        fail "shell/editable-shell-hook" "expected: $want:/pre and $want
actual:   $got and $got_unset"
      fi
    else
      fail "shell/editable-shell-hook" "$(tail -n 20 "$tmp/err")"
    fi
  fi
else
  fail "generated-sources (could not write the file)" "$(cat "$tmp/err" 2>/dev/null)"
fi

# ------------------------------------------------------------------ shell code

src_of() { # package-name attribute: a string the logic gives a package of plans.sources
  nixstr "let h = import $here/lib.nix; r = h.evalPlan { plan = (import $here/plans.nix).sources; root = h.localRoot; };
          in r.packages.$1.$2"
}

# postUnpack with a hostile subdirectory: nothing runs, the name is kept.
if selected "shell/hostile-subdirectory"; then
  dir="$tmp/sh-subdir"
  mkdir -p "$dir"
  if src_of hostile args.postUnpack >"$tmp/phase" 2>"$tmp/err" \
    && nixstr "\"src/\" + (import $here/plans.nix).hostileSubdirectory" >"$tmp/want" 2>>"$tmp/err"; then
    (cd "$dir" && HOME=/nonexistent bash -euo pipefail -c 'sourceRoot=src; . "$1"; printf %s "$sourceRoot"' phase "$tmp/phase") >"$tmp/got" 2>&1
    if cmp -s "$tmp/got" "$tmp/want" && [ -z "$(ls -A "$dir")" ]; then
      pass "shell/hostile-subdirectory"
    else
      fail "shell/hostile-subdirectory" "expected: $(cat "$tmp/want")
actual:   $(cat "$tmp/got")
files:    $(ls -A "$dir")"
    fi
  else
    fail "shell/hostile-subdirectory" "$(tail -n 20 "$tmp/err")"
  fi
fi

# netrcPhase: run as fetchurl's builder would (set -eu), in an empty directory.
netrc_run() { # name package env...: runs the package's netrcPhase; status, stdout+stderr in $tmp/out
  local name=$1 pkg=$2 dir="$tmp/sh-$1"
  shift 2
  mkdir -p "$dir"
  src_of "$pkg" args.src.netrcPhase >"$tmp/phase" 2>"$tmp/err" || return 2
  (cd "$dir" && env -u PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME -u PY2NIX_INDEX_MY_CORP_INTERNAL_PASSWORD \
    HOME=/nonexistent "$@" bash -eu "$tmp/phase") >"$tmp/out" 2>&1
}

# preFixup of a wheel whose libraries other wheels provide, run in bash against
# a fake tree: the providers' store paths are mapped into $tmp/store, where
# their site-packages hold the libraries (one directory with a quote in its
# name, and a second provider's directory missing). A stand-in for the hook's
# addAutoPatchelfSearchPath records each directory it is given and the
# libraries in it.
if selected "shell/library-search-paths"; then
  libs="let h = import $here/lib.nix; r = h.evalPlan { plan = (import $here/plans.nix).libraries; }; in"
  if nixstr "$libs r.packages.torch.args.preFixup" >"$tmp/prefixup" 2>"$tmp/err" \
    && cudnn=$(nixstr "$libs \"\${r.packages.nvidia-cudnn}\"" 2>>"$tmp/err") \
    && nixstr "$libs r.packages.torchvision.args.preFixup" >"$tmp/prefixup-vision" 2>>"$tmp/err"; then
    store="$tmp/store"
    site="$store/${cudnn#/nix/store/}/lib/python3.11/site-packages"
    mkdir -p "$site/nvidia/cudnn/lib" "$site/nvidia/cudnn/it's here"
    touch "$site/nvidia/cudnn/lib/libcudnn.so.9" "$site/nvidia/cudnn/it's here/libcudnn_ops.so.9"
    run_prefixup() {
      sed "s|/nix/store/|$store/|g" "$1" >"$tmp/phase"
      (bash -euo pipefail -c '
        addAutoPatchelfSearchPath() { for d in "$@"; do printf "%s:" "${d#"$STORE"/}"; (cd "$d" && ls -1 | tr "\n" " "); echo; done; }
        . "$1"' phase "$tmp/phase") 2>&1
    }
    got=$(STORE="$store" run_prefixup "$tmp/prefixup")
    want="${cudnn#/nix/store/}/lib/python3.11/site-packages/nvidia/cudnn/lib:libcudnn.so.9 
${cudnn#/nix/store/}/lib/python3.11/site-packages/nvidia/cudnn/it's here:libcudnn_ops.so.9 "
    # torch's tree is not there: the phase says so and goes on.
    got_missing=$(STORE="$store" run_prefixup "$tmp/prefixup-vision")
    if [ "$got" = "$want" ] && [[ "$got_missing" == "py2nix: torchvision: torch has no "*"(for libtorch.so)" ]]; then
      pass "shell/library-search-paths"
    else
      fail "shell/library-search-paths" "got:
$got
$got_missing
want:
$want"
    fi
  else
    fail "shell/library-search-paths" "$(tail -n 20 "$tmp/err")"
  fi
fi

if selected "shell/netrc-phase"; then
  netrc_run netrc private-wheel PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME=alice 'PY2NIX_INDEX_MY_CORP_INTERNAL_PASSWORD=p w$(x)'
  status=$?
  want=$(printf 'machine pkgs.corp.example\nlogin alice\npassword p w$(x)\n.')
  got=$(cat "$tmp/sh-netrc/netrc" 2>/dev/null; printf .)
  if [ $status -eq 0 ] && [ "$got" = "$want" ]; then pass "shell/netrc-phase"; else fail "shell/netrc-phase" "status $status: $(cat "$tmp/out" "$tmp/err")
netrc: $got"; fi
fi

if selected "shell/netrc-phase-without-credentials"; then
  netrc_run nocred private-wheel
  status=$?
  msg="py2nix: fetching private-wheel needs the credentials of index 'my-corp.internal': set PY2NIX_INDEX_MY_CORP_INTERNAL_USERNAME and PY2NIX_INDEX_MY_CORP_INTERNAL_PASSWORD in the environment of the Nix daemon"
  if [ $status -eq 1 ] && grep -qF -- "$msg" "$tmp/out" && [ ! -e "$tmp/sh-nocred/netrc" ]; then
    pass "shell/netrc-phase-without-credentials"
  else
    fail "shell/netrc-phase-without-credentials" "status $status: $(cat "$tmp/out")"
  fi
fi

# A hostile index name: printed as it is, never run; the variables are the
# sanitised names.
if selected "shell/netrc-phase-hostile-index"; then
  netrc_run hostile1 private-sdist
  status1=$?
  cp "$tmp/out" "$tmp/out1"
  netrc_run hostile2 private-sdist PY2NIX_INDEX_EVIL__TOUCH_PWNED__NAME___X____HOME__USERNAME=bob
  status2=$?
  msg="index 'evil\$(touch pwned);name' \"x\" \${HOME}': set PY2NIX_INDEX_EVIL__TOUCH_PWNED__NAME___X____HOME__USERNAME"
  want=$(printf 'machine corp.example\nlogin bob\npassword \n.')
  got=$(cat "$tmp/sh-hostile2/netrc" 2>/dev/null; printf .)
  if [ $status1 -eq 1 ] && grep -qF -- "$msg" "$tmp/out1" && [ -z "$(ls -A "$tmp/sh-hostile1")" ] \
    && [ $status2 -eq 0 ] && [ "$got" = "$want" ] && [ "$(ls -A "$tmp/sh-hostile2")" = netrc ]; then
    pass "shell/netrc-phase-hostile-index"
  else
    fail "shell/netrc-phase-hostile-index" "status $status1: $(cat "$tmp/out1")
status $status2: $(cat "$tmp/out")
netrc: $got
files: $(ls -A "$tmp/sh-hostile1") / $(ls -A "$tmp/sh-hostile2")"
  fi
fi

# ------------------------------------------------------------------ template

# The template's python.nix holds the logic of this repository (py2nix embeds
# nix/python-logic.nix verbatim, trailing blank lines cut, between the plan's
# "in" and the application to it).
if selected "template/python-nix-embeds-the-logic"; then
  tpl="$root/templates/default/python.nix"
  awk 'found { print } /^in$/ { found = 1 }' "$tpl" | sed '1d;$d' >"$tmp/embedded"
  sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$logic" >"$tmp/logic"
  if cmp -s "$tmp/embedded" "$tmp/logic"; then
    pass "template/python-nix-embeds-the-logic"
  else
    fail "template/python-nix-embeds-the-logic" "templates/default/python.nix holds an older nix/python-logic.nix; regenerate it (from the repository root, with network):
cargo run --release -p py2nix -- lock templates/default -o templates/default/python.nix --system x86_64-linux --system aarch64-linux --system x86_64-darwin --system aarch64-darwin"
  fi
fi

# ------------------------------------------------------------------ real flakes

# flake.nix and the template's flake through Nix's own flake machinery (pure
# evaluation of sources copied to the store), with stub-nixpkgs.nix as the
# nixpkgs flake, and `nix flake init -t` as docs/flake.md says. Needs a
# writable Nix store.
nixflake() { timeout 120 nix --extra-experimental-features "nix-command flakes" "$@"; }

# Copies of the repository's files (what a `github:` fetch of a commit holds;
# a file that vanishes meanwhile, as a fuzzer's, is left out), of the stub
# nixpkgs, and an empty project directory.
make_flakes() {
  local f="$tmp/flakes"
  mkdir -p "$f/py2nix" "$f/nixpkgs" "$f/project" || return 1
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard \
      | while IFS= read -r -d '' x; do [ -e "$x" ] && printf '%s\0' "$x"; done \
      | tar --null -T - -cf - 2>/dev/null) | (cd "$f/py2nix" && tar -xf -) || return 1
  else
    (cd "$root" && tar --exclude=./target --exclude=./.git -cf - .) | (cd "$f/py2nix" && tar -xf -) || return 1
  fi
  rm -f "$f/py2nix/flake.lock"
  cp "$here/stubs.nix" "$here/stub-nixpkgs.nix" "$f/nixpkgs/" || return 1
  echo '{ outputs = _: import ./stub-nixpkgs.nix; }' >"$f/nixpkgs/flake.nix"
  nixflake flake lock "path:$f/py2nix" --override-input nixpkgs "path:$f/nixpkgs" 2>&1
}

flake_check() { # label expected-json installable [nix eval arguments...]
  local label="$1" expected="$2" out
  shift 2
  selected "$label" || return 0
  if ! out=$(nixflake eval --json "$@" 2>"$tmp/err"); then
    fail "$label" "$(tail -n 20 "$tmp/err")"
  elif [ "$out" != "$expected" ]; then
    fail "$label" "expected: $expected
actual:   $out"
  else
    pass "$label"
  fi
}

if selected "flake/"; then
  f="$tmp/flakes"
  if ! err=$(make_flakes); then
    fail "flake/ (could not make the flakes)" "$err"
  else
    outpaths='c: builtins.mapAttrs (_: builtins.isString) (builtins.mapAttrs (_: d: d.outPath) c)'
    flake_check "flake/checks" \
      '{"example-poetry-cycle":true,"example-poetry-flask-pillow":true,"example-uv-workspace":true,"py2nix":true,"template":true,"template-dev-shell":true,"template-env":true}' \
      "path:$f/py2nix#checks.x86_64-linux" --apply "$outpaths"
    flake_check "flake/lib" '["fromPlan","fromPythonNix","mkDevShell","pythonFor"]' \
      "path:$f/py2nix#lib" --apply builtins.attrNames
    flake_check "flake/app" '"/nix/store/00000000000000000000000000000000-py2nix-0.1.0-aarch64-darwin/bin/py2nix"' \
      "path:$f/py2nix#apps.aarch64-darwin.default.program"
    flake_check "flake/overlay" '"py2nix"' \
      "path:$f/py2nix#overlays.default" --apply 'o: (o { rustPlatform.buildRustPackage = a: a; lib.licenses = { mit = 1; asl20 = 2; }; } { }).py2nix.pname'
    flake_check "flake/template" '{"description":true,"python.nix":true}' \
      "path:$f/py2nix#templates.default" --apply 't: { description = builtins.isString t.description; "python.nix" = builtins.pathExists (t.path + "/python.nix"); }'

    # nix flake init, then the project's flake with this repository as py2nix.
    if selected "flake/template-init"; then
      if (cd "$f/project" && nixflake flake init -t "path:$f/py2nix") >"$tmp/err" 2>&1 \
        && diff -r "$root/templates/default" "$f/project" >>"$tmp/err" 2>&1; then
        pass "flake/template-init"
      else
        fail "flake/template-init" "$(tail -n 20 "$tmp/err")"
      fi
    fi
    if nixflake flake lock "path:$f/project" --override-input py2nix "path:$f/py2nix" \
      --override-input nixpkgs "path:$f/nixpkgs" >"$tmp/err" 2>&1; then
      flake_check "flake/template-checks" '{"default":true,"devShell":true,"env":true}' \
        "path:$f/project#checks.aarch64-linux" --apply "$outpaths"
      flake_check "flake/template-application" '{"dependencyNames":["click"],"pname":"hello","python":"cpython-3.14-x86_64-darwin"}' \
        "path:$f/project#packages.x86_64-darwin.default" --apply 'd: { inherit (d) pname dependencyNames; python = d.pythonModule; }'
    else
      fail "flake/template (could not lock the project)" "$(tail -n 20 "$tmp/err")"
    fi
  fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
