{
  description = "py2nix: turns a Python lock file into a python.nix for nixpkgs' Python infrastructure";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  # docs/flake.md describes every output.
  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      systemOf = pkgs: pkgs.stdenv.hostPlatform.system;

      # The workspace's version, so that the package follows Cargo.toml.
      version = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.version;

      py2nixFor = pkgs: pkgs.rustPlatform.buildRustPackage {
        pname = "py2nix";
        inherit version;
        src = ./.;
        cargoLock.lockFile = ./Cargo.lock;
        # Build only the binary crate; the library crates come with it.
        cargoBuildFlags = [ "-p" "py2nix" ];
        # The tests need the network (index fixtures served locally, git) and Nix.
        doCheck = false;
        meta = {
          description = "Turns a Python lock file into a python.nix for nixpkgs' Python infrastructure";
          mainProgram = "py2nix";
          license = with pkgs.lib.licenses; [ mit asl20 ];
        };
      };

      lib = import ./nix/lib.nix;

      # The template's flake, with this repository as its py2nix input.
      template = (import ./templates/default/flake.nix).outputs {
        self = template;
        inherit nixpkgs;
        py2nix = self;
      };

      # JSON plans py2nix made from fixtures (tests/nix/examples/update.sh),
      # built for a Python the plan has.
      examples = [ "poetry-flask-pillow" "poetry-cycle" "uv-workspace" ];
      exampleEnv = pkgs: name:
        let
          plan = ./tests/nix/examples + "/${name}.json";
          python = lib.fromPlan {
            inherit plan pkgs;
            python3 = lib.pythonFor { inherit plan pkgs; };
          };
        in
        python.env;
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

      # Helpers for projects that use a python.nix or a JSON plan; each takes
      # `pkgs`, so `lib` is the same for every system (nix/lib.nix).
      inherit lib;

      templates.default = {
        path = ./templates/default;
        description = "A Python application (uv.lock) built and developed with a py2nix python.nix";
        welcomeText = ''
          A Python project with a flake that uses a python.nix made by py2nix.
          Set the py2nix input's URL in flake.nix, then see README.md:
          after changing dependencies, `uv lock` and `py2nix lock -o python.nix`.
        '';
      };

      # Built by `nix flake check`: py2nix itself, the template (application,
      # environment and development shell) and the example plans'
      # environments, with nixpkgs' real Python infrastructure.
      checks = forAllSystems (pkgs:
        let system = systemOf pkgs; in
        {
          py2nix = self.packages.${system}.default;
          template = template.packages.${system}.default;
          template-env = template.packages.${system}.env;
          template-dev-shell = template.devShells.${system}.default;
        }
        // builtins.listToAttrs (map
          (name: { name = "example-${name}"; value = exampleEnv pkgs name; })
          examples));
    };
}
