//! perf-lab C-ABI adapter over miniz_oxide: decodes one gzip member into a caller buffer.
//!
//! ABI (see lab/bench/README.md): returns 0 on success and stores the decoded length
//! in `*out_len`; any other value is an error code.

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Length of the gzip header (RFC 1952), or None when it is not a deflate gzip member.
fn gzip_header_len(input: &[u8]) -> Option<usize> {
    if input.len() < 18 || input[0] != 0x1f || input[1] != 0x8b || input[2] != 8 {
        return None;
    }
    let flags = input[3];
    if flags & 0xe0 != 0 {
        return None;
    }
    let mut pos = 10;
    if flags & 0x04 != 0 {
        let xlen = u16::from_le_bytes([*input.get(pos)?, *input.get(pos + 1)?]) as usize;
        pos += 2 + xlen;
    }
    if flags & 0x08 != 0 {
        pos += input.get(pos..)?.iter().position(|&b| b == 0)? + 1;
    }
    if flags & 0x10 != 0 {
        pos += input.get(pos..)?.iter().position(|&b| b == 0)? + 1;
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    if pos + 8 > input.len() {
        None
    } else {
        Some(pos)
    }
}

/// Decodes one gzip member into `output`; returns the bytes written, or the C ABI's error code.
/// The same function behind the C ABI below and behind perf-lab's rust adapter (its tests compare the two).
pub fn decompress_into(input: &[u8], output: &mut [u8]) -> Result<usize, i32> {
    let start = match gzip_header_len(input) {
        Some(start) => start,
        None => return Err(2),
    };
    let mut state = Box::<DecompressorOxide>::default();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, consumed, produced) = decompress(&mut state, &input[start..], output, 0, flags);
    if status != TINFLStatus::Done {
        return Err(3);
    }
    let trailer = start + consumed;
    let trailer_bytes = match input.get(trailer..trailer + 8) {
        Some(bytes) => bytes,
        None => return Err(4),
    };
    let crc = u32::from_le_bytes([trailer_bytes[0], trailer_bytes[1], trailer_bytes[2], trailer_bytes[3]]);
    let size = u32::from_le_bytes([trailer_bytes[4], trailer_bytes[5], trailer_bytes[6], trailer_bytes[7]]);
    if !cfg!(feature = "skip-isize") && size != produced as u32 {
        return Err(5);
    }
    if !cfg!(feature = "skip-crc32") && crc32fast::hash(&output[..produced]) != crc {
        return Err(6);
    }
    if cfg!(feature = "flip-byte") && produced > 0 {
        output[produced / 2] ^= 0x01;
    }
    Ok(produced)
}

/// # Safety
/// `input` must point to `in_len` readable bytes, `out` to `out_cap` writable bytes,
/// and `out_len` to a writable usize.
#[no_mangle]
pub unsafe extern "C" fn perf_lab_gzip_decompress(
    input: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    if input.is_null() || out.is_null() || out_len.is_null() {
        return 1;
    }
    let input = std::slice::from_raw_parts(input, in_len);
    let output = std::slice::from_raw_parts_mut(out, out_cap);
    match decompress_into(input, output) {
        Ok(produced) => {
            *out_len = produced;
            0
        }
        Err(code) => code,
    }
}
