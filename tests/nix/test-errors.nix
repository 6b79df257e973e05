# Clear errors for what nixpkgs or the plan lacks.
let
  h = import ./lib.nix;
  with1 = attrs: (h.evalPlan {
    plan = h.mkPlan {
      roots = [ "pkg" ];
      packages = {
        pkg = { version = "1.0"; src = h.sdist "pkg-1.0.tar.gz"; dependencies = [ ]; } // attrs;
      };
    };
  }).packages.pkg;
  force = drv: builtins.deepSeq [ drv.outPath drv.args ] true;
in
{
  missing-native-input-nested = {
    expr = force (with1 { native-build-inputs = [ "xorg.libxcbb" ]; });
    expectError = "py2nix: package 'pkg' (plan x86_64-linux/3.11) needs native build input 'xorg.libxcbb', but pkgs.xorg.libxcbb does not exist (pkgs.xorg has no attribute 'libxcbb')";
  };
  missing-build-input-top = {
    expr = force (with1 { build-inputs = [ "zlib" "libfoo.dev" ]; });
    expectError = "needs build input 'libfoo.dev', but pkgs.libfoo.dev does not exist (pkgs has no attribute 'libfoo')";
  };
  missing-build-system = {
    expr = force (with1 { build-system = [ "setuptools" "no-such-backend" ]; });
    expectError = "needs build system 'no-such-backend', but python3.pkgs.no-such-backend does not exist";
  };
  path-through-a-non-set = {
    expr = force (with1 { build-inputs = [ "zlib.name.more" ]; });
    expectError = "pkgs.zlib.name has no attribute 'more'";
  };
  dependency-not-in-plan = {
    expr = force (with1 { dependencies = [ "ghost" ]; });
    expectError = "py2nix: package 'pkg' depends on 'ghost', which the plan for x86_64-linux/3.11 does not hold";
  };
  # nixpkgs' pypa build hook splits pypaBuildFlags at whitespace.
  build-flag-with-a-space = {
    expr = force (with1 { build-flags = [ "-Cok=1" "-Csetup-args=-Dx=a b" ]; });
    expectError = "py2nix: package 'pkg' (plan x86_64-linux/3.11) has the build flag '-Csetup-args=-Dx=a b', which nixpkgs' pypa build hook would split at its whitespace; give each argument as a flag of its own";
  };
  build-flags-without-whitespace-pass = {
    expr = (with1 { build-flags = [ "-Cok=1" "-Csetup-args=-Dx=a" ]; }).args.pypaBuildFlags;
    expected = [ "--skip-dependency-check" "-Cok=1" "-Csetup-args=-Dx=a" ];
  };
  unknown-source-kind = {
    expr = force (with1 { src = (h.sdist "pkg-1.0.tar.gz") // { kind = "egg"; }; });
    expectError = "py2nix: package 'pkg' (plan x86_64-linux/3.11) has a source of unknown kind 'egg'";
  };
  root-not-in-plan = {
    expr = builtins.deepSeq (h.evalPlan { plan = h.mkPlan { roots = [ "ghost" ]; packages = { }; }; }).roots true;
    expectError = "py2nix: root 'ghost' is not a package of the plan for x86_64-linux/3.11";
  };
  # Errors are throws, so tryEval can catch them.
  errors-are-catchable = {
    expr = (builtins.tryEval (force (with1 { build-inputs = [ "nope" ]; }))).success;
    expected = false;
  };
}
