//! The market's web pages: server-rendered HTML (minijinja templates in `templates/`,
//! HTML auto-escaping on) for browsers, and the same data as JSON on the same URLs for
//! programs that send `Accept: application/json` (the lab's workstation does).
//!
//! Pages: `/` (listings, categories, news; `?category=`, `?q=`), `/listing/{id}` (and
//! `/listing/{id}/photo.jpg`), `/vendor/{handle}`, `/login`, `/register` (with the
//! captcha, `/captcha/{id}.svg`), `/logout`, `/orders`, `/orders/{id}` (ship, finalize,
//! feedback, dispute forms), `/messages`, `/disputes`, `/news`, `/canary`, the vendor's
//! own `/sell` (open the shop with bio, OpenPGP key and payout address; put up a listing:
//! `POST /sell/shop`, `POST /sell/listings`), and the
//! operator side `/operator` (ban, unban, news, canary, dispute rulings, withdrawals).
//!
//! Browsers log in with a `session` cookie (`HttpOnly; SameSite=Strict`); programs may use
//! a bearer token on the same URLs. Form posts answer `303 See Other`; with
//! `Accept: application/json` they answer JSON. POST bodies may be forms or JSON.

use std::sync::OnceLock;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::accounts::{Credentials, User};
use super::disputes::{self, OpenDispute, Resolve};
use super::messages::{self, NewMessage};
use super::operator::{self, BanRequest, ExitRequest, WithdrawRequest};
use super::orders::{self, NewFeedback, PlaceOrder};
use super::routes::{self as flows, authenticate};
use super::site::{self, NewCanary, NewNews};
use super::{MarketError, MarketService, captcha, shop};
use crate::http_util::{ApiPath, ApiQuery, FormInput, error_response, wants_json};

/// The templates, compiled in.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("home.html", include_str!("templates/home.html")),
    ("listing.html", include_str!("templates/listing.html")),
    ("vendor.html", include_str!("templates/vendor.html")),
    ("login.html", include_str!("templates/login.html")),
    ("register.html", include_str!("templates/register.html")),
    ("orders.html", include_str!("templates/orders.html")),
    ("order.html", include_str!("templates/order.html")),
    ("messages.html", include_str!("templates/messages.html")),
    ("disputes.html", include_str!("templates/disputes.html")),
    ("news.html", include_str!("templates/news.html")),
    ("canary.html", include_str!("templates/canary.html")),
    ("sell.html", include_str!("templates/sell.html")),
    ("operator.html", include_str!("templates/operator.html")),
    ("error.html", include_str!("templates/error.html")),
];

/// The template environment (built once). `.html` templates auto-escape.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "market: template does not compile");
            }
        }
        env.add_filter("dc", |sat: u64| site::coins(sat));
        env.add_filter("usd", |sat: u64, rate: u64| site::usd(sat, rate));
        env
    })
}

/// The web routes (merged into the market's router).
pub(crate) fn routes() -> Router<MarketService> {
    Router::new()
        .route("/", get(home))
        .route("/listing/{id}", get(listing))
        .route("/listing/{id}/photo.jpg", get(listing_photo))
        .route("/vendor/{handle}", get(vendor))
        .route("/login", get(login_page).post(login))
        .route("/register", get(register_page).post(register))
        .route("/logout", post(logout))
        .route("/captcha/{file}", get(captcha_image))
        .route("/orders", get(orders_page).post(place_order))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/ship", post(ship))
        .route("/orders/{id}/finalize", post(finalize))
        .route("/orders/{id}/feedback", post(feedback))
        .route("/orders/{id}/dispute", post(dispute))
        .route("/messages", get(messages_page).post(send_message))
        .route("/disputes", get(disputes_page))
        .route("/news", get(news_page))
        .route("/canary", get(canary_page))
        .route("/sell", get(sell_page))
        .route("/sell/shop", post(open_shop))
        .route("/sell/listings", post(new_listing))
        .route("/operator", get(operator_page))
        .route("/operator/ban", post(ban))
        .route("/operator/unban", post(unban))
        .route("/operator/news", post(post_news))
        .route("/operator/canary", post(set_canary))
        .route("/operator/disputes/{id}/resolve", post(resolve))
        .route("/operator/withdraw", post(withdraw))
        .route("/operator/exit", post(exit))
}

/// The logged-in user, if any (a bad or banned session counts as none).
fn viewer(svc: &MarketService, headers: &HeaderMap) -> Option<User> {
    authenticate(svc, headers).ok()
}

/// Renders `template` with `data` (plus `site`: the market's name, the rate and the
/// viewer) — or answers `data` as JSON when asked.
fn page(svc: &MarketService, headers: &HeaderMap, status: StatusCode, template: &str, data: Value) -> Response {
    if wants_json(headers) {
        return (status, Json(data)).into_response();
    }
    let user = viewer(svc, headers);
    let cfg = &svc.inner.config;
    let site = json!({
        "name": cfg.name,
        "rate": site::rate(cfg.usd_cents_per_coin),
        "user": user.as_ref().map(|u| json!({"username": u.username, "operator": u.is_operator()})),
    });
    let ctx = minijinja::context! { site => minijinja::Value::from(Serde(site)), data => minijinja::Value::from(Serde(data)) };
    let rendered = env().get_template(template).and_then(|t| t.render(ctx));
    match rendered {
        Ok(html) => {
            let mut resp = (status, html).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            resp.headers_mut().insert(
                "content-security-policy",
                HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"),
            );
            resp.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            resp
        }
        Err(e) => {
            tracing::error!(template, error = %e, "market: template failed");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// A page's answer: the page, or the error as JSON or as an HTML error page.
fn finish(svc: &MarketService, headers: &HeaderMap, result: Result<Response, MarketError>) -> Response {
    match result {
        Ok(r) => r,
        Err(e) if wants_json(headers) => e.into_response(),
        Err(e) => {
            let status = e.status();
            let message = if matches!(e, MarketError::Chain(_)) {
                "coin network unavailable".to_string()
            } else if status.is_server_error() {
                tracing::error!(error = %e, "market: internal error");
                "internal error".to_string()
            } else {
                e.to_string()
            };
            page(svc, headers, status, "error.html", json!({"status": status.as_u16(), "message": message}))
        }
    }
}

/// After a form post: `303` to `to` for a browser, `body` as JSON for a program.
fn done(headers: &HeaderMap, to: &str, body: Value) -> Response {
    if wants_json(headers) { Json(body).into_response() } else { Redirect::to(to).into_response() }
}

fn json_of(v: impl Serialize) -> Result<Value, MarketError> {
    serde_json::to_value(v).map_err(|e| MarketError::Internal(e.to_string()))
}

// --- public pages -------------------------------------------------------------------

/// Query of the home page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Browse {
    /// Only this category.
    #[serde(default)]
    pub category: Option<String>,
    /// Titles containing this text.
    #[serde(default)]
    pub q: Option<String>,
}

async fn home(State(svc): State<MarketService>, headers: HeaderMap, ApiQuery(b): ApiQuery<Browse>) -> Response {
    let r = (|| {
        let st = svc.lock()?;
        let data = json!({
            "market": svc.inner.config.name,
            "rate": site::rate(svc.inner.config.usd_cents_per_coin),
            "categories": shop::categories(&st.conn)?,
            "listings": shop::browse(&st.conn, b.category.as_deref(), b.q.as_deref())?,
            "news": site::news(&st.conn, 3)?,
            "category": b.category,
            "q": b.q,
        });
        drop(st);
        Ok(page(&svc, &headers, StatusCode::OK, "home.html", data))
    })();
    finish(&svc, &headers, r)
}

async fn listing(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> Response {
    let r = (|| {
        let st = svc.lock()?;
        let l = shop::get_listing(&st.conn, id)?;
        drop(st);
        let mut data = json_of(&l)?;
        data["rate"] = json_of(site::rate(svc.inner.config.usd_cents_per_coin))?;
        Ok(page(&svc, &headers, StatusCode::OK, "listing.html", data))
    })();
    finish(&svc, &headers, r)
}

async fn listing_photo(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> Response {
    let r = (|| {
        let st = svc.lock()?;
        let bytes = shop::photo(&st.conn, id)?;
        Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "public, max-age=3600")], bytes).into_response())
    })();
    finish(&svc, &headers, r)
}

async fn vendor(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(handle): ApiPath<String>) -> Response {
    let r = (|| {
        let st = svc.lock()?;
        let p = shop::vendor_profile(&st.conn, &handle)?;
        drop(st);
        let mut data = json_of(&p)?;
        data["rate"] = json_of(site::rate(svc.inner.config.usd_cents_per_coin))?;
        Ok(page(&svc, &headers, StatusCode::OK, "vendor.html", data))
    })();
    finish(&svc, &headers, r)
}

async fn news_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let st = svc.lock()?;
        let data = json!({"news": site::news(&st.conn, 100)?});
        drop(st);
        Ok(page(&svc, &headers, StatusCode::OK, "news.html", data))
    })();
    finish(&svc, &headers, r)
}

async fn canary_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let st = svc.lock()?;
        let c = site::canary(&st.conn)?.ok_or(MarketError::NotFound("canary"))?;
        drop(st);
        Ok(page(&svc, &headers, StatusCode::OK, "canary.html", json_of(c)?))
    })();
    finish(&svc, &headers, r)
}

// --- accounts -----------------------------------------------------------------------

fn session_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("session={token}; Path=/; HttpOnly; SameSite=Strict"))
        .unwrap_or_else(|_| HeaderValue::from_static("session=; Path=/"))
}

fn logged_in(headers: &HeaderMap, token: String) -> Response {
    let cookie = session_cookie(&token);
    let mut resp = done(headers, "/", json!({"token": token}));
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    resp
}

async fn login_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    page(&svc, &headers, StatusCode::OK, "login.html", json!({}))
}

async fn login(State(svc): State<MarketService>, headers: HeaderMap, FormInput(c): FormInput<Credentials>) -> Response {
    let r = flows::do_login(&svc, &c).map(|t| logged_in(&headers, t));
    finish(&svc, &headers, r)
}

async fn register_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let challenge = if svc.inner.config.captcha_required {
            let mut st = svc.lock()?;
            let st = &mut *st;
            Some(captcha::new_challenge(&st.conn, &mut st.rng, svc.inner.clock.now())?)
        } else {
            None
        };
        Ok(page(&svc, &headers, StatusCode::OK, "register.html", json!({"captcha": challenge})))
    })();
    finish(&svc, &headers, r)
}

async fn register(State(svc): State<MarketService>, headers: HeaderMap, FormInput(c): FormInput<Credentials>) -> Response {
    let r = flows::do_register(&svc, &c).map(|t| logged_in(&headers, t));
    finish(&svc, &headers, r)
}

async fn logout(headers: HeaderMap) -> Response {
    let mut resp = done(&headers, "/", json!({"ok": true}));
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"));
    resp
}

async fn captcha_image(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(file): ApiPath<String>) -> Response {
    let r = (|| {
        let id = file.strip_suffix(".svg").ok_or(MarketError::NotFound("captcha"))?;
        let st = svc.lock()?;
        let svg = captcha::svg(&st.conn, id)?;
        Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-store")], svg).into_response())
    })();
    finish(&svc, &headers, r)
}

// --- orders -------------------------------------------------------------------------

async fn orders_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = async {
        let user = authenticate(&svc, &headers)?;
        let purchases = flows::purchases(&svc, &user).await?;
        let sales = flows::sales(&svc, &user, None).await?;
        Ok(page(&svc, &headers, StatusCode::OK, "orders.html", json!({"purchases": purchases, "sales": sales})))
    }
    .await;
    finish(&svc, &headers, r)
}

/// The order form's fields (numbers arrive as text from a form).
#[derive(Debug, Clone, Deserialize)]
pub struct OrderForm {
    /// The listing.
    pub listing_id: i64,
    /// Units.
    pub quantity: u32,
    /// Where to ship.
    pub shipping_info: String,
}

async fn place_order(State(svc): State<MarketService>, headers: HeaderMap, FormInput(f): FormInput<OrderForm>) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let req = PlaceOrder { listing_id: f.listing_id, quantity: f.quantity, shipping_info: f.shipping_info };
        let placed = flows::do_place_order(&svc, &user, &req)?;
        let to = format!("/orders/{}", placed.order_id);
        Ok(done(&headers, &to, json_of(&placed)?))
    })();
    finish(&svc, &headers, r)
}

async fn order_page(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> Response {
    let r = async {
        let user = authenticate(&svc, &headers)?;
        let view = flows::refreshed_view(&svc, &user, id).await?;
        let mut data = json_of(&view)?;
        data["is_buyer"] = json!(view.buyer == user.username);
        data["is_vendor"] = json!(view.vendor == user.username);
        Ok(page(&svc, &headers, StatusCode::OK, "order.html", data))
    }
    .await;
    finish(&svc, &headers, r)
}

/// The ship form's one optional field: the courier's tracking number.
#[derive(Debug, Clone, Deserialize)]
pub struct ShipForm {
    /// As the courier's receipt gives it; empty: none.
    #[serde(default)]
    pub tracking: String,
}

async fn ship(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    FormInput(f): FormInput<ShipForm>,
) -> Response {
    let r = async {
        let user = authenticate(&svc, &headers)?;
        let shipment = crate::market::orders::Shipment { tracking: Some(f.tracking) };
        let view = flows::do_ship(&svc, &user, id, &shipment).await?;
        Ok(done(&headers, &format!("/orders/{id}"), json_of(view)?))
    }
    .await;
    finish(&svc, &headers, r)
}

async fn finalize(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> Response {
    let r = async {
        let user = authenticate(&svc, &headers)?;
        let view = flows::do_finalize(&svc, &user, id).await?;
        Ok(done(&headers, &format!("/orders/{id}"), json_of(view)?))
    }
    .await;
    finish(&svc, &headers, r)
}

async fn feedback(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    FormInput(f): FormInput<NewFeedback>,
) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let st = svc.lock()?;
        let fid = orders::leave_feedback(&st.conn, svc.inner.clock.now(), &user, id, &f)?;
        Ok(done(&headers, &format!("/orders/{id}"), json!({"id": fid})))
    })();
    finish(&svc, &headers, r)
}

async fn dispute(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    FormInput(f): FormInput<OpenDispute>,
) -> Response {
    let r = async {
        let user = authenticate(&svc, &headers)?;
        let did = flows::do_dispute(&svc, &user, id, &f).await?;
        Ok(done(&headers, "/disputes", json!({"id": did})))
    }
    .await;
    finish(&svc, &headers, r)
}

async fn disputes_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let st = svc.lock()?;
        let list = disputes::list(&st.conn, &user)?;
        drop(st);
        Ok(page(&svc, &headers, StatusCode::OK, "disputes.html", json!({"disputes": list, "operator": user.is_operator()})))
    })();
    finish(&svc, &headers, r)
}

// --- messages -----------------------------------------------------------------------

async fn messages_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let st = svc.lock()?;
        let mailbox = messages::mailbox(&st.conn, &user)?;
        drop(st);
        Ok(page(&svc, &headers, StatusCode::OK, "messages.html", json_of(mailbox)?))
    })();
    finish(&svc, &headers, r)
}

async fn send_message(State(svc): State<MarketService>, headers: HeaderMap, FormInput(m): FormInput<NewMessage>) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let id = flows::do_send_message(&svc, &user, &m)?;
        Ok(done(&headers, "/messages", json!({"id": id})))
    })();
    finish(&svc, &headers, r)
}

// --- vendor -------------------------------------------------------------------------

async fn sell_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let st = svc.lock()?;
        let profile = match shop::vendor_profile(&st.conn, &user.username) {
            Ok(p) => Some(p),
            Err(MarketError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let bond = if profile.is_some() { shop::bond(&st.conn, user.id)? } else { None };
        drop(st);
        Ok(page(&svc, &headers, StatusCode::OK, "sell.html", json!({"profile": json_of(profile)?, "bond": json_of(bond)?})))
    })();
    finish(&svc, &headers, r)
}

/// The shop form's fields (an empty key field publishes no key).
#[derive(Debug, Clone, Deserialize)]
pub struct ShopForm {
    /// Profile text.
    pub bio: String,
    /// An armoured OpenPGP public key, or nothing.
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// Where escrow payouts go.
    pub payout_address: String,
}

async fn open_shop(State(svc): State<MarketService>, headers: HeaderMap, FormInput(f): FormInput<ShopForm>) -> Response {
    let r = (|| {
        let user = authenticate(&svc, &headers)?;
        let key = f.pgp_key.filter(|k| !k.trim().is_empty());
        let opened = flows::do_open_shop(&svc, &user, &shop::OpenShop { bio: f.bio, pgp_key: key, payout_address: f.payout_address })?;
        Ok(done(&headers, "/sell", json_of(opened)?))
    })();
    finish(&svc, &headers, r)
}

/// The listing form's fields (numbers arrive as text; the finalize-early box as `on`).
#[derive(Debug, Clone, Deserialize)]
pub struct ListingForm {
    /// Title.
    pub title: String,
    /// Category, e.g. `Drugs/Cannabis`.
    pub category: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Price per unit in satoshis.
    pub price_sat: u64,
    /// Origin.
    pub ships_from: String,
    /// Destinations.
    pub ships_to: String,
    /// Units in stock.
    pub stock: u32,
    /// `on` when buyers may finalize early.
    #[serde(default)]
    pub finalize_early: Option<String>,
}

async fn new_listing(State(svc): State<MarketService>, headers: HeaderMap, FormInput(f): FormInput<ListingForm>) -> Response {
    let r = async {
        let user = authenticate(&svc, &headers)?;
        let req = shop::NewListing {
            title: f.title,
            category: f.category,
            description: f.description,
            price_sat: f.price_sat,
            ships_from: f.ships_from,
            ships_to: f.ships_to,
            stock: f.stock,
            finalize_early: f.finalize_early.is_some_and(|v| !v.is_empty() && v != "false"),
            photo: None,
        };
        let id = flows::do_create_listing(&svc, &user, &req).await?;
        Ok(done(&headers, &format!("/listing/{id}"), json!({"id": id})))
    }
    .await;
    finish(&svc, &headers, r)
}

// --- operator -----------------------------------------------------------------------

fn operator_user(svc: &MarketService, headers: &HeaderMap) -> Result<User, MarketError> {
    let user = authenticate(svc, headers)?;
    operator::require_operator(&user)?;
    Ok(user)
}

async fn operator_page(State(svc): State<MarketService>, headers: HeaderMap) -> Response {
    let r = (|| {
        let user = operator_user(&svc, &headers)?;
        let st = svc.lock()?;
        let dash = operator::dashboard(&st.conn, &svc.inner.config)?;
        let disputes = disputes::list(&st.conn, &user)?;
        let canary = site::canary(&st.conn)?;
        drop(st);
        let mut data = json_of(dash)?;
        data["disputes"] = json_of(disputes)?;
        data["canary"] = json_of(canary)?;
        Ok(page(&svc, &headers, StatusCode::OK, "operator.html", data))
    })();
    finish(&svc, &headers, r)
}

async fn ban(State(svc): State<MarketService>, headers: HeaderMap, FormInput(b): FormInput<BanRequest>) -> Response {
    let r = (|| {
        let user = operator_user(&svc, &headers)?;
        let st = svc.lock()?;
        operator::set_banned(&st.conn, &user, &b.username, true)?;
        Ok(done(&headers, "/operator", json!({"banned": b.username})))
    })();
    finish(&svc, &headers, r)
}

async fn unban(State(svc): State<MarketService>, headers: HeaderMap, FormInput(b): FormInput<BanRequest>) -> Response {
    let r = (|| {
        let user = operator_user(&svc, &headers)?;
        let st = svc.lock()?;
        operator::set_banned(&st.conn, &user, &b.username, false)?;
        Ok(done(&headers, "/operator", json!({"unbanned": b.username})))
    })();
    finish(&svc, &headers, r)
}

async fn post_news(State(svc): State<MarketService>, headers: HeaderMap, FormInput(n): FormInput<NewNews>) -> Response {
    let r = (|| {
        let user = operator_user(&svc, &headers)?;
        let st = svc.lock()?;
        let id = site::post_news(&st.conn, svc.inner.clock.now(), &user, &n)?;
        Ok(done(&headers, "/news", json!({"id": id})))
    })();
    finish(&svc, &headers, r)
}

async fn set_canary(State(svc): State<MarketService>, headers: HeaderMap, FormInput(c): FormInput<NewCanary>) -> Response {
    let r = (|| {
        operator_user(&svc, &headers)?;
        let st = svc.lock()?;
        site::set_canary(&st.conn, svc.inner.clock.now(), &c)?;
        Ok(done(&headers, "/canary", json!({"ok": true})))
    })();
    finish(&svc, &headers, r)
}

async fn resolve(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    FormInput(req): FormInput<Resolve>,
) -> Response {
    let r = async {
        let user = operator_user(&svc, &headers)?;
        let view = flows::do_resolve(&svc, &user, id, req.ruling).await?;
        Ok(done(&headers, "/operator", json_of(view)?))
    }
    .await;
    finish(&svc, &headers, r)
}

async fn withdraw(State(svc): State<MarketService>, headers: HeaderMap, FormInput(req): FormInput<WithdrawRequest>) -> Response {
    let r = async {
        let user = operator_user(&svc, &headers)?;
        let txid = flows::do_withdraw(&svc, &user, &req).await?;
        Ok(done(&headers, "/operator", json!({"txid": txid})))
    }
    .await;
    finish(&svc, &headers, r)
}

async fn exit(State(svc): State<MarketService>, headers: HeaderMap, FormInput(req): FormInput<ExitRequest>) -> Response {
    let r = async {
        let user = operator_user(&svc, &headers)?;
        let sweep = flows::do_exit(&svc, &user, &req).await?;
        Ok(done(&headers, "/operator", json_of(sweep)?))
    }
    .await;
    finish(&svc, &headers, r)
}
