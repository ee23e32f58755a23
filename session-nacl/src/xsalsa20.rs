//! The XSalsa20 stream of one secretbox: its first 32 bytes key the Poly1305 MAC, the rest encrypts.
//!
//! Written here for speed, beside the `salsa20` crate (the tests' oracle), which computes one block
//! at a time behind the `cipher` crate's buffering. A pass of four blocks is computed four at a time,
//! one 32-bit word of the four blocks in each of `wide`'s 128-bit vectors (SSE2 on x86-64, NEON on
//! AArch64, plain arrays elsewhere); a pass that needs three blocks or fewer, and HSalsa20, which
//! derives the stream's key from the box's key and nonce, run the same rounds on plain words: one
//! block on words takes about 70 ns, four in vectors about 240 ns. The stream of a session's payload
//! (a throwaway program, pinned to one core, two runs), with the crate and with this: 71 bytes (two
//! blocks with the MAC key) 259–293 and 248–251 ns, 150 bytes 338–349 and 330–342 ns, a typical
//! 190 bytes 396–410 and 319–337 ns, 4 KiB 4.76–4.98 and 3.93–4.04 µs. The tests check
//! every byte against the crate's `XSalsa20` on every length across the passes' boundaries, the blocks
//! against its `Salsa20` across the block counter's 32-bit carry, and a 1,000-byte box against PyNaCl.

use wide::u32x4;
use zeroize::{Zeroize, Zeroizing};

/// The key of the box's MAC: the stream's first 32 bytes.
pub(crate) type MacKey = [u8; 32];

/// Four 64-byte blocks of keystream, as little-endian 64-bit words: the most a pass computes. Words,
/// not bytes, because the buffers are wiped when dropped and `zeroize` wipes one element at a time
/// (as bytes, the two buffers' wiping was 60 % of a seal's own time).
type Pass = [u64; 32];
/// The MAC key's words at the start of the first pass.
const MAC_KEY_WORDS: usize = 4;
/// The longest pass computed one block at a time: three blocks on words cost less than four in
/// vectors, four more.
const LONGEST_SCALAR_PASS: usize = 3 * 64;
/// "expand 32-byte k", Salsa20's constant words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The XSalsa20 stream of one key and 24-byte nonce, with its first pass computed.
pub(crate) struct SecretBoxStream {
    /// HSalsa20's output: the Salsa20 key for this nonce.
    key: Zeroizing<[u32; 8]>,
    /// The nonce's last 8 bytes: Salsa20's nonce.
    nonce: [u32; 2],
    /// Blocks 0 to 3 (or as many as the data needs): the MAC key, then up to 224 bytes that encrypt.
    first_pass: Zeroizing<Pass>,
    /// How many blocks `first_pass` holds.
    first_blocks: u64,
}

impl SecretBoxStream {
    /// The stream for a box of `len` bytes under `key` and `nonce`.
    pub(crate) fn new(key: &[u8; 32], nonce: &[u8; 24], len: usize) -> SecretBoxStream {
        let key = hsalsa20(key, nonce);
        let nonce = [le_u32(&nonce[16..]), le_u32(&nonce[20..])];
        let mut first_pass = Zeroizing::new([0; 32]);
        let first_blocks = pass(&key, nonce, 0, MAC_KEY_WORDS * 8 + len, &mut first_pass);
        SecretBoxStream { key, nonce, first_pass, first_blocks }
    }

    /// The stream's first 32 bytes.
    pub(crate) fn mac_key(&self) -> Zeroizing<MacKey> {
        Zeroizing::new(std::array::from_fn(|i| self.first_pass[i / 8].to_le_bytes()[i % 8]))
    }

    /// XORs `data` with the stream from its 33rd byte on: encrypts a plaintext, decrypts a
    /// ciphertext. Any length is right; the one the stream was made for costs no block twice.
    pub(crate) fn apply(&self, data: &mut [u8]) {
        let first_pass = &self.first_pass[MAC_KEY_WORDS..8 * self.first_blocks as usize];
        let (first, rest) = data.split_at_mut(data.len().min(8 * first_pass.len()));
        xor(first, first_pass);
        if rest.is_empty() {
            return;
        }
        let mut keystream = Zeroizing::new([0; 32]);
        let mut block = self.first_blocks;
        for chunk in rest.chunks_mut(8 * keystream.len()) {
            block += pass(&self.key, self.nonce, block, chunk.len(), &mut keystream);
            xor(chunk, keystream.as_ref());
        }
    }
}

/// XORs `data` with the bytes of `keystream`'s words (at least as many as `data` has).
fn xor(data: &mut [u8], keystream: &[u64]) {
    debug_assert!(data.len() <= 8 * keystream.len(), "the keystream covers the data");
    let (words, tail) = data.as_chunks_mut::<8>();
    for (word, key) in words.iter_mut().zip(keystream) {
        *word = (u64::from_le_bytes(*word) ^ key).to_le_bytes();
    }
    if let Some(key) = keystream.get(words.len()) {
        for (byte, key) in tail.iter_mut().zip(key.to_le_bytes()) {
            *byte ^= key;
        }
    }
}

/// HSalsa20: the Salsa20 key for the box's `nonce` (its first 16 bytes), from the box's `key`.
fn hsalsa20(key: &[u8; 32], nonce: &[u8; 24]) -> Zeroizing<[u32; 8]> {
    let key = Zeroizing::new(std::array::from_fn(|i| le_u32(&key[4 * i..])));
    let mut x = Zeroizing::new(input(SIGMA, *key, std::array::from_fn(|i| le_u32(&nonce[4 * i..]))));
    rounds(&mut x);
    // No feed-forward: the diagonal and the nonce's words are the key.
    Zeroizing::new([x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]])
}

/// At least `bytes` bytes (at most a pass) of the stream from `block` on, into `out`; how many
/// blocks that took.
fn pass(key: &[u32; 8], nonce: [u32; 2], block: u64, bytes: usize, out: &mut Pass) -> u64 {
    if bytes > LONGEST_SCALAR_PASS {
        four_blocks(key, nonce, block, out);
        return 4;
    }
    let blocks = bytes.div_ceil(64);
    for (words, block) in out.chunks_exact_mut(8).take(blocks).zip(block..) {
        let input = Zeroizing::new(input(SIGMA, *key, [nonce[0], nonce[1], block as u32, (block >> 32) as u32]));
        let mut x = Zeroizing::new(*input);
        rounds(&mut x);
        for (pair, word) in words.iter_mut().enumerate() {
            let [low, high] = [2 * pair, 2 * pair + 1].map(|i| x[i].wrapping_add(input[i]));
            *word = join(low, high);
        }
    }
    blocks as u64
}

/// A Salsa20 state: the constants, the key, and four words in the middle (HSalsa20's nonce, or
/// Salsa20's nonce and block counter).
fn input<W: Word>(sigma: [W; 4], key: [W; 8], middle: [W; 4]) -> [W; 16] {
    let [s0, s1, s2, s3] = sigma;
    let [k0, k1, k2, k3, k4, k5, k6, k7] = key;
    let [m0, m1, m2, m3] = middle;
    [s0, k0, k1, k2, k3, s1, m0, m1, m2, m3, s2, k4, k5, k6, k7, s3]
}

/// Two of a block's 32-bit words, in order, as one little-endian 64-bit word.
fn join(low: u32, high: u32) -> u64 {
    u64::from(low) | (u64::from(high) << 32)
}

/// What Salsa20's rounds do to a word: a plain one, or one word of four blocks in a vector.
trait Word: Copy {
    fn add(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    fn rotate_left(self, bits: u32) -> Self;
}

impl Word for u32 {
    #[inline(always)]
    fn add(self, other: u32) -> u32 {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn xor(self, other: u32) -> u32 {
        self ^ other
    }
    #[inline(always)]
    fn rotate_left(self, bits: u32) -> u32 {
        u32::rotate_left(self, bits)
    }
}

impl Word for u32x4 {
    #[inline(always)]
    fn add(self, other: u32x4) -> u32x4 {
        self + other
    }
    #[inline(always)]
    fn xor(self, other: u32x4) -> u32x4 {
        self ^ other
    }
    #[inline(always)]
    fn rotate_left(self, bits: u32) -> u32x4 {
        (self << bits) | (self >> (32 - bits))
    }
}

/// Salsa20's twenty rounds: ten times four quarter rounds down the columns, then four along the
/// rows. Written out so that every index is a constant (a loop over a table of them kept the state
/// in memory and cost two to three times as much).
#[inline(always)]
fn rounds<W: Word>(x: &mut [W; 16]) {
    for _ in 0..10 {
        quarter_round(x, [0, 4, 8, 12]);
        quarter_round(x, [5, 9, 13, 1]);
        quarter_round(x, [10, 14, 2, 6]);
        quarter_round(x, [15, 3, 7, 11]);
        quarter_round(x, [0, 1, 2, 3]);
        quarter_round(x, [5, 6, 7, 4]);
        quarter_round(x, [10, 11, 8, 9]);
        quarter_round(x, [15, 12, 13, 14]);
    }
}

#[inline(always)]
fn quarter_round<W: Word>(x: &mut [W; 16], [a, b, c, d]: [usize; 4]) {
    x[b] = x[b].xor(x[a].add(x[d]).rotate_left(7));
    x[c] = x[c].xor(x[b].add(x[a]).rotate_left(9));
    x[d] = x[d].xor(x[c].add(x[b]).rotate_left(13));
    x[a] = x[a].xor(x[d].add(x[c]).rotate_left(18));
}

/// Salsa20/20 blocks `block` to `block + 3` of `key` and `nonce`, one after the other in `out`: lane
/// `j` of each vector is block `block + j`.
fn four_blocks(key: &[u32; 8], nonce: [u32; 2], block: u64, out: &mut Pass) {
    let counters: [u64; 4] = std::array::from_fn(|i| block.wrapping_add(i as u64));
    let low = u32x4::new(counters.map(|counter| counter as u32));
    let high = u32x4::new(counters.map(|counter| (counter >> 32) as u32));
    let same = u32x4::splat;
    let [n0, n1] = nonce.map(same);
    let mut input = input(SIGMA.map(same), key.map(same), [n0, n1, low, high]);
    let mut x = input;
    rounds(&mut x);
    // Lane j holds block j; its words 2i and 2i + 1 make its 64-bit word i.
    for (pair, (mixed, input)) in x.chunks_exact(2).zip(input.chunks_exact(2)).enumerate() {
        let low = (mixed[0] + input[0]).to_array();
        let high = (mixed[1] + input[1]).to_array();
        for (lane, (low, high)) in low.into_iter().zip(high).enumerate() {
            out[8 * lane + pair] = join(low, high);
        }
    }
    // The input holds the key; the state, what is left of it after the rounds.
    for words in [&mut input, &mut x] {
        bytemuck::cast_mut::<[u32x4; 16], [u128; 16]>(words).zeroize();
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(std::array::from_fn(|i| bytes[i]))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use salsa20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
    use salsa20::{Salsa20, XSalsa20};

    use super::*;

    /// The crate's stream: the MAC key, and `data` XORed from byte 32 on.
    fn oracle(key: &[u8; 32], nonce: &[u8; 24], data: &[u8]) -> (MacKey, Vec<u8>) {
        let mut stream = XSalsa20::new(key.into(), nonce.into());
        let mut mac_key = [0; 32];
        stream.apply_keystream(&mut mac_key);
        let mut data = data.to_vec();
        stream.apply_keystream(&mut data);
        (mac_key, data)
    }

    fn ours(key: &[u8; 32], nonce: &[u8; 24], data: &[u8]) -> (MacKey, Vec<u8>) {
        let stream = SecretBoxStream::new(key, nonce, data.len());
        let mut data = data.to_vec();
        stream.apply(&mut data);
        (*stream.mac_key(), data)
    }

    #[test]
    fn every_length_around_the_passes_matches_the_salsa20_crate() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 3) as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| (i * 13 + 1) as u8);
        let data: Vec<u8> = (0..1300).map(|i| (i * 31) as u8).collect();
        // One, two, three blocks on words, then a pass in vectors (from 161 bytes); after the first
        // pass, again one to three blocks on words (225 to 416), then vectors.
        let lengths = (0..40)
            .chain(150..170)
            .chain(200..300)
            .chain(405..425)
            .chain(470..500)
            .chain(720..750)
            .chain(985..1000)
            .chain(1240..1300);
        for len in lengths {
            assert_eq!(ours(&key, &nonce, &data[..len]), oracle(&key, &nonce, &data[..len]), "length {len}");
        }
    }

    /// A stream made for one length and applied to another still gives the crate's stream: the
    /// blocks its first pass did not compute are computed then.
    #[test]
    fn a_stream_applied_to_another_length_is_still_right() {
        let key = [9; 32];
        let nonce = [4; 24];
        let data: Vec<u8> = (0..700).map(|i| (i * 3) as u8).collect();
        for (made_for, applied_to) in [(0, 100), (10, 300), (100, 700), (300, 20), (500, 0)] {
            let stream = SecretBoxStream::new(&key, &nonce, made_for);
            let mut ours = data[..applied_to].to_vec();
            stream.apply(&mut ours);
            assert_eq!(
                (*stream.mac_key(), ours),
                oracle(&key, &nonce, &data[..applied_to]),
                "{made_for} → {applied_to}"
            );
        }
    }

    /// Blocks 2^32 - 2 to 2^32 + 1, in vectors and on words: the counter's low word wraps and its
    /// high word counts.
    #[test]
    fn the_block_counter_carries_into_its_high_word() {
        let key: [u8; 32] = std::array::from_fn(|i| (200 - i) as u8);
        let nonce: [u8; 8] = std::array::from_fn(|i| (i * 29) as u8);
        let words: [u32; 8] = std::array::from_fn(|i| le_u32(&key[4 * i..]));
        let nonce_words = [le_u32(&nonce), le_u32(&nonce[4..])];
        let bytes = |pass: Pass| -> Vec<u8> { pass.iter().flat_map(|word| word.to_le_bytes()).collect() };
        let mut theirs = [0; 256];
        let mut salsa = Salsa20::new(&key.into(), &nonce.into());
        let first = (1u64 << 32) - 2;
        salsa.seek(first * 64);
        salsa.apply_keystream(&mut theirs);

        let mut vectors = [0; 32];
        four_blocks(&words, nonce_words, first, &mut vectors);
        assert_eq!(bytes(vectors), theirs);
        let mut scalar = [0; 32];
        pass(&words, nonce_words, first + 1, LONGEST_SCALAR_PASS, &mut scalar);
        assert_eq!(bytes(scalar)[..LONGEST_SCALAR_PASS], theirs[64..]);
    }

    proptest! {
        #[test]
        fn streams_match_the_salsa20_crate(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 24]>(),
            data in proptest::collection::vec(any::<u8>(), 0..1100),
        ) {
            prop_assert_eq!(ours(&key, &nonce, &data), oracle(&key, &nonce, &data));
            let theirs = salsa20::hsalsa::<salsa20::cipher::consts::U10>((&key).into(), nonce[..16].into());
            let theirs: Vec<u32> = theirs.chunks(4).map(le_u32).collect();
            prop_assert_eq!(hsalsa20(&key, &nonce).to_vec(), theirs);
        }
    }
}
