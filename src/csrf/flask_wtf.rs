//! Flask-WTF's CSRF token (`flask_wtf/csrf.py`, 1.3.0): a raw token kept in
//! the session under `csrf_token`, and in the form a copy signed with
//! itsdangerous' `URLSafeTimedSerializer(secret, salt="wtf-csrf-token")` —
//! key `SHA1("wtf-csrf-token" ‖ "signer" ‖ secret)`, payload the base64 of
//! the JSON string, then the timestamp and the HMAC-SHA1.

use subtle::ConstantTimeEq;

use crate::codec::compress::decompress;
use crate::codec::encoding::{b64_append, b64_decode, timestamp_append, timestamp_decode};
use crate::codec::key::Signer;
use crate::codec::{Digest, Key, KeyDerivation};

/// itsdangerous' salt for Flask-WTF tokens.
pub(crate) const SALT: &[u8] = b"wtf-csrf-token";
/// A real token is about 90 bytes; nothing longer is worth an HMAC.
const MAX_TOKEN_BYTES: usize = 1024;

/// Why `validate_csrf` refuses, with its messages word for word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Missing,
    SessionTokenMissing,
    Expired,
    Invalid,
    Mismatch,
}

impl Refusal {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "The CSRF token is missing.",
            Self::SessionTokenMissing => "The CSRF session token is missing.",
            Self::Expired => "The CSRF token has expired.",
            Self::Invalid => "The CSRF token is invalid.",
            Self::Mismatch => "The CSRF tokens do not match.",
        }
    }
}

pub(crate) fn signer(key: &Key) -> Signer {
    Signer::new(key, SALT, KeyDerivation::DjangoConcat, Digest::Sha1)
}

/// `generate_csrf`'s `URLSafeTimedSerializer.dumps(raw)` at `timestamp`.
pub(crate) fn sign(signer: &Signer, raw: &str, timestamp: u64) -> String {
    let json = serde_json::to_string(raw).unwrap_or_default();
    let mut token = String::with_capacity(json.len() * 4 / 3 + 40);
    b64_append(json.as_bytes(), &mut token);
    token.push('.');
    timestamp_append(timestamp, &mut token);
    let mut mac = Vec::with_capacity(20);
    signer.sign(token.as_bytes(), &mut mac);
    token.push('.');
    b64_append(&mac, &mut token);
    token
}

/// `validate_csrf(data, time_limit)` against the session's raw token.
/// Nothing is decoded before the signature verifies.
pub(crate) fn validate(
    signer: &Signer,
    data: &str,
    session_raw: Option<&str>,
    now: u64,
    time_limit: Option<u64>,
) -> Result<(), Refusal> {
    if data.is_empty() {
        return Err(Refusal::Missing);
    }
    let session_raw = session_raw.ok_or(Refusal::SessionTokenMissing)?;
    if data.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::Invalid);
    }
    let (signed, signature) = data.rsplit_once('.').ok_or(Refusal::Invalid)?;
    let signature = b64_decode(signature).ok_or(Refusal::Invalid)?;
    if !signer.verify(signed.as_bytes(), &signature) {
        return Err(Refusal::Invalid);
    }
    let (payload, timestamp) = signed.rsplit_once('.').ok_or(Refusal::Invalid)?;
    let timestamp = timestamp_decode(timestamp).ok_or(Refusal::Invalid)?;
    if let Some(limit) = time_limit {
        // itsdangerous: `age > max_age` or `age < 0` is expired.
        if now < timestamp || now - timestamp > limit {
            return Err(Refusal::Expired);
        }
    }
    let json = match payload.strip_prefix('.') {
        Some(compressed) => decompress(&b64_decode(compressed).ok_or(Refusal::Invalid)?),
        None => b64_decode(payload),
    }
    .ok_or(Refusal::Invalid)?;
    // Python compares whatever the JSON holds with the session's string:
    // anything but that string does not match.
    let raw: String = serde_json::from_slice(&json).map_err(|_| Refusal::Mismatch)?;
    if raw.as_bytes().ct_eq(session_raw.as_bytes()).into() {
        Ok(())
    } else {
        Err(Refusal::Mismatch)
    }
}

/// A new raw token as `generate_csrf` makes one: 40 lowercase hex digits.
pub(crate) fn new_raw_token() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_what_it_validates_until_the_limit() {
        let signer = signer(&Key::new("k").unwrap());
        let raw = new_raw_token();
        assert_eq!(raw.len(), 40);
        let token = sign(&signer, &raw, 1000);
        assert_eq!(
            validate(&signer, &token, Some(&raw), 4600, Some(3600)),
            Ok(())
        );
        assert_eq!(
            validate(&signer, &token, Some(&raw), 4601, Some(3600)),
            Err(Refusal::Expired)
        );
        assert_eq!(
            validate(&signer, &token, Some(&raw), 999, Some(3600)),
            Err(Refusal::Expired)
        );
        assert_eq!(validate(&signer, &token, Some(&raw), 999, None), Ok(()));
        assert_eq!(
            validate(&signer, &token, Some("other"), 1000, None),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            validate(&signer, &token, None, 1000, None),
            Err(Refusal::SessionTokenMissing)
        );
        assert_eq!(
            validate(&signer, "", Some(&raw), 1000, None),
            Err(Refusal::Missing)
        );
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            validate(&signer, &long, Some(&raw), 1000, None),
            Err(Refusal::Invalid)
        );
    }
}
