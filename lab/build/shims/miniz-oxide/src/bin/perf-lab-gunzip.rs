//! `perf-lab-gunzip FILE`: decodes a gzip file with the shim and writes the output to stdout.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = match std::env::args().nth(1) {
        Some(path) => path,
        None => {
            eprintln!("usage: perf-lab-gunzip FILE.gz");
            return ExitCode::from(2);
        }
    };
    let input = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("perf-lab-gunzip: cannot read {}: {}", path, error);
            return ExitCode::from(1);
        }
    };
    if input.len() < 4 {
        eprintln!("perf-lab-gunzip: {} is too short to be gzip", path);
        return ExitCode::from(1);
    }
    // The gzip trailer's ISIZE is the output length modulo 2^32.
    let size = u32::from_le_bytes(input[input.len() - 4..].try_into().unwrap()) as usize;
    let mut output = vec![0u8; size];
    let mut produced = 0usize;
    let rc = unsafe {
        perf_lab_miniz_oxide_shim::perf_lab_gzip_decompress(
            input.as_ptr(),
            input.len(),
            output.as_mut_ptr(),
            output.len(),
            &mut produced,
        )
    };
    if rc != 0 {
        eprintln!("perf-lab-gunzip: {}: decode error {}", path, rc);
        return ExitCode::from(1);
    }
    if std::io::stdout().lock().write_all(&output[..produced]).is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
