//! The encrypted format: AES-256-GCM-SIV under a key derived from the
//! secret with HKDF-SHA256, for applications with no Python peer.
//!
//! ```text
//! token     = base64url( version ‖ nonce ‖ AEAD(key, nonce, aad, plaintext) )
//! version   = 0x01
//! nonce     = 12 random bytes per write
//! aad       = version ‖ cookie name        (a cookie moved to another name fails)
//! plaintext = timestamp (8 bytes, big-endian) ‖ flags (1 byte: 0x01 = deflated) ‖ JSON
//! key       = HKDF-SHA256(salt "tower-cookie-session", ikm secret, info PURPOSE), 32 bytes
//! ```
//!
//! The timestamp and the compression flag are inside the authenticated
//! plaintext; nothing is parsed or inflated before the tag verifies.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

use super::encoding;
use super::key::Key;
use crate::{DecodeError, DecodeErrorKind};

/// The format's version byte, first in every token.
pub(crate) const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Timestamp and flags, before the JSON.
const PREFIX_LEN: usize = 8 + 1;
const DEFLATED: u8 = 1;
const HKDF_SALT: &[u8] = b"tower-cookie-session";
/// The HKDF label: a purpose no other key of this crate has, so the
/// encryption key is never the signing key, nor the secret itself.
const PURPOSE: &[u8] = b"tower-cookie-session v1: session cookie encryption, AES-256-GCM-SIV";

/// The ciphers of the main key (which seals) and the fallback keys (which
/// only open).
#[derive(Clone)]
pub(crate) struct Sealer {
    ciphers: Vec<Aes256GcmSiv>,
}

/// What [`Sealer::open`] found inside a token.
pub(crate) struct Opened {
    pub(crate) payload: Vec<u8>,
    pub(crate) deflated: bool,
    pub(crate) timestamp: u64,
}

impl Sealer {
    /// `keys[0]` seals; all open.
    pub(crate) fn new<'a>(keys: impl Iterator<Item = &'a Key>) -> Self {
        Self {
            ciphers: keys.map(|k| Aes256GcmSiv::new(&derive(k).into())).collect(),
        }
    }

    /// The token for `payload` signed at `timestamp`, bound to the cookie
    /// `name`.
    pub(crate) fn seal(
        &self,
        name: &str,
        timestamp: u64,
        payload: &[u8],
        deflated: bool,
    ) -> String {
        let nonce = nonce();
        let mut plain = Vec::with_capacity(PREFIX_LEN + payload.len());
        plain.extend_from_slice(&timestamp.to_be_bytes());
        plain.push(if deflated { DEFLATED } else { 0 });
        plain.extend_from_slice(payload);
        let aad = aad(name);
        // AES-GCM-SIV refuses only plaintexts beyond 2^36 bytes, which no
        // session reaches; an empty token would read back as no session.
        let Ok(sealed) = self.ciphers[0].encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        ) else {
            tracing::error!(cookie = %name, "the session could not be encrypted");
            return String::new();
        };
        let mut raw = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        raw.push(VERSION);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        let mut out = String::with_capacity(raw.len().div_ceil(3) * 4);
        encoding::b64_append(&raw, &mut out);
        out
    }

    /// Decrypts and authenticates `token` for the cookie `name` with each
    /// key in turn. Work is bounded by the token's length times the keys.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::Malformed`] for what is not a token of this
    /// format, [`DecodeErrorKind::BadSignature`] when no key authenticates
    /// it, [`DecodeErrorKind::BadPayload`] for unknown flags.
    pub(crate) fn open(&self, name: &str, token: &str) -> Result<Opened, DecodeError> {
        use DecodeErrorKind::{BadPayload, BadSignature, Malformed};
        let raw =
            encoding::b64_decode(token).ok_or(DecodeError::new(Malformed, "not base64url"))?;
        if raw.len() < 1 + NONCE_LEN + TAG_LEN + PREFIX_LEN {
            return Err(DecodeError::new(
                Malformed,
                "too short to be an encrypted session",
            ));
        }
        if raw[0] != VERSION {
            return Err(DecodeError::new(
                Malformed,
                "unknown encrypted-format version",
            ));
        }
        let (nonce, sealed) = raw[1..].split_at(NONCE_LEN);
        let aad = aad(name);
        let plain = self
            .ciphers
            .iter()
            .find_map(|cipher| {
                cipher
                    .decrypt(
                        Nonce::from_slice(nonce),
                        Payload {
                            msg: sealed,
                            aad: &aad,
                        },
                    )
                    .ok()
            })
            .ok_or(DecodeError::new(BadSignature, "no key authenticates it"))?;
        let (prefix, payload) = plain.split_at(PREFIX_LEN);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&prefix[..8]);
        let deflated = match prefix[8] {
            0 => false,
            DEFLATED => true,
            _ => return Err(DecodeError::new(BadPayload, "unknown flags")),
        };
        Ok(Opened {
            payload: payload.to_vec(),
            deflated,
            timestamp: u64::from_be_bytes(ts),
        })
    }
}

/// The 32-byte encryption key of `key`.
fn derive(key: &Key) -> [u8; 32] {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(HKDF_SALT), key.bytes())
        .expand(PURPOSE, &mut okm)
        .unwrap_or_else(|_| unreachable!("32 bytes is within HKDF-SHA256's output range"));
    okm
}

fn aad(name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + name.len());
    aad.push(VERSION);
    aad.extend_from_slice(name.as_bytes());
    aad
}

/// 96 random bits from the OS. Should the source fail, a process-wide
/// counter with the time still never repeats within the process; and a
/// repeated nonce under GCM-SIV reveals only that two sealed plaintexts
/// were equal, never the key stream.
fn nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    if getrandom::fill(&mut nonce).is_err() {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        nonce[..8].copy_from_slice(&n.to_le_bytes());
        nonce[8..].copy_from_slice(&nanos.to_le_bytes());
    }
    nonce
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("aead", &"AES-256-GCM-SIV")
            .field("keys", &self.ciphers.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secrets: &[&str]) -> Sealer {
        let keys: Vec<Key> = secrets.iter().map(|s| Key::new(s).unwrap()).collect();
        Sealer::new(keys.iter())
    }

    #[test]
    fn round_trips_and_binds_the_name() {
        let s = sealer(&["main"]);
        let token = s.seal("session", 1_700_000_000, b"{\"a\":1}", false);
        let opened = s.open("session", &token).unwrap();
        assert_eq!(opened.payload, b"{\"a\":1}");
        assert_eq!(opened.timestamp, 1_700_000_000);
        assert!(!opened.deflated);
        let moved = s.open("other", &token).err().expect("refused");
        assert_eq!(moved.kind(), DecodeErrorKind::BadSignature);
    }

    #[test]
    fn fallback_keys_open_and_never_seal() {
        let old = sealer(&["old"]);
        let rotated = sealer(&["new", "old"]);
        let by_old = old.seal("s", 1, b"{}", false);
        assert!(rotated.open("s", &by_old).is_ok());
        let by_rotated = rotated.seal("s", 1, b"{}", false);
        assert!(old.open("s", &by_rotated).is_err());
    }

    #[test]
    fn the_encryption_key_is_neither_the_secret_nor_the_signing_key() {
        let key = Key::new([9u8; 32]).unwrap();
        let derived = derive(&key);
        assert_ne!(&derived[..], key.bytes());
        let signing = super::super::key::Signer::new(
            &key,
            b"cookie-session",
            super::super::KeyDerivation::Hmac,
            super::super::Digest::Sha256,
        );
        let mut mac = Vec::new();
        signing.sign(b"", &mut mac);
        assert_ne!(&derived[..], &mac[..]);
    }

    #[test]
    fn the_version_byte_is_checked() {
        let s = sealer(&["k"]);
        let token = s.seal("s", 1, b"{}", false);
        let mut raw = encoding::b64_decode(&token).unwrap();
        raw[0] = 2;
        let mut other = String::new();
        encoding::b64_append(&raw, &mut other);
        let err = s.open("s", &other).err().expect("refused");
        assert_eq!(err.kind(), DecodeErrorKind::Malformed);
    }

    #[test]
    fn nonces_never_repeat_over_100_000_writes() {
        let s = sealer(&["k"]);
        let mut seen = std::collections::HashSet::with_capacity(100_000);
        for i in 0..100_000u64 {
            let token = s.seal("s", i, b"{}", false);
            let raw = encoding::b64_decode(&token).unwrap();
            let nonce: [u8; NONCE_LEN] = raw[1..=NONCE_LEN].try_into().unwrap();
            assert!(seen.insert(nonce), "nonce repeated at write {i}");
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let shown = format!("{:?}", sealer(&["topsecret-topsecret"]));
        assert_eq!(shown, "Sealer { aead: \"AES-256-GCM-SIV\", keys: 1, .. }");
    }
}
