//! Lowercase hex text of bytes: session ids, epochs, CSRF tokens and the hashes in store keys. Ten
//! lines, where a crate would add a dependency for the same loop.

/// Appends `bytes` as lowercase hex.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
}

/// `N` bytes from the operating system's random source, as lowercase hex (`2 × N` characters): session
/// ids, epochs, CSRF tokens. The error says what failed.
pub(crate) fn random_hex<const N: usize>() -> Result<String, String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("the operating system's random source failed: {e}"))?;
    let mut hex = String::with_capacity(2 * N);
    push_hex(&mut hex, &bytes);
    Ok(hex)
}
