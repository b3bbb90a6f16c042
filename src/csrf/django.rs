//! Django's CSRF secret and its masked tokens (`django/middleware/csrf.py`,
//! 5.2): a 32-character secret from `a–z A–Z 0–9`, handed to forms as a
//! 64-character token — a fresh random mask followed by the secret shifted
//! by it — so the token in a page never repeats (BREACH).

use subtle::ConstantTimeEq;

/// `CSRF_ALLOWED_CHARS`, in Django's order: the shift is an index into it.
const CHARS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// `CSRF_SECRET_LENGTH`.
pub(crate) const SECRET_LEN: usize = 32;
/// `CSRF_TOKEN_LENGTH`.
pub(crate) const TOKEN_LEN: usize = 2 * SECRET_LEN;

/// Why a token or a cookie secret has the wrong shape: Django's
/// `InvalidTokenFormat` reasons, word for word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatError {
    Length,
    Characters,
}

impl FormatError {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Length => "has incorrect length",
            Self::Characters => "has invalid characters",
        }
    }
}

fn index(c: u8) -> Option<u8> {
    match c {
        b'a'..=b'z' => Some(c - b'a'),
        b'A'..=b'Z' => Some(c - b'A' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        _ => None,
    }
}

/// `_check_token_format`: Django counts characters, so a multi-byte
/// character makes a 32-byte string the wrong length only if it is not
/// 32 characters long; either way it is refused.
pub(crate) fn check_format(token: &str) -> Result<(), FormatError> {
    if !matches!(token.chars().count(), SECRET_LEN | TOKEN_LEN) {
        return Err(FormatError::Length);
    }
    if !token.bytes().all(|c| index(c).is_some()) {
        return Err(FormatError::Characters);
    }
    Ok(())
}

/// `_get_new_csrf_string`: 32 characters drawn uniformly from the 62.
pub(crate) fn new_secret() -> String {
    random_chars()
}

fn random_chars() -> String {
    let mut out = String::with_capacity(SECRET_LEN);
    let mut buf = [0u8; 64];
    while out.len() < SECRET_LEN {
        getrandom::fill(&mut buf).expect("the OS random source is available");
        // 248 = 4 × 62: rejecting the top 8 byte values keeps the draw uniform.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == SECRET_LEN {
                break;
            }
            out.push(CHARS[usize::from(*b % 62)] as char);
        }
    }
    out
}

/// `_mask_cipher_secret` with a given mask (for vectors) — `secret` is a
/// checked 32-character secret.
pub(crate) fn mask_with(secret: &str, mask: &str) -> String {
    let mut token = String::with_capacity(TOKEN_LEN);
    token.push_str(mask);
    for (s, m) in secret.bytes().zip(mask.bytes()) {
        let (s, m) = (index(s).unwrap_or(0), index(m).unwrap_or(0));
        token.push(CHARS[usize::from((s + m) % 62)] as char);
    }
    token
}

/// `_mask_cipher_secret`: the token a page carries for `secret`.
pub(crate) fn mask(secret: &str) -> String {
    mask_with(secret, &random_chars())
}

/// `_unmask_cipher_token` of a checked 64-character token.
pub(crate) fn unmask(token: &str) -> String {
    let (mask, cipher) = token.as_bytes().split_at(SECRET_LEN.min(token.len()));
    mask.iter()
        .zip(cipher)
        .map(|(m, c)| {
            let (m, c) = (index(*m).unwrap_or(0), index(*c).unwrap_or(0));
            CHARS[usize::from((c + 62 - m) % 62)] as char
        })
        .collect()
}

/// The secret a stored value holds: Django before 4.0 stored the masked
/// form, which is unmasked on read.
pub(crate) fn secret_of(stored: &str) -> Result<String, FormatError> {
    check_format(stored)?;
    Ok(if stored.len() == TOKEN_LEN {
        unmask(stored)
    } else {
        stored.to_owned()
    })
}

/// `_check_token_format` then `_does_token_match`, in constant time over
/// the secret.
pub(crate) fn token_matches(token: &str, secret: &str) -> Result<bool, FormatError> {
    check_format(token)?;
    let token = if token.len() == TOKEN_LEN {
        unmask(token)
    } else {
        token.to_owned()
    };
    Ok(token.as_bytes().ct_eq(secret.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_round_trips_and_never_repeats() {
        let secret = new_secret();
        assert!(check_format(&secret).is_ok());
        let (a, b) = (mask(&secret), mask(&secret));
        assert_ne!(a, b);
        assert_eq!(unmask(&a), secret);
        assert_eq!(token_matches(&b, &secret), Ok(true));
        assert_eq!(token_matches(&secret, &secret), Ok(true));
    }

    #[test]
    fn secrets_use_every_character() {
        let seen: std::collections::BTreeSet<char> = (0..200)
            .flat_map(|_| new_secret().chars().collect::<Vec<_>>())
            .collect();
        assert_eq!(seen.len(), 62);
    }

    #[test]
    fn bad_shapes_are_refused_with_djangos_reason() {
        assert_eq!(check_format("short"), Err(FormatError::Length));
        assert_eq!(check_format(&"a".repeat(33)), Err(FormatError::Length));
        assert_eq!(
            check_format(&format!("{}-", "a".repeat(31))),
            Err(FormatError::Characters)
        );
        assert_eq!(token_matches("", "x"), Err(FormatError::Length));
    }
}
