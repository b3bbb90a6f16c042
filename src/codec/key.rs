//! Secret keys and itsdangerous' key derivation.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use crate::ConfigError;

/// A secret key, as Flask's `SECRET_KEY`.
///
/// Any non-empty byte string works, so existing Flask secrets can be reused
/// as they are. New deployments should use [`Key::generate`] (64 random
/// bytes) or at least 32 random bytes. `Debug` never shows the bytes.
///
/// ```
/// use tower_cookie_session::Key;
///
/// let key = Key::new("a Flask app's secret").unwrap();
/// assert_eq!(format!("{key:?}"), "Key { len: 20, .. }");
/// assert!(Key::new(b"").is_err());
/// ```
#[derive(Clone)]
pub struct Key {
    secret: Arc<[u8]>,
}

impl Key {
    /// Wraps a secret: a `&str`, `String`, `&[u8]` or `Vec<u8>`.
    ///
    /// ```
    /// use tower_cookie_session::Key;
    ///
    /// let from_flask = Key::new("dev").unwrap();
    /// let random_bytes = Key::new([0x9f_u8, 0x00, 0xfe]).unwrap();
    /// # let _ = (from_flask, random_bytes);
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyKey`] if `secret` is empty.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(ConfigError::EmptyKey);
        }
        Ok(Self {
            secret: Arc::from(secret),
        })
    }

    /// A new key of 64 bytes from the operating system's random source.
    ///
    /// Sessions signed with it die with the process: persist a key to keep
    /// users logged in across restarts.
    ///
    /// ```
    /// use tower_cookie_session::Key;
    ///
    /// assert_eq!(Key::generate().len(), 64);
    /// ```
    ///
    /// # Panics
    ///
    /// If the operating system has no random source, which no supported
    /// platform lacks.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self {
            secret: Arc::from(&bytes[..]),
        }
    }

    /// Length of the secret in bytes.
    ///
    /// ```
    /// assert_eq!(tower_cookie_session::Key::new("abc").unwrap().len(), 3);
    /// ```
    #[allow(clippy::len_without_is_empty)] // a Key is never empty
    #[must_use]
    pub fn len(&self) -> usize {
        self.secret.len()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("len", &self.secret.len())
            .finish_non_exhaustive()
    }
}

/// How the signing key is derived from the secret and the salt
/// (itsdangerous' `key_derivation`).
///
/// ```
/// use tower_cookie_session::codec::{Codec, Key, KeyDerivation};
///
/// let codec = Codec::new(Key::new("s").unwrap()).with_key_derivation(KeyDerivation::DjangoConcat);
/// # let _ = codec;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyDerivation {
    /// `HMAC(secret, salt)`: Flask's choice.
    #[default]
    Hmac,
    /// `H(salt ‖ secret)`.
    Concat,
    /// `H(salt ‖ "signer" ‖ secret)`: itsdangerous' own default.
    DjangoConcat,
    /// The secret is the signing key.
    None,
}

/// The hash function used for key derivation and for the signature.
///
/// ```
/// use tower_cookie_session::codec::{Codec, Digest, Key};
///
/// let codec = Codec::new(Key::new("s").unwrap()).with_digest(Digest::Sha256);
/// # let _ = codec;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-1: Flask's choice (HMAC-SHA1 has no known practical weakness).
    #[default]
    Sha1,
    /// SHA-256.
    Sha256,
}

/// A ready-to-clone HMAC state for one derived key: cloning it skips the
/// two key-pad compressions that `new_from_slice` would redo per cookie.
#[derive(Clone)]
pub(crate) enum Signer {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
}

impl Signer {
    pub(crate) fn new(key: &Key, salt: &[u8], derivation: KeyDerivation, digest: Digest) -> Self {
        match digest {
            Digest::Sha1 => Self::Sha1(mac_sha1(&derive_sha1(key.bytes(), salt, derivation))),
            Digest::Sha256 => {
                Self::Sha256(mac_sha256(&derive_sha256(key.bytes(), salt, derivation)))
            }
        }
    }

    /// The raw signature of `message`.
    pub(crate) fn sign(&self, message: &[u8], out: &mut Vec<u8>) {
        match self {
            Self::Sha1(m) => {
                out.extend_from_slice(&m.clone().chain_update(message).finalize().into_bytes())
            }
            Self::Sha256(m) => {
                out.extend_from_slice(&m.clone().chain_update(message).finalize().into_bytes())
            }
        }
    }

    /// Constant-time check of `signature` over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Sha1(m) => m
                .clone()
                .chain_update(message)
                .verify_slice(signature)
                .is_ok(),
            Self::Sha256(m) => m
                .clone()
                .chain_update(message)
                .verify_slice(signature)
                .is_ok(),
        }
    }

    pub(crate) fn output_len(&self) -> usize {
        match self {
            Self::Sha1(_) => 20,
            Self::Sha256(_) => 32,
        }
    }
}

/// itsdangerous' `Signer.derive_key` and the HMAC state for one digest.
macro_rules! digest_fns {
    ($mac:ident, $derive:ident, $hash:ty) => {
        fn $mac(key: &[u8]) -> Hmac<$hash> {
            <Hmac<$hash> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
        }

        fn $derive(secret: &[u8], salt: &[u8], derivation: KeyDerivation) -> Vec<u8> {
            match derivation {
                KeyDerivation::Hmac => $mac(secret)
                    .chain_update(salt)
                    .finalize()
                    .into_bytes()
                    .to_vec(),
                KeyDerivation::Concat => <$hash>::new()
                    .chain_update(salt)
                    .chain_update(secret)
                    .finalize()
                    .to_vec(),
                KeyDerivation::DjangoConcat => <$hash>::new()
                    .chain_update(salt)
                    .chain_update(b"signer")
                    .chain_update(secret)
                    .finalize()
                    .to_vec(),
                KeyDerivation::None => secret.to_vec(),
            }
        }
    };
}

digest_fns!(mac_sha1, derive_sha1, Sha1);
digest_fns!(mac_sha256, derive_sha256, Sha256);

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_derivation_matches_flask() {
        // flask-wire-format.md §1: the worked example.
        let key = derive_sha1(
            b"flask-vectors-secret-key",
            b"cookie-session",
            KeyDerivation::Hmac,
        );
        assert_eq!(hex(&key), "98060bc8c4507c92a2c7822e6cfb0dbfedabe049");
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = Key::new("hunter2-hunter2").unwrap();
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(Key::generate().bytes(), Key::generate().bytes());
    }
}
