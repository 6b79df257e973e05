#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| py2nix_fuzz::readers::pdm_lock(data));
