# A stand-in for the nixpkgs flake input: { lib, legacyPackages }, built from
# the stubs of stubs.nix. nixpkgs' python3 is 3.14 here, and python311 to
# python314 exist; each system's package set adds rustPlatform, uv, mkShell
# and the few nixpkgs `lib` functions the flakes use. test-flake.nix uses it,
# and run.sh makes it a flake (flake.nix: `outputs = _: import ./stub-nixpkgs.nix;`)
# to evaluate flake.nix and the template with Nix's own flake machinery.
let
  systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);

  lib = {
    inherit genAttrs;
    licenses = { mit = "MIT"; asl20 = "Apache-2.0"; };
    # lib.fileset: the files, and a source whose path depends on them.
    fileset = {
      unions = files: files;
      toSource = { root, fileset }: {
        inherit root fileset;
        outPath = builtins.toFile "source" (builtins.concatStringsSep "\n" (map toString fileset));
      };
    };
  };

  pkgsFor = system:
    let
      stubs = import ./stubs.nix { inherit system; pythonVersion = "3.14"; };
      pythonOf = version: (import ./stubs.nix { inherit system; pythonVersion = version; }).python3;
    in
    stubs.pkgs // {
      inherit system lib;
      rustPlatform.buildRustPackage = args: args // {
        outPath = "/nix/store/00000000000000000000000000000000-${args.pname}-${args.version}-${system}";
      };
      uv = { name = "uv"; outPath = builtins.toFile "uv" "stub uv"; };
      python311 = pythonOf "3.11";
      python312 = pythonOf "3.12";
      python313 = pythonOf "3.13";
      python314 = stubs.python3;
    };
in
{
  inherit lib;
  legacyPackages = genAttrs systems pkgsFor;
}
