//! Rate limits on what a stranger can abuse without a key: registering (filling the store,
//! probing ID numbers) and signing in (guessing passwords and keys). Per client address,
//! a burst and then a steady rate (GCRA); over it, 429 with `Retry-After`. Checkpoints'
//! routes (codes, verification, the trust list) are left unlimited: they are meant for
//! volume, and their keys are 192 random bits. Behind a reverse proxy every client has
//! the proxy's address: limit there instead (`X-Forwarded-For` is not trusted here).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ApiError;

/// How many registrations and sign-in attempts one address may make per minute (each
/// also the burst allowed at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub registrations_per_minute: u32,
    pub sign_ins_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings { registrations_per_minute: 30, sign_ins_per_minute: 10 }
    }
}

pub struct Limits {
    registrations: DefaultKeyedRateLimiter<IpAddr>,
    sign_ins: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"))
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Arc<Self> {
        Arc::new(Limits {
            registrations: RateLimiter::keyed(per_minute(settings.registrations_per_minute)),
            sign_ins: RateLimiter::keyed(per_minute(settings.sign_ins_per_minute)),
        })
    }

    fn limiter_for(&self, method: &Method, path: &str) -> Option<(&DefaultKeyedRateLimiter<IpAddr>, &'static str)> {
        if method != Method::POST {
            return None;
        }
        match path {
            "/v1/persons" | "/register" | "/v1/me/dependants" | "/family" | "/v1/conversions" | "/visit" => {
                Some((&self.registrations, "registrations"))
            }
            "/v1/login" | "/staff/login" | "/signin" => Some((&self.sign_ins, "sign-in attempts")),
            _ => None,
        }
    }
}

/// The middleware: counts the request against its address, or answers 429.
pub(crate) async fn limit(State(limits): State<Option<Arc<Limits>>>, request: Request, next: Next) -> Response {
    let Some(limits) = limits else { return next.run(request).await };
    let address = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    if let (Some(address), Some((limiter, what))) =
        (address, limits.limiter_for(request.method(), request.uri().path()))
    {
        if let Err(not_until) = limiter.check_key(&address) {
            let wait = not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
            let message = format!("too many {what} from your address; try again in {wait} s");
            let mut response = if request.uri().path().starts_with("/v1/") {
                ApiError::TooManyRequests(message).into_response()
            } else {
                // A page's form: a page in answer, in both languages (no visitor settings here).
                let html = format!(
                    "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
                     content=\"width=device-width, initial-scale=1\"><title>请稍后再试 / Try again later</title></head>\
                     <body><main><h1>请稍后再试</h1><p>来自您网络地址的请求过多，请 {wait} 秒后再试。</p>\
                     <p lang=\"en\">{message}.</p><p><a href=\"/\">首页 / Home</a></p></main></body></html>"
                );
                (axum::http::StatusCode::TOO_MANY_REQUESTS, axum::response::Html(html)).into_response()
            };
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    }
    next.run(request).await
}
