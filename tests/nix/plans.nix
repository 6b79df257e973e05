# Plans shared by the tests and by run.sh (which writes `combined` into a
# generated python.nix).
let
  h = import ./lib.nix;
  inherit (h) wheel sdist git localWheel localSdist localTree;
in
rec {
  # a <-> b, the edge b -> a cut; x -> y -> z -> x, the edge z -> x cut;
  # s depends on itself.
  cyclicPackages = {
    a = { version = "1.0"; src = sdist "a-1.0.tar.gz"; dependencies = [ "b" ]; build-system = [ "hatchling" ]; };
    b = { version = "2.0"; src = sdist "b-2.0.tar.gz"; dependencies = [ "a" ]; cycle-breaks = [ "a" ]; build-system = [ "poetry-core" ]; };
    x = { version = "1"; src = wheel "x-1-py3-none-any.whl"; dependencies = [ "y" ]; };
    y = { version = "1"; src = wheel "y-1-py3-none-any.whl"; dependencies = [ "z" ]; };
    z = { version = "1"; src = sdist "z-1.tar.gz"; dependencies = [ "x" "w" ]; cycle-breaks = [ "x" ]; };
    w = { version = "1"; src = wheel "w-1-py3-none-any.whl"; dependencies = [ ]; };
    s = { version = "1"; src = sdist "s-1.tar.gz"; dependencies = [ "s" ]; cycle-breaks = [ "s" ]; };
  };

  cyclic = h.mkPlan { roots = [ "a" "x" "s" ]; packages = cyclicPackages; };

  # The same without the cuts.
  cyclicUncut = h.mkPlan {
    roots = [ "a" ];
    packages = builtins.mapAttrs (_: p: removeAttrs p [ "cycle-breaks" ]) { inherit (cyclicPackages) a b; };
  };

  combined = {
    schema = 1;
    generator = "py2nix 0.1.0";
    targets = {
      "x86_64-linux-3.11" = {
        system = "x86_64-linux";
        python = "3.11";
        roots = [ "flask" "a" ];
        packages = {
          flask = { version = "3.1.0"; src = wheel "flask-3.1.0-py3-none-any.whl"; dependencies = [ "markupsafe" ]; };
          markupsafe = {
            version = "3.0.2";
            src = sdist "markupsafe-3.0.2.tar.gz";
            dependencies = [ ];
            build-system = [ "setuptools" ];
            native-build-inputs = [ "pkg-config" ];
            build-inputs = [ "xorg.libxcb" ];
            warnings = [ "a warning" ];
          };
          inherit (cyclicPackages) a b;
        };
      };
      "aarch64-darwin-3.12" = {
        system = "aarch64-darwin";
        python = "3.12";
        roots = [ "flask" ];
        packages.flask = { version = "3.1.0"; src = wheel "flask-3.1.0-py3-none-any.whl"; dependencies = [ ]; };
      };
    };
  };

  # A subdirectory name that would run commands if the shell saw it unquoted.
  hostileSubdirectory = "it's $(touch pwned) `touch pwned2` \"q\" \${HOME} \\ end";
  # An index name with everything an environment variable may not hold.
  hostileIndex = "evil$(touch pwned);name' \"x\" \${HOME}";

  # Every kind of source but the plain index files: git checkouts, files
  # from indexes that need credentials, local wheels, sdists and trees
  # (relative to local/app, see h.localRoot), two of them editable.
  sourcePackages = {
    plain = { version = "1.0"; src = wheel "plain-1.0-py3-none-any.whl"; dependencies = [ ]; };
    gitpkg = {
      version = "0.3.0";
      src = git "https://github.com/example/gitpkg.git";
      dependencies = [ "plain" ];
      build-system = [ "hatchling" ];
    };
    gitsub = {
      version = "2.0";
      src = git "ssh://git@git.example.invalid/mono.git" // { submodules = true; subdirectory = "python/gitsub"; };
      dependencies = [ ];
      build-system = [ "setuptools" "wheel" ];
      build-inputs = [ "zlib" ];
    };
    hostile = {
      version = "1";
      src = git "https://git.example.invalid/hostile.git" // { subdirectory = hostileSubdirectory; };
      dependencies = [ ];
      build-system = [ "setuptools" ];
    };
    private-wheel = {
      version = "1.0";
      src = wheel "private_wheel-1.0-py3-none-any.whl" // {
        url = "https://pkgs.corp.example:8443/simple/private_wheel-1.0-py3-none-any.whl";
        index = "my-corp.internal";
      };
      dependencies = [ ];
    };
    private-sdist = {
      version = "1.0";
      src = sdist "private_sdist-1.0.tar.gz" // {
        url = "https://corp.example/files/private_sdist-1.0.tar.gz";
        index = hostileIndex;
        subdirectory = "sub dir";
      };
      dependencies = [ ];
      build-system = [ "setuptools" ];
    };
    tiny = { version = "1.0"; src = localWheel "dist/tiny-1.0-py3-none-any.whl"; dependencies = [ ]; };
    epoch = { version = "1!2.0"; src = localWheel "dist/epoch-1!2.0-py3-none-any.whl"; dependencies = [ ]; };
    tiny-sdist = {
      version = "1.0";
      src = localSdist "dist/tiny_sdist-1.0.tar.gz";
      dependencies = [ ];
      build-system = [ "setuptools" ];
    };
    tree = { version = "0.1"; src = localTree "tree"; dependencies = [ "tiny" ]; build-system = [ "hatchling" ]; };
    spaced = { version = "0.1"; src = localTree "../dir with space/pkg"; dependencies = [ ]; build-system = [ "setuptools" ]; };
    flat = {
      version = "0.1";
      src = localTree "libs/flat" // { editable = true; };
      dependencies = [ "plain" ];
      build-system = [ "setuptools" ];
    };
    srclayout = {
      version = "0.1";
      src = localTree "libs/srclayout" // { editable = true; };
      dependencies = [ "flat" ];
      build-system = [ "hatchling" ];
    };
  };

  sources = h.mkPlan {
    roots = [ "flat" "gitpkg" "gitsub" "hostile" "private-sdist" "private-wheel" "spaced" "srclayout" "tiny-sdist" "tree" "epoch" ];
    packages = sourcePackages;
  };

  # Wheels whose libraries come from other wheels of the plan (torch's from
  # nvidia-cudnn, one directory with a quote in its name; torchvision's from
  # torch's site-packages top) and from the GPU driver.
  libraries = h.mkPlan {
    roots = [ "torchvision" ];
    packages = {
      nvidia-cudnn = {
        version = "9.1";
        src = wheel "nvidia_cudnn-9.1-py3-none-manylinux_2_27_x86_64.whl";
        dependencies = [ ];
        native-build-inputs = [ "autoPatchelfHook" ];
      };
      torch = {
        version = "2.9";
        src = wheel "torch-2.9-cp311-cp311-manylinux_2_28_x86_64.whl";
        dependencies = [ "nvidia-cudnn" ];
        native-build-inputs = [ "autoPatchelfHook" ];
        library-providers = [
          { package = "nvidia-cudnn"; directory = "nvidia/cudnn/lib"; sonames = [ "libcudnn.so.9" ]; }
          { package = "nvidia-cudnn"; directory = "nvidia/cudnn/it's here"; sonames = [ "libcudnn_ops.so.9" ]; }
        ];
        driver-libraries = [ "libcuda.so.1" "libnvidia-ml.so.1" ];
      };
      torchvision = {
        version = "0.24";
        src = wheel "torchvision-0.24-cp311-cp311-manylinux_2_28_x86_64.whl";
        dependencies = [ "torch" ];
        native-build-inputs = [ "autoPatchelfHook" ];
        build-inputs = [ "zlib" ];
        library-providers = [
          { package = "torch"; directory = ""; sonames = [ "libtorch.so" ]; }
        ];
      };
      # Opens cuDNN at run time (runpath-providers), links an optional
      # plugin's library nothing gives (ignored-libraries) and the driver's.
      tensorflow = {
        version = "2.21";
        src = wheel "tensorflow-2.21-cp311-cp311-manylinux_2_27_x86_64.whl";
        dependencies = [ "nvidia-cudnn" ];
        native-build-inputs = [ "autoPatchelfHook" ];
        driver-libraries = [ "libcuda.so.1" ];
        ignored-libraries = [ "libnvinfer.so.10" ];
        runpath-providers = [
          { package = "nvidia-cudnn"; directory = "nvidia/cudnn/lib"; }
          { package = "nvidia-cudnn"; directory = ""; }
        ];
      };
      # Only an ignored library: no runpath is appended.
      onnx = {
        version = "1.0";
        src = wheel "onnx-1.0-cp311-cp311-manylinux_2_27_x86_64.whl";
        dependencies = [ ];
        native-build-inputs = [ "autoPatchelfHook" ];
        ignored-libraries = [ "libnvinfer.so.10" ];
      };
    };
  };
}
