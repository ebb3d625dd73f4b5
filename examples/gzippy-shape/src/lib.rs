//! gzippy's API shape over miniz_oxide: one gzip member in, its bytes out, CRC32 and length checked.

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

#[derive(Debug)]
pub enum GzippyError {
    NotGzip,
    Corrupt,
    Truncated,
    WrongLength,
    WrongCrc,
    OutputTooSmall,
}

fn header_len(input: &[u8]) -> Result<usize, GzippyError> {
    if input.len() < 18 || input[0] != 0x1f || input[1] != 0x8b || input[2] != 8 || input[3] & 0xe0 != 0 {
        return Err(GzippyError::NotGzip);
    }
    let flags = input[3];
    let mut pos = 10;
    let byte = |at: usize| input.get(at).copied().ok_or(GzippyError::Truncated);
    if flags & 0x04 != 0 {
        pos += 2 + u16::from_le_bytes([byte(pos)?, byte(pos + 1)?]) as usize;
    }
    for flag in [0x08u8, 0x10] {
        if flags & flag != 0 {
            pos += input
                .get(pos..)
                .ok_or(GzippyError::Truncated)?
                .iter()
                .position(|&b| b == 0)
                .ok_or(GzippyError::Truncated)?
                + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    if pos + 8 > input.len() {
        return Err(GzippyError::Truncated);
    }
    Ok(pos)
}

/// Decodes into `out`, returns the bytes written.
pub fn decompress_into(data: &[u8], out: &mut [u8]) -> Result<usize, GzippyError> {
    let start = header_len(data)?;
    let mut state = Box::<DecompressorOxide>::default();
    let (status, consumed, produced) =
        decompress(&mut state, &data[start..], out, 0, inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF);
    match status {
        TINFLStatus::Done => {}
        TINFLStatus::HasMoreOutput => return Err(GzippyError::OutputTooSmall),
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => return Err(GzippyError::Truncated),
        _ => return Err(GzippyError::Corrupt),
    }
    let trailer = data.get(start + consumed..start + consumed + 8).ok_or(GzippyError::Truncated)?;
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if size != produced as u32 {
        return Err(GzippyError::WrongLength);
    }
    if crc32fast::hash(&out[..produced]) != crc {
        return Err(GzippyError::WrongCrc);
    }
    Ok(produced)
}

/// gzippy's signature. This stand-in decodes on one thread whatever `threads` says.
pub fn decompress_with_threads(data: &[u8], threads: usize) -> Result<Vec<u8>, GzippyError> {
    let _ = threads;
    if data.len() < 4 {
        return Err(GzippyError::NotGzip);
    }
    let size = u32::from_le_bytes(data[data.len() - 4..].try_into().unwrap()) as usize;
    let mut out = vec![0u8; size];
    let written = decompress_into(data, &mut out)?;
    out.truncate(written);
    Ok(out)
}
