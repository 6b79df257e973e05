# Store names of the fetched files: the exact file name when the store
# accepts it (a wheel must keep its name: the installer reads it), else a
# sanitised name, and then a wheel is copied under its real name.
let
  h = import ./lib.nix;
  one = pname: version: src: (h.evalPlan {
    plan = h.mkPlan { roots = [ pname ]; packages.${pname} = { inherit version src; dependencies = [ ]; }; };
  }).packages.${pname};
  storeSuffix = drv: builtins.head (builtins.match "/nix/store/[a-z0-9]{32}-(.*)" drv.args.src.outPath);

  local = one "torch" "2.5.1+cpu" (h.wheel "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl");
  epoch = one "epochal" "1!2.0" (h.wheel "epochal-1!2.0-py3-none-any.whl");
  spaced = one "weird" "1.0" (h.sdist "Weird Pkg-1.0.tar.gz");
  dotted = one "dotty" "1.0" (h.sdist ".dotty-1.0.tar.gz");
  quoted = one "quote" "1.0" (h.wheel "quote'n-1.0-py3-none-any.whl");
  longName = builtins.concatStringsSep "" (builtins.genList (_: "x") 230);
  long = one "long" "1.0" (h.wheel "${longName}-1.0-py3-none-any.whl");
  # 208 to 211 characters: the store takes the name, but mkDerivation (so
  # fetchurl) keeps only its last 207 (lib.strings.sanitizeDerivationName).
  wheelOfLength = n:
    let tail = "-1.0-py3-none-any.whl"; in
    "${builtins.substring 0 (n - builtins.stringLength tail) longName}${tail}";
  nearLimit = map (n: { inherit n; filename = wheelOfLength n; drv = one "x" "1.0" (h.wheel (wheelOfLength n)); }) [ 207 208 209 211 ];
in
{
  plus-is-store-safe = {
    expr = [ local.args.src.name (storeSuffix local) (local.args ? unpackPhase) local.name ];
    expected = [ "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl" "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl" false "python3.11-torch-2.5.1+cpu" ];
  };
  url-kept-percent-encoded = {
    expr = local.args.src.url;
    expected = "https://files.example.invalid/packages/ab/cd/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl";
  };
  bang-is-sanitised = { expr = storeSuffix epoch; expected = "epochal-1_2.0-py3-none-any.whl"; };
  sanitised-wheel-copied-under-real-name = {
    expr = builtins.match ".*cp \"[$]src\" dist/'epochal-1!2.0-py3-none-any.whl'.*" epoch.args.unpackPhase != null;
    expected = true;
  };
  sanitised-wheel-still-a-wheel = { expr = epoch.format; expected = "wheel"; };
  unsafe-version-gets-a-safe-name = {
    expr = [ epoch.version epoch.name ];
    expected = [ "1!2.0" "python3.11-epochal-1_2.0" ];
  };
  space-is-sanitised = {
    expr = [ (storeSuffix spaced) (spaced.args ? unpackPhase) ];
    expected = [ "Weird_Pkg-1.0.tar.gz" false ];
  };
  leading-dot-is-avoided = { expr = storeSuffix dotted; expected = "_.dotty-1.0.tar.gz"; };
  single-quote-is-shell-quoted = {
    expr = [
      (storeSuffix quoted)
      (builtins.match ".*dist/'quote'\\\\''n-1.0-py3-none-any.whl'\n.*" quoted.args.unpackPhase != null)
    ];
    expected = [ "quote_n-1.0-py3-none-any.whl" true ];
  };
  too-long-name-is-shortened-keeping-the-end = {
    expr = let n = storeSuffix long; in [ (builtins.stringLength n <= 207) (builtins.match ".*-1.0-py3-none-any[.]whl" n != null) (long.args ? unpackPhase) ];
    expected = [ true true true ];
  };
  # A name mkDerivation would cut is shortened by the logic itself, and the
  # wheel copied under its real name; 207 characters pass as they are.
  wheel-names-mkDerivation-would-cut-are-installed-under-their-real-name = {
    expr = map (c: {
      inherit (c) n;
      length = builtins.stringLength c.drv.args.src.name;
      copiedUnderItsName = c.drv.args ? unpackPhase
        && builtins.match ".*cp \"[$]src\" dist/'${c.filename}'\n.*" c.drv.args.unpackPhase != null;
    }) nearLimit;
    expected = [
      { n = 207; length = 207; copiedUnderItsName = false; }
      { n = 208; length = 207; copiedUnderItsName = true; }
      { n = 209; length = 207; copiedUnderItsName = true; }
      { n = 211; length = 207; copiedUnderItsName = true; }
    ];
  };
}
