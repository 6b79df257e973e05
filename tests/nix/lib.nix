# Shared helpers of the Nix tests: plan builders and the logic applied to
# the stub arguments of stubs.nix.
let
  inherit (builtins) concatStringsSep genList map replaceStrings;
in
rec {
  logic = import ../../nix/python-logic.nix;
  stubs = args: import ./stubs.nix args;

  # A well-formed SRI sha256 hash, different for each character.
  fakeHash = c: "sha256-" + concatStringsSep "" (genList (_: c) 43) + "=";

  # Sources as the plan records them; the URL carries the percent-encoded
  # name, as the index would give it.
  urlFor = filename: "https://files.example.invalid/packages/ab/cd/"
    + replaceStrings [ " " "!" "+" ] [ "%20" "%21" "%2B" ] filename;
  wheel = filename: { kind = "wheel"; inherit filename; url = urlFor filename; hash = fakeHash "W"; };
  sdist = filename: { kind = "sdist"; inherit filename; url = urlFor filename; hash = fakeHash "S"; };
  # A git checkout at a full commit id.
  git = url: { kind = "git"; inherit url; rev = fakeRev; hash = fakeHash "G"; };
  fakeRev = "0123456789abcdef0123456789abcdef01234567";
  # Local path sources, relative to the directory holding python.nix.
  localWheel = path: { kind = "path"; inherit path; format = "wheel"; filename = baseNameOf path; };
  localSdist = path: { kind = "path"; inherit path; format = "sdist"; filename = baseNameOf path; };
  localTree = path: { kind = "path"; inherit path; format = "tree"; };

  # The directory the path-source plans are relative to (see local/).
  localRoot = ./local/app;

  # A plan holding one target.
  mkPlan = { system ? "x86_64-linux", python ? "3.11", roots, packages }: {
    schema = 1;
    generator = "py2nix 0.1.0";
    targets."${system}-${python}" = { inherit system python roots packages; };
  };

  # The logic applied to `plan` and stub arguments for `system`/`pythonVersion`;
  # `root` is the directory local path sources are relative to (python.nix
  # passes its own directory).
  evalPlan = { plan, system ? "x86_64-linux", pythonVersion ? "3.11", root ? null }:
    logic ({ inherit plan root; } // (stubs { inherit system pythonVersion; }).args);

  names = map (d: d.name);
  pnames = map (d: d.pname);
  outPaths = map (d: d.outPath);

  # What makes two results of the logic the same: the same target, packages
  # (by output path, which depends on every input), environments and hook.
  summary = r: {
    inherit (r) targetId editableShellHook;
    packages = builtins.mapAttrs (_: p: p.outPath) r.packages;
    roots = outPaths r.roots;
    env = r.env.outPath;
    devEnv = r.devEnv.outPath;
    python = r.python.pythonModuleId;
  };

  # Force every package's output path (which needs its dependencies' output
  # paths, as a real derivation's would) and the environment's.
  forceAll = result:
    builtins.deepSeq (map (p: p.outPath) (builtins.attrValues result.packages) ++ [ result.env.outPath ]) true;
}
