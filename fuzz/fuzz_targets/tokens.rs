//! The CSRF and login token parsers on hostile input: Django's masked
//! tokens and Origin/Referer, Flask-WTF's signed tokens, Flask-Login's
//! remember cookie, the form field lookup. Nothing panics, and what each
//! side issues, it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tower_cookie_session::fuzzing::tokens(data);
});
