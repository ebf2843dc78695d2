//! Any bytes as a whole document: every format's detection and every resume rule.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check_document(data));
