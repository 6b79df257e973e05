# Evaluates one test of a test file for run.sh.
# A test is { expr; expected; } (passes when equal) or
# { expr; expectError = "text"; } (passes when evaluating expr deeply fails
# with an error containing text; run.sh checks the text).
{ file, name }:
let
  t = (import file).${name};
  show = v:
    let r = builtins.tryEval (builtins.toJSON v);
    in if r.success then r.value else "<not printable>";
in
if t ? expectError then builtins.deepSeq t.expr "UNEXPECTED-SUCCESS"
else if t.expr == t.expected then "PASS"
else "FAIL\n  expected: ${show t.expected}\n  actual:   ${show t.expr}"
