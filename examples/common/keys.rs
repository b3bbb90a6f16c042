//! The secret and its fallbacks from the environment, as the Python halves
//! of the live suites read them: `SECRET_KEY` (required) and
//! `SECRET_KEY_FALLBACKS` (comma-separated older keys, optional).

use std::env;

use tower_cookie_session::Key;

/// `SECRET_KEY` and `SECRET_KEY_FALLBACKS`.
pub(crate) fn keys_from_env() -> Result<(Key, Vec<Key>), Box<dyn std::error::Error>> {
    let secret = env::var("SECRET_KEY").map_err(|_| "SECRET_KEY must be set")?;
    let fallbacks = env::var("SECRET_KEY_FALLBACKS")
        .unwrap_or_default()
        .split(',')
        .filter(|k| !k.is_empty())
        .map(Key::new)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((Key::new(secret)?, fallbacks))
}
