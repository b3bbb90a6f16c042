//! The layer on a plain tower service, no axum: a `service_fn` behind
//! `ServiceBuilder`, driven with `oneshot`.
//!
//! ```text
//! cargo run --example tower_only
//! ```

use std::convert::Infallible;

use http::{header, Request, Response, StatusCode};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_cookie_session::{Key, Session, SessionLayer};

async fn handle(req: Request<String>) -> Result<Response<String>, Infallible> {
    let session = req
        .extensions()
        .get::<Session>()
        .expect("SessionLayer is installed");
    let user: Option<String> = session.get("user").unwrap_or(None);
    let body = match (req.uri().path(), user) {
        ("/login", _) => {
            session.insert("user", "ada").expect("a string is JSON");
            "logged in".to_owned()
        }
        (_, Some(user)) => format!("hello {user}"),
        (_, None) => "hello stranger".to_owned(),
    };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .body(body)
        .expect("valid response"))
}

#[tokio::main]
async fn main() {
    let service = ServiceBuilder::new()
        .layer(SessionLayer::new(Key::generate()))
        .service(service_fn(handle));

    let login = service
        .clone()
        .oneshot(Request::get("/login").body(String::new()).unwrap())
        .await
        .unwrap();
    let set_cookie = login.headers()[header::SET_COOKIE].to_str().unwrap();
    println!("Set-Cookie: {set_cookie}");

    // A client sends back only `name=value`.
    let pair = set_cookie.split(';').next().unwrap();
    let again = service
        .oneshot(
            Request::get("/")
                .header(header::COOKIE, pair)
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    println!("{}", again.into_body().into_inner().unwrap_or_default());
}
