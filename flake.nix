{
  description = "py2nix: turns a Python lock file into a python.nix for nixpkgs' Python infrastructure";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The workspace's version, so that the package follows Cargo.toml.
      version = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.version;

      py2nixFor = pkgs: pkgs.rustPlatform.buildRustPackage {
        pname = "py2nix";
        inherit version;
        src = ./.;
        cargoLock.lockFile = ./Cargo.lock;
        # Build only the binary crate; the library crates come with it.
        cargoBuildFlags = [ "-p" "py2nix" ];
        doCheck = false;
        meta = {
          description = "Turns a Python lock file into a python.nix for nixpkgs' Python infrastructure";
          mainProgram = "py2nix";
          license = with pkgs.lib.licenses; [ mit asl20 ];
        };
      };
    in
    {
      packages = forAllSystems (pkgs: rec {
        py2nix = py2nixFor pkgs;
        default = py2nix;
      });

      apps = nixpkgs.lib.genAttrs systems (system: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/py2nix";
          meta.description = "Run py2nix";
        };
      });

      overlays.default = final: prev: {
        py2nix = py2nixFor final;
      };
    };
}
