//! What the two login examples share: keys from the environment, the
//! `/submit` form handler, the form page and the server start-up. The
//! contract both halves of the live suite serve is in `tests/live/login.py`.

use std::env;
use std::net::{Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::http::{header::CONTENT_TYPE, HeaderMap, StatusCode};
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_cookie_session::csrf::CsrfToken;

/// A form field of an urlencoded body.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `POST /submit`: reached only when the CSRF layer accepted the token.
/// The text comes from the form or a JSON body.
pub(crate) async fn submit(headers: HeaderMap, body: Bytes) -> Result<Json<Value>, StatusCode> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let text = if json {
        serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_owned))
    } else {
        form_field(&body, "text")
    };
    Ok(Json(
        json!({ "ok": true, "text": text.unwrap_or_default() }),
    ))
}

/// `GET /form`: a form with the token in its hidden field.
pub(crate) async fn form(csrf: CsrfToken) -> Html<String> {
    Html(format!(
        "<form method=\"post\" action=\"/submit\">\
         <input type=\"hidden\" name=\"{}\" value=\"{}\">\
         <input name=\"text\"><button>Send</button></form>",
        csrf.field_name(),
        csrf.token()
    ))
}

/// Serves `app` (plus `/ping`) on `127.0.0.1:$PORT`, with the peer address
/// for Flask-Login's fingerprint.
pub(crate) async fn serve(name: &str, app: Router) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port: u16 = match env::var("PORT") {
        Ok(p) => p.parse()?,
        Err(_) => 3000,
    };
    let app = app.route("/ping", get(|| async { Json(json!({ "ok": true })) }));
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    println!("{name} listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
