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

      # The locked dependencies: python.nix, made by `py2nix lock -o python.nix`
      # from uv.lock. Its env, packages.<name>, devEnv, ... (docs/flake.md).
      locked = pkgs: py2nix.lib.fromPythonNix {
        file = ./python.nix;
        inherit pkgs;
        # python3 = pkgs.python312;   # a Python python.nix was generated for
      };

      project = (builtins.fromTOML (builtins.readFile ./pyproject.toml)).project;
    in
    {
      packages = forAllSystems (pkgs:
        let python = locked pkgs; in
        {
          # The application itself, on top of the locked dependencies.
          default = python.python.pkgs.buildPythonApplication {
            pname = project.name;
            inherit (project) version;
            pyproject = true;
            src = nixpkgs.lib.fileset.toSource {
              root = ./.;
              fileset = nixpkgs.lib.fileset.unions [ ./pyproject.toml ./README.md ./src ];
            };
            build-system = [ python.python.pkgs.hatchling ];
            # pyproject.toml's [project] dependencies, from the lock.
            dependencies = [ python.packages.click ];
            meta.mainProgram = "hello"; # for `nix run`
          };

          # A Python with every locked package (dev group included).
          env = python.env;
        });

      devShells = forAllSystems (pkgs: {
        # The locked packages, and this project's src/ on PYTHONPATH: `pytest`
        # and `python -m hello` use the working tree.
        default = py2nix.lib.mkDevShell {
          inherit pkgs;
          python = locked pkgs;
          packages = [ pkgs.uv ];
          shellHook = ''
            export PYTHONPATH="$PWD/src''${PYTHONPATH:+:$PYTHONPATH}"
          '';
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
