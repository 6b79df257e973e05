# For test-lib.nix: a python.nix-like function that returns the names of the
# arguments it was given (lib.fromPythonNix passes only those it asks for).
{ pkgs, python3, stdenv, zlib ? null, notInPkgs ? null }@args: builtins.attrNames args
