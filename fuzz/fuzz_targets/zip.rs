#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| py2nix_fuzz::archives::zip(data));
