# flake.nix's outputs, evaluated against a stub nixpkgs input.
let
  flake = import ../../flake.nix;
  genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
  stubPkgs = system: {
    inherit system;
    lib = { inherit genAttrs; licenses = { mit = "MIT"; asl20 = "Apache-2.0"; }; };
    rustPlatform.buildRustPackage = args: args // {
      outPath = "/nix/store/00000000000000000000000000000000-${args.pname}-${args.version}-${system}";
    };
  };
  nixpkgs = {
    lib = { inherit genAttrs; };
    legacyPackages = genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ] stubPkgs;
  };
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
  drv = outputs.packages.x86_64-linux.default;
in
{
  input = { expr = flake.inputs.nixpkgs.url; expected = "github:NixOS/nixpkgs/nixos-unstable"; };
  systems = {
    expr = map builtins.attrNames [ outputs.packages outputs.apps ];
    expected = [
      [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ]
      [ "aarch64-darwin" "aarch64-linux" "x86_64-darwin" "x86_64-linux" ]
    ];
  };
  package = {
    expr = {
      inherit (drv) pname version cargoBuildFlags doCheck;
      lock = builtins.baseNameOf drv.cargoLock.lockFile;
      src = builtins.pathExists (drv.src + "/crates/py2nix");
      mainProgram = drv.meta.mainProgram;
    };
    expected = {
      pname = "py2nix";
      version = "0.1.0";
      cargoBuildFlags = [ "-p" "py2nix" ];
      doCheck = false;
      lock = "Cargo.lock";
      src = true;
      mainProgram = "py2nix";
    };
  };
  app = {
    expr = outputs.apps.aarch64-darwin.default // { meta = null; };
    expected = {
      type = "app";
      program = "/nix/store/00000000000000000000000000000000-py2nix-0.1.0-aarch64-darwin/bin/py2nix";
      meta = null;
    };
  };
  overlay = {
    expr = ((outputs.overlays.default (stubPkgs "aarch64-linux") { }).py2nix).outPath;
    expected = "/nix/store/00000000000000000000000000000000-py2nix-0.1.0-aarch64-linux";
  };
}
