//! The two RustCrypto AEADs the encrypted mode could use, on session-sized
//! plaintexts (100 B – 16 KiB): XChaCha20-Poly1305 (`chacha20poly1305`,
//! 192-bit random nonces) and AES-256-GCM-SIV (`aes-gcm-siv`, 96-bit
//! nonces, misuse-resistant), each sealing with a fresh random nonce from
//! the OS (as the layer does per write) and opening. The cipher states are
//! built once, as the layer builds them once per configuration. The
//! figures behind the choice in the README's design notes.
//!
//! ```sh
//! cargo bench --bench aead -- --warm-up-time 1 --measurement-time 2
//! ```

mod common;

use std::hint::black_box;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce as SivNonce};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use common::{payload, Kind, SIZES};
use criterion::Criterion;

fn nonce<const N: usize>() -> [u8; N] {
    let mut n = [0u8; N];
    getrandom::fill(&mut n).expect("OS random source");
    n
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let key = [7u8; 32];
    let xchacha = XChaCha20Poly1305::new((&key).into());
    let siv = Aes256GcmSiv::new((&key).into());
    let aad = b"session";
    for (label, size) in SIZES {
        let plain = serde_json::to_vec(&payload(Kind::Alnum, size)).expect("JSON");
        let mut group = c.benchmark_group(format!("aead/{label}"));
        group.bench_function("xchacha20poly1305 seal", |b| {
            b.iter(|| {
                let n = nonce::<24>();
                let msg = Payload { msg: &plain, aad };
                black_box(xchacha.encrypt(XNonce::from_slice(&n), msg).expect("seal"))
            })
        });
        group.bench_function("aes256gcmsiv seal", |b| {
            b.iter(|| {
                let n = nonce::<12>();
                let msg = Payload { msg: &plain, aad };
                black_box(siv.encrypt(SivNonce::from_slice(&n), msg).expect("seal"))
            })
        });
        let xn = nonce::<24>();
        let sealed_x = xchacha
            .encrypt(XNonce::from_slice(&xn), Payload { msg: &plain, aad })
            .expect("seal");
        let sn = nonce::<12>();
        let sealed_s = siv
            .encrypt(SivNonce::from_slice(&sn), Payload { msg: &plain, aad })
            .expect("seal");
        group.bench_function("xchacha20poly1305 open", |b| {
            b.iter(|| {
                let msg = Payload {
                    msg: &sealed_x,
                    aad,
                };
                black_box(xchacha.decrypt(XNonce::from_slice(&xn), msg).expect("open"))
            })
        });
        group.bench_function("aes256gcmsiv open", |b| {
            b.iter(|| {
                let msg = Payload {
                    msg: &sealed_s,
                    aad,
                };
                black_box(siv.decrypt(SivNonce::from_slice(&sn), msg).expect("open"))
            })
        });
        group.finish();
    }
    c.final_summary();
}
