//! Attack: a PSBT v2 whose global input and output counts claim as many
//! maps as the PSBT has bytes (BIP-370 `PSBT_GLOBAL_INPUT_COUNT` /
//! `OUTPUT_COUNT`). The parser must not reserve memory for the claimed
//! counts before the maps exist: a 4 MB PSBT claiming 4 million inputs and
//! outputs reserved about 670 MB (a failed allocation aborts the process,
//! which no `catch_unwind` stops). Its own binary: the counting allocator
//! below is this test's global allocator.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The only way to observe a reservation is a global allocator, whose trait
// is unsafe; this test binary's allocator forwards to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use wallet_core::bitcoin::{MAX_PSBT_BYTES, Psbt};

/// The largest single allocation requested since the last reset.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn kv(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    out.push(k.len() as u8);
    out.extend_from_slice(k);
    out.push(v.len() as u8);
    out.extend_from_slice(v);
}

#[test]
fn claimed_psbt_v2_counts_reserve_nothing_before_the_maps_exist() {
    // Global map: version 2, tx version 2, counts of ~4 million each
    // (compact size 0xfe + u32), then empty maps up to the size limit.
    let mut b = b"psbt\xff".to_vec();
    kv(&mut b, &[0xfb], &2u32.to_le_bytes());
    kv(&mut b, &[0x02], &2u32.to_le_bytes());
    let claimed = u32::try_from(MAX_PSBT_BYTES - 100).unwrap();
    let mut count = vec![0xfe];
    count.extend_from_slice(&claimed.to_le_bytes());
    kv(&mut b, &[0x04], &count);
    kv(&mut b, &[0x05], &count);
    b.push(0);
    b.resize(MAX_PSBT_BYTES, 0);

    LARGEST.store(0, Ordering::Relaxed);
    assert!(Psbt::parse(&b).is_err(), "empty input maps are not inputs");
    let largest = LARGEST.load(Ordering::Relaxed);
    // The PSBT itself is 4 MB; nothing the parser reserves should be
    // larger than a few times that.
    assert!(
        largest <= 4 * MAX_PSBT_BYTES,
        "one allocation of {largest} bytes for a {MAX_PSBT_BYTES}-byte PSBT"
    );
}

/// A compact size.
fn compact(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&u32::try_from(n).unwrap().to_le_bytes());
        }
    }
}

/// Attack: a final script witness of ~4 million empty items (one byte
/// each) became a list of 4 million `Vec`s, 24 bytes each: ~96 MB live for
/// a 4 MB PSBT (no consensus-valid spend needs more than ~1000 items).
#[test]
fn a_witness_of_millions_of_empty_items_is_refused_not_expanded() {
    // Unsigned tx: version 2, one input, one output, lock time 0.
    let mut tx = 2u32.to_le_bytes().to_vec();
    tx.push(1);
    tx.extend_from_slice(&[7u8; 32]);
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx.push(0);
    tx.extend_from_slice(&0xffff_ffffu32.to_le_bytes());
    tx.push(1);
    tx.extend_from_slice(&1000u64.to_le_bytes());
    tx.extend_from_slice(&[1, 0x51]);
    tx.extend_from_slice(&0u32.to_le_bytes());
    let mut b = b"psbt\xff".to_vec();
    b.push(1);
    b.push(0x00);
    compact(&mut b, tx.len());
    b.extend_from_slice(&tx);
    b.push(0);
    // Input map: final script witness of `items` empty items.
    let items = MAX_PSBT_BYTES - b.len() - 20;
    let mut witness = Vec::new();
    compact(&mut witness, items);
    witness.resize(witness.len() + items, 0);
    b.push(1);
    b.push(0x08);
    compact(&mut b, witness.len());
    b.extend_from_slice(&witness);
    b.push(0);
    // Output map.
    b.push(0);
    assert!(b.len() <= MAX_PSBT_BYTES, "{}", b.len());

    LARGEST.store(0, Ordering::Relaxed);
    let parsed = Psbt::parse(&b);
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        parsed.is_err(),
        "{items} witness items accepted (largest allocation {largest} bytes)"
    );
    assert!(
        largest <= 4 * MAX_PSBT_BYTES,
        "one allocation of {largest} bytes for a {MAX_PSBT_BYTES}-byte PSBT"
    );
}
