# Libraries of Linux binary wheels: a wheel's `library-providers` become build
# inputs and autoPatchelf search paths into the providers' site-packages
# (preFixup), its `driver-libraries` are left missing at build time and the
# driver's directory is appended to the runpath, as are the directories of
# `runpath-providers`; `ignored-libraries` are left missing. (run.sh runs the preFixup of
# `libraryPlan` in bash against a fake tree.)
let
  h = import ./lib.nix;
  inherit (builtins) attrNames filter length match split isString;

  wheel = name: h.wheel "${name}-1.0-cp311-cp311-manylinux_2_17_x86_64.whl";
  r = h.evalPlan { plan = (import ./plans.nix).libraries; };
  p = r.packages;
  # The lines of a preFixup that call addAutoPatchelfSearchPath.
  searchLines = drv: filter (l: isString l && match " *addAutoPatchelfSearchPath .*" l != null)
    (split "\n" drv.args.preFixup);
  site = drv: "${drv}/lib/python3.11/site-packages";
in
{
  everything-evaluates = { expr = h.forceAll r; expected = true; };

  providers-are-build-inputs = {
    expr = map (d: d.pname or (builtins.head (match ".*-(zlib)" "${d}"))) p.torchvision.args.buildInputs;
    expected = [ "zlib" "torch" ];
  };
  providers-each-once = {
    expr = map (d: d.pname) p.torch.args.buildInputs;
    expected = [ "nvidia-cudnn" ];
  };

  search-paths = {
    expr = searchLines p.torch;
    expected = [
      "  addAutoPatchelfSearchPath '${site p.nvidia-cudnn}/nvidia/cudnn/lib'"
      "  addAutoPatchelfSearchPath '${site p.nvidia-cudnn}/nvidia/cudnn/it'\\''s here'"
    ];
  };
  search-path-at-the-top = {
    expr = searchLines p.torchvision;
    expected = [ "  addAutoPatchelfSearchPath '${site p.torch}'" ];
  };

  driver-libraries = {
    expr = {
      inherit (p.torch.args) autoPatchelfIgnoreMissingDeps appendRunpaths;
      vision = p.torchvision.args ? autoPatchelfIgnoreMissingDeps || p.torchvision.args ? appendRunpaths;
    };
    expected = {
      autoPatchelfIgnoreMissingDeps = [ "libcuda.so.1" "libnvidia-ml.so.1" ];
      appendRunpaths = [ "/run/opengl-driver/lib" ];
      vision = false;
    };
  };

  ignored-libraries-and-runpath-providers = {
    expr = {
      inherit (p.tensorflow.args) autoPatchelfIgnoreMissingDeps appendRunpaths;
      onnx = p.onnx.args.autoPatchelfIgnoreMissingDeps;
      onnxRunpaths = p.onnx.args ? appendRunpaths;
      searchPaths = p.tensorflow.args ? preFixup;
    };
    expected = {
      autoPatchelfIgnoreMissingDeps = [ "libcuda.so.1" "libnvinfer.so.10" ];
      appendRunpaths = [
        "${site p.nvidia-cudnn}/nvidia/cudnn/lib"
        (site p.nvidia-cudnn)
        "/run/opengl-driver/lib"
      ];
      onnx = [ "libnvinfer.so.10" ];
      onnxRunpaths = false;
      searchPaths = false;
    };
  };

  no-libraries-no-attributes = {
    expr = p.nvidia-cudnn.args ? preFixup || p.nvidia-cudnn.args ? autoPatchelfIgnoreMissingDeps;
    expected = false;
  };

  # A replacement from overridePackages is the provider dependents get.
  replaced-provider-reaches-dependents = {
    expr =
      let
        o = r.overridePackages (final: prev: {
          torch = prev.torch.overridePythonAttrs (_: { version = "9.9"; });
        });
      in
      map (d: d.version or d) (filter (d: (d.pname or "") == "torch") o.packages.torchvision.args.buildInputs);
    expected = [ "9.9" ];
  };

  missing-provider = {
    expr = (builtins.tryEval (builtins.deepSeq (h.evalPlan {
      plan = h.mkPlan {
        roots = [ "a" ];
        packages.a = {
          version = "1.0";
          src = wheel "a";
          dependencies = [ ];
          library-providers = [ { package = "gone"; directory = "x"; sonames = [ "libx.so" ]; } ];
        };
      };
    }).packages.a.args.preFixup true)).success;
    expected = false;
  };
}
