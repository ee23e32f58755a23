//! Lowercase hex text of bytes: session ids, epochs and the hashes in store keys. Ten lines, where a
//! crate would add a dependency for the same loop.

/// Appends `bytes` as lowercase hex.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
}
