{
  description = "hello: a Python application built with Nix from a py2nix python.nix";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    # Replace OWNER with the GitHub owner of the py2nix repository you use.
    py2nix.url = "github:OWNER/py2nix";
    py2nix.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { self, nixpkgs, py2nix }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The project and its locked dependencies: python.nix, made by
      # `py2nix lock -o python.nix` from uv.lock. Its app, project, env, devEnv,
      # envWith, packages.<name>, ... (docs/flake.md).
      locked = pkgs: py2nix.lib.fromPythonNix {
        file = ./python.nix;
        inherit pkgs;
        # python3 = pkgs.python312;   # a Python python.nix was generated for
      };
    in
    {
      packages = forAllSystems (pkgs:
        let python = locked pkgs; in
        {
          # The application: the project built from this directory with its
          # pinned build system, its scripts on bin/ (`nix run` starts `hello`).
          default = python.app;

          # A Python with the project's main dependencies; python.envWith
          # { groups = [ "dev" ]; } adds groups and extras.
          env = python.env;
        });

      devShells = forAllSystems (pkgs: {
        # The locked packages with the dev group, and this project from the
        # working tree: `pytest`, `python -m hello` and `hello` use src/.
        default = py2nix.lib.mkDevShell {
          inherit pkgs;
          python = locked pkgs;
          packages = [ pkgs.uv ];
        };
      });

      checks = forAllSystems (pkgs:
        let system = pkgs.stdenv.hostPlatform.system; in
        {
          inherit (self.packages.${system}) default env;
          devShell = self.devShells.${system}.default;
        });
    };
}
