//! The market's router: the JSON API under `/api/`, the HTML pages and operator side
//! (in [`super::web`]), and the access log around all of it. Handlers stay thin over the
//! domain modules; the flows that must reach the chain (payment checks, payouts, bonds,
//! withdrawals) live here once and serve both the API and the pages.
//!
//! JSON API (bearer auth where marked 🔒; a browser's `session` cookie works too):
//! - `GET /api/captcha` → `{id, question, image_url}`
//! - `POST /api/register` `{username, password, captcha_id?, captcha_answer?}`, `POST /api/login` → `{token}`
//! - 🔒 `POST /api/vendor/shop` `{bio, pgp_key?, payout_address}` → 201, the vendor profile (+ `bond`)
//! - 🔒 `GET /api/vendor/bond` → `{bond_sat, address, paid_at}` (404 when no bond is asked)
//! - 🔒 `POST /api/listings` `{title, category, description, price_sat, ships_from, ships_to, stock,
//!   finalize_early?, photo?}` → 201 `{id}`
//! - 🔒 `POST /api/listings/{id}/photo` (body: JPEG bytes) → 201 `{id, photo_url}`
//! - `GET /api/listings` → `[ListingSummary]`; `GET /api/listings/{id}` → `ListingDetail`
//! - `GET /api/vendors/{handle}` → `VendorProfile`
//! - 🔒 `POST /api/orders` `{listing_id, quantity, shipping_info}` → 201 `{order_id, escrow_address, amount_sat, status}`
//! - 🔒 `GET /api/orders` (the caller's purchases), `GET /api/orders/{id}`, `GET /api/vendor/orders[?status=paid]`
//!   → `OrderView`(s), payment refreshed from the chain first (a vendor's listing refreshes
//!   only the orders still awaiting payment, and `status` keeps only orders in that state)
//! - 🔒 `POST /api/listings/{id}/stock` `{stock}` → 204 (the listing's vendor restocks)
//! - 🔒 `POST /api/orders/{id}/ship` (optional `{tracking}`: the courier's tracking number, shown
//!   to the buyer), `POST /api/orders/{id}/finalize` → `OrderView`
//! - 🔒 `POST /api/orders/{id}/feedback` `{rating, text}` → 201 `{id}`
//! - 🔒 `POST /api/orders/{id}/dispute` `{reason, refund_address}` → 201 `{id}`; `GET /api/disputes`
//! - 🔒 `GET /api/messages` → `{inbox, sent}`; `POST /api/messages` `{to, subject?, body, encrypt?}` → 201 `{id}`
//! - 🔒 `DELETE /api/messages/{id}` → 204 (its sender or recipient deletes it, for both)
//! - 🔒 `DELETE /api/listings/{id}` → `{deleted}` (its vendor takes it down: deleted without
//!   orders, else its stock emptied)
//! - `GET /api/news`, `GET /api/canary`
//!
//! The chain is never awaited while the state lock is held.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use super::accounts::{self, Credentials, User};
use super::disputes::{self, OpenDispute, Ruling};
use super::messages::{self, Mailbox, NewMessage};
use super::operator::{self, ExitRequest, ExitSweep, WithdrawRequest};
use super::orders::{self, NewFeedback, OrderHead, OrderPlaced, OrderStatus, OrderView, PlaceOrder, Shipment};
use super::shop::{self, Bond, ListingDetail, ListingSummary, NewListing, OpenShop, VendorProfile};
use super::site::{self, Canary, NewsPost};
use super::{MarketError, MarketService, captcha, escrow, photo, serverlog, web};
use crate::chain;
use crate::credentials::TokenResponse;
use crate::http_util::{ApiJson, ApiPath, ApiQuery, client_ip, method_not_allowed, not_found};

/// `{"id": n}` — the id of something just created.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// The new row's id.
    pub id: i64,
}

/// Answer to a photo upload.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoStored {
    /// The listing.
    pub id: i64,
    /// Where the photo is served.
    pub photo_url: String,
}

type ApiResult<T> = Result<T, MarketError>;

/// The market's router over `svc`.
pub fn router(svc: MarketService) -> Router {
    let api = Router::new()
        .route("/api/captcha", get(new_captcha))
        .route("/api/register", post(register))
        .route("/api/login", post(login))
        .route("/api/vendor/shop", post(open_shop))
        .route("/api/vendor/bond", get(my_bond))
        .route("/api/vendor/orders", get(vendor_orders))
        .route("/api/listings", get(list_listings).post(create_listing))
        .route("/api/listings/{id}", get(get_listing).delete(take_down))
        .route("/api/listings/{id}/photo", post(upload_photo))
        .route("/api/listings/{id}/stock", post(restock))
        .route("/api/vendors/{handle}", get(vendor_profile))
        .route("/api/orders", get(my_orders).post(place_order))
        .route("/api/orders/{id}", get(get_order))
        .route("/api/orders/{id}/ship", post(ship))
        .route("/api/orders/{id}/finalize", post(finalize))
        .route("/api/orders/{id}/feedback", post(feedback))
        .route("/api/orders/{id}/dispute", post(dispute))
        .route("/api/disputes", get(list_disputes))
        .route("/api/messages", get(mailbox).post(send_message))
        .route("/api/messages/{id}", axum::routing::delete(delete_message))
        .route("/api/news", get(news))
        .route("/api/canary", get(canary));
    web::routes()
        .merge(api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(svc.clone(), access_log))
        .with_state(svc)
}

/// Writes one access-log line per request, after the response is made.
async fn access_log(State(svc): State<MarketService>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path_and_query().map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| *a);
    let client = client_ip(req.headers(), peer);
    let response = next.run(req).await;
    let line = serverlog::LogLine { time: String::new(), method, path, status: response.status().as_u16(), client };
    match svc.lock() {
        Ok(st) => {
            if let Err(e) = serverlog::record(&st.conn, svc.inner.clock.now(), &line, svc.inner.config.log_retention) {
                tracing::warn!(error = %e, "market: cannot write the access log");
            }
        }
        Err(e) => tracing::warn!(error = %e, "market: cannot write the access log"),
    }
    response
}

/// The user behind the request's bearer token or session cookie; 401 without one.
pub(crate) fn authenticate(svc: &MarketService, headers: &HeaderMap) -> ApiResult<User> {
    let st = svc.lock()?;
    accounts::authenticate(&st.conn, crate::http_util::session_token(headers))
}

async fn new_captcha(State(svc): State<MarketService>) -> ApiResult<Json<captcha::Challenge>> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    Ok(Json(captcha::new_challenge(&st.conn, &mut st.rng, svc.inner.clock.now())?))
}

/// Registers an account; returns its session token.
pub(crate) fn do_register(svc: &MarketService, c: &Credentials) -> ApiResult<String> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    accounts::register(&st.conn, &mut st.rng, svc.inner.clock.now(), c, svc.inner.config.captcha_required)
}

/// Logs in; returns a session token.
pub(crate) fn do_login(svc: &MarketService, c: &Credentials) -> ApiResult<String> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    accounts::login(&st.conn, &mut st.rng, svc.inner.clock.now(), c)
}

async fn register(State(svc): State<MarketService>, ApiJson(c): ApiJson<Credentials>) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(TokenResponse { token: do_register(&svc, &c)? }))
}

async fn login(State(svc): State<MarketService>, ApiJson(c): ApiJson<Credentials>) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(TokenResponse { token: do_login(&svc, &c)? }))
}

/// The vendor profile plus the bond still to pay, as `POST /api/vendor/shop` answers.
#[derive(Debug, Clone, Serialize)]
pub struct ShopOpened {
    /// The profile.
    #[serde(flatten)]
    pub profile: VendorProfile,
    /// The bond to pay before listing, if the market asks one.
    pub bond: Option<Bond>,
}

async fn open_shop(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenShop>,
) -> ApiResult<(StatusCode, Json<ShopOpened>)> {
    let user = authenticate(&svc, &headers)?;
    Ok((StatusCode::CREATED, Json(do_open_shop(&svc, &user, &req)?)))
}

/// Opens `user`'s shop, with a bond address to pay when the market asks a bond.
pub(crate) fn do_open_shop(svc: &MarketService, user: &User, req: &OpenShop) -> ApiResult<ShopOpened> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    let now = svc.inner.clock.now();
    let bond_sat = svc.inner.config.vendor_bond_sat;
    let (conn, wallet) = (&st.conn, &mut st.wallet);
    shop::open_shop_with_bond(conn, now, user, req, || {
        if bond_sat == 0 {
            return Ok(None);
        }
        let a = escrow::new_address(conn, wallet, escrow::PURPOSE_BOND, now)?;
        Ok(Some((bond_sat, a.to_string())))
    })?;
    Ok(ShopOpened { profile: shop::vendor_profile(conn, &user.username)?, bond: shop::bond(conn, user.id)? })
}

/// Checks the chain for `user`'s unpaid bond and records it when confirmed.
pub(crate) async fn refresh_bond(svc: &MarketService, user: &User) -> ApiResult<Option<Bond>> {
    let bond = {
        let st = svc.lock()?;
        shop::bond(&st.conn, user.id)?
    };
    let Some(b) = bond else { return Ok(None) };
    if b.paid_at.is_some() {
        return Ok(Some(b));
    }
    let address = stored_address(&b.address)?;
    match chain::outputs_to(&svc.inner.chain, &address).await {
        Ok(outputs) => {
            let min = svc.inner.config.min_confirmations.max(1);
            let confirmed = outputs.iter().filter(|o| o.confirmations >= min).fold(0u64, |a, o| a.saturating_add(o.value_sat));
            let st = svc.lock()?;
            shop::apply_bond_payment(&st.conn, svc.inner.clock.now(), user.id, confirmed)?;
            Ok(shop::bond(&st.conn, user.id)?)
        }
        Err(e) => {
            tracing::warn!(error = %e, "market: cannot check a vendor bond");
            Ok(Some(b))
        }
    }
}

async fn my_bond(State(svc): State<MarketService>, headers: HeaderMap) -> ApiResult<Json<Bond>> {
    let user = authenticate(&svc, &headers)?;
    Ok(Json(refresh_bond(&svc, &user).await?.ok_or(MarketError::NotFound("bond"))?))
}

/// Creates a listing (checking the bond on the chain first) and draws its photo if asked.
pub(crate) async fn do_create_listing(svc: &MarketService, user: &User, req: &NewListing) -> ApiResult<i64> {
    refresh_bond(svc, user).await?;
    let mut st = svc.lock()?;
    let st = &mut *st;
    let now = svc.inner.clock.now();
    // Draw the photo first so a bad spec leaves nothing behind.
    let picture = match &req.photo {
        None => None,
        Some(spec) => {
            let seed = match &spec.seed {
                Some(h) => {
                    let bytes = hex::decode(h.trim()).map_err(|_| MarketError::BadInput("photo.seed must be 64 hex characters".into()))?;
                    <[u8; 32]>::try_from(bytes.as_slice())
                        .map_err(|_| MarketError::BadInput("photo.seed must be 64 hex characters".into()))?
                }
                None => sim_core::rng::bytes32(&mut st.rng),
            };
            let (w, h) = (spec.width.unwrap_or(480), spec.height.unwrap_or(360));
            let made = match &spec.exif {
                Some(exif) => photo::render_listing_photo(seed, w, h, exif),
                None => photo::render_plain_photo(seed, w, h),
            };
            Some(made.map_err(|e| MarketError::BadInput(format!("photo: {e}")))?)
        }
    };
    let tx = st.conn.unchecked_transaction()?;
    let id = shop::create_listing(&tx, now, user, req)?;
    if let Some(bytes) = picture {
        shop::set_photo(&tx, now, user, id, &bytes)?;
    }
    tx.commit()?;
    Ok(id)
}

async fn create_listing(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewListing>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let user = authenticate(&svc, &headers)?;
    let id = do_create_listing(&svc, &user, &req).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

async fn upload_photo(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<PhotoStored>)> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    shop::set_photo(&st.conn, svc.inner.clock.now(), &user, id, &body)?;
    Ok((StatusCode::CREATED, Json(PhotoStored { id, photo_url: shop::photo_url(id) })))
}

async fn restock(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<shop::Restock>,
) -> ApiResult<StatusCode> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    shop::restock(&st.conn, &user, id, req.stock)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn take_down(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<serde_json::Value>> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    Ok(Json(serde_json::json!({"deleted": shop::take_down(&st.conn, &user, id)?})))
}

async fn list_listings(State(svc): State<MarketService>) -> ApiResult<Json<Vec<ListingSummary>>> {
    let st = svc.lock()?;
    Ok(Json(shop::list_listings(&st.conn)?))
}

async fn get_listing(State(svc): State<MarketService>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<ListingDetail>> {
    let st = svc.lock()?;
    Ok(Json(shop::get_listing(&st.conn, id)?))
}

async fn vendor_profile(State(svc): State<MarketService>, ApiPath(handle): ApiPath<String>) -> ApiResult<Json<VendorProfile>> {
    let st = svc.lock()?;
    Ok(Json(shop::vendor_profile(&st.conn, &handle)?))
}

/// Places an order with a fresh escrow address.
pub(crate) fn do_place_order(svc: &MarketService, user: &User, req: &PlaceOrder) -> ApiResult<OrderPlaced> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    let now = svc.inner.clock.now();
    let (conn, wallet) = (&st.conn, &mut st.wallet);
    orders::place_order(conn, now, user, req, || escrow::new_address(conn, wallet, escrow::PURPOSE_ORDER, now).map(|a| a.to_string()))
}

async fn place_order(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PlaceOrder>,
) -> ApiResult<(StatusCode, Json<OrderPlaced>)> {
    let user = authenticate(&svc, &headers)?;
    Ok((StatusCode::CREATED, Json(do_place_order(&svc, &user, &req)?)))
}

/// Checks the chain for an awaiting order's escrow payment and records it. A chain that
/// cannot be reached is logged and the order is served as it stands.
async fn refresh_payment(svc: &MarketService, head: &OrderHead) -> ApiResult<()> {
    if head.status != OrderStatus::AwaitingPayment {
        return Ok(());
    }
    let address = stored_address(&head.escrow_address)?;
    match chain::outputs_to(&svc.inner.chain, &address).await {
        Ok(outputs) => {
            let st = svc.lock()?;
            orders::apply_payment(&st.conn, svc.inner.clock.now(), head.id, &outputs, svc.inner.config.min_confirmations)?;
        }
        Err(e) => tracing::warn!(order = head.id, error = %e, "market: cannot check escrow payment"),
    }
    Ok(())
}

fn stored_address(s: &str) -> ApiResult<bitcoin::Address> {
    shop::parse_regtest_address(s).map_err(|_| MarketError::Internal(format!("stored address {s:?} does not parse")))
}

/// Loads an order the caller is party to, refreshes its payment and returns its view.
pub(crate) async fn refreshed_view(svc: &MarketService, user: &User, id: i64) -> ApiResult<OrderView> {
    let head = {
        let st = svc.lock()?;
        let head = orders::order_head(&st.conn, id)?;
        if !user.is_operator() {
            orders::party(&head, user)?;
        }
        head
    };
    refresh_payment(svc, &head).await?;
    let st = svc.lock()?;
    orders::order_view(&st.conn, id)
}

/// The caller's purchases (refreshed), by id.
pub(crate) async fn purchases(svc: &MarketService, user: &User) -> ApiResult<Vec<OrderView>> {
    let ids = {
        let st = svc.lock()?;
        orders::buyer_order_ids(&st.conn, user.id)?
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(refreshed_view(svc, user, id).await?);
    }
    Ok(out)
}

/// The caller's sales (refreshed), by id; empty for a non-vendor. With `only`, just the
/// orders in that state: the chain is asked about the orders awaiting payment alone (the
/// others cannot change by a payment), then one indexed query picks the wanted ones.
pub(crate) async fn sales(svc: &MarketService, user: &User, only: Option<OrderStatus>) -> ApiResult<Vec<OrderView>> {
    let Some(status) = only else {
        let ids = {
            let st = svc.lock()?;
            orders::vendor_order_ids(&st.conn, user.id)?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(refreshed_view(svc, user, id).await?);
        }
        return Ok(out);
    };
    let awaiting = {
        let st = svc.lock()?;
        orders::vendor_order_ids_in(&st.conn, user.id, OrderStatus::AwaitingPayment)?
    };
    for id in awaiting {
        let head = {
            let st = svc.lock()?;
            orders::order_head(&st.conn, id)?
        };
        refresh_payment(svc, &head).await?;
    }
    let st = svc.lock()?;
    orders::vendor_order_ids_in(&st.conn, user.id, status)?.into_iter().map(|id| orders::order_view(&st.conn, id)).collect()
}

/// `?status=` of a vendor's order listing.
#[derive(Debug, Clone, serde::Deserialize)]
struct SalesQuery {
    status: Option<String>,
}

async fn get_order(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<OrderView>> {
    let user = authenticate(&svc, &headers)?;
    Ok(Json(refreshed_view(&svc, &user, id).await?))
}

async fn my_orders(State(svc): State<MarketService>, headers: HeaderMap) -> ApiResult<Json<Vec<OrderView>>> {
    let user = authenticate(&svc, &headers)?;
    Ok(Json(purchases(&svc, &user).await?))
}

async fn vendor_orders(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SalesQuery>,
) -> ApiResult<Json<Vec<OrderView>>> {
    let user = authenticate(&svc, &headers)?;
    let only = match q.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| MarketError::BadInput(format!("no order status {s:?}")))?),
    };
    {
        let st = svc.lock()?;
        if !shop::is_vendor(&st.conn, user.id)? {
            return Err(MarketError::Forbidden("only vendors have vendor orders"));
        }
    }
    Ok(Json(sales(&svc, &user, only).await?))
}

/// The vendor ships (counting a payment that arrived since the last look), with the
/// courier's tracking number if given.
pub(crate) async fn do_ship(svc: &MarketService, user: &User, id: i64, shipment: &Shipment) -> ApiResult<OrderView> {
    let head = {
        let st = svc.lock()?;
        orders::order_head(&st.conn, id)?
    };
    if orders::party(&head, user)? == orders::Party::Vendor {
        refresh_payment(svc, &head).await?;
    }
    let st = svc.lock()?;
    orders::ship(&st.conn, svc.inner.clock.now(), user, id, shipment)?;
    orders::order_view(&st.conn, id)
}

/// The body is optional: none, or `{"tracking": "…"}`.
async fn ship(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>, body: Bytes) -> ApiResult<Json<OrderView>> {
    let user = authenticate(&svc, &headers)?;
    let shipment = if body.iter().all(u8::is_ascii_whitespace) {
        Shipment::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| MarketError::BadInput("the body must be {\"tracking\": \"…\"} or empty".into()))?
    };
    Ok(Json(do_ship(&svc, &user, id, &shipment).await?))
}

/// The buyer finalizes (or finalizes early): the escrow is paid out to the vendor.
pub(crate) async fn do_finalize(svc: &MarketService, user: &User, id: i64) -> ApiResult<OrderView> {
    let head = {
        let st = svc.lock()?;
        orders::order_head(&st.conn, id)?
    };
    if orders::party(&head, user)? == orders::Party::Buyer {
        refresh_payment(svc, &head).await?;
    }
    let (claim, operator) = {
        let st = svc.lock()?;
        let claim = orders::begin_finalize(&st.conn, user, id)?;
        (claim, escrow::operator_address(&st.conn))
    };
    let outcome = pay_out(svc, &claim.escrow_address, claim.amount_sat, &claim.vendor_payout_address, operator, true).await;
    let st = svc.lock()?;
    match outcome {
        Ok((txid, commission, fee)) => {
            orders::complete_finalize(&st.conn, svc.inner.clock.now(), id, &txid, commission, fee)?;
            orders::order_view(&st.conn, id)
        }
        Err(e) => {
            orders::abort_finalize(&st.conn, id)?;
            Err(e)
        }
    }
}

async fn finalize(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<OrderView>> {
    let user = authenticate(&svc, &headers)?;
    Ok(Json(do_finalize(&svc, &user, id).await?))
}

/// Builds, signs and broadcasts the sweep of an escrow address to `to` (with the
/// operator's commission when `commission`); returns (txid, commission, fee).
async fn pay_out(
    svc: &MarketService,
    escrow_address: &str,
    amount_sat: u64,
    to: &str,
    operator: ApiResult<String>,
    commission: bool,
) -> ApiResult<(String, u64, u64)> {
    let escrow_address = stored_address(escrow_address)?;
    let to = stored_address(to)?;
    let operator = stored_address(&operator?)?;
    let utxos = chain::spendable(&svc.inner.chain, &escrow_address).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    let bps = if commission { svc.inner.config.commission_bps } else { 0 };
    let (tx, split) = {
        let st = svc.lock()?;
        escrow::build_payout(&st.wallet, &utxos, amount_sat, bps, svc.inner.config.feerate_sat_per_vb, &to, &operator)?
    };
    let txid = chain::broadcast(&svc.inner.chain, &tx).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    Ok((txid.to_string(), split.commission_sat, split.fee_sat))
}

/// The operator carries out a ruling on a dispute: release to the vendor or refund.
pub(crate) async fn do_resolve(svc: &MarketService, user: &User, dispute_id: i64, ruling: Ruling) -> ApiResult<OrderView> {
    let (claim, operator) = {
        let st = svc.lock()?;
        let claim = disputes::begin_ruling(&st.conn, user, dispute_id, ruling)?;
        (claim, escrow::operator_address(&st.conn))
    };
    let commission = claim.ruling == Ruling::Vendor;
    let outcome = pay_out(svc, &claim.escrow_address, claim.amount_sat, &claim.to_address, operator, commission).await;
    let st = svc.lock()?;
    match outcome {
        Ok((txid, commission, fee)) => {
            disputes::complete_ruling(&st.conn, svc.inner.clock.now(), user, &claim, &txid, commission, fee)?;
            orders::order_view(&st.conn, claim.order_id)
        }
        Err(e) => {
            orders::abort_finalize(&st.conn, claim.order_id)?;
            Err(e)
        }
    }
}

/// The operator withdraws commission from the commission address.
pub(crate) async fn do_withdraw(svc: &MarketService, user: &User, req: &WithdrawRequest) -> ApiResult<String> {
    operator::require_operator(user)?;
    let to = shop::parse_regtest_address(&req.address)?;
    if req.amount_sat == 0 || req.amount_sat > shop::MAX_SAT {
        return Err(MarketError::BadInput("amount_sat must be positive".into()));
    }
    let from = {
        let st = svc.lock()?;
        stored_address(&escrow::operator_address(&st.conn)?)?
    };
    let utxos = chain::spendable(&svc.inner.chain, &from).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    let tx = {
        let st = svc.lock()?;
        st.wallet
            .build_and_sign(&utxos, &[(to, req.amount_sat)], svc.inner.config.feerate_sat_per_vb, &from)
            .map_err(|e| MarketError::Conflict(format!("cannot withdraw: {e}")))?
    };
    let txid = chain::broadcast(&svc.inner.chain, &tx).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    let st = svc.lock()?;
    operator::record_withdrawal(&st.conn, svc.inner.clock.now(), req, &txid.to_string())?;
    Ok(txid.to_string())
}

/// The operator's exit: sweeps the escrow of every open order (paid, shipped, disputed) to
/// `req.address` in one transaction signed by the escrow wallet, and records it among the
/// withdrawals (the operator's own books). 409 when no escrow holds coins.
pub(crate) async fn do_exit(svc: &MarketService, user: &User, req: &ExitRequest) -> ApiResult<ExitSweep> {
    operator::require_operator(user)?;
    let to = shop::parse_regtest_address(&req.address)?;
    let open = {
        let st = svc.lock()?;
        orders::open_escrows(&st.conn)?
    };
    let mut utxos = Vec::new();
    let mut swept = Vec::new();
    for (id, address) in &open {
        let found = chain::spendable(&svc.inner.chain, &stored_address(address)?).await.map_err(|e| MarketError::Chain(e.to_string()))?;
        if !found.is_empty() {
            swept.push(*id);
            utxos.extend(found);
        }
    }
    let total: u64 = utxos.iter().map(|u| u.value_sat).sum();
    let (tx, split) = {
        let st = svc.lock()?;
        escrow::build_payout(&st.wallet, &utxos, total, 0, svc.inner.config.feerate_sat_per_vb, &to, &to)?
    };
    let txid = chain::broadcast(&svc.inner.chain, &tx).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    let st = svc.lock()?;
    let record = WithdrawRequest { address: req.address.clone(), amount_sat: split.vendor_sat };
    operator::record_withdrawal(&st.conn, svc.inner.clock.now(), &record, &txid.to_string())?;
    tracing::warn!(orders = swept.len(), amount_sat = split.vendor_sat, "market: the operator swept every open escrow");
    Ok(ExitSweep { txid: txid.to_string(), orders: swept, amount_sat: split.vendor_sat })
}

async fn feedback(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewFeedback>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    let fid = orders::leave_feedback(&st.conn, svc.inner.clock.now(), &user, id, &req)?;
    Ok((StatusCode::CREATED, Json(Created { id: fid })))
}

async fn dispute(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<OpenDispute>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let user = authenticate(&svc, &headers)?;
    Ok((StatusCode::CREATED, Json(Created { id: do_dispute(&svc, &user, id, &req).await? })))
}

/// The buyer opens a dispute (counting a payment that arrived since the last look).
pub(crate) async fn do_dispute(svc: &MarketService, user: &User, id: i64, req: &OpenDispute) -> ApiResult<i64> {
    let head = {
        let st = svc.lock()?;
        orders::order_head(&st.conn, id)?
    };
    if orders::party(&head, user)? == orders::Party::Buyer {
        refresh_payment(svc, &head).await?;
    }
    let st = svc.lock()?;
    disputes::open(&st.conn, svc.inner.clock.now(), user, id, req)
}

async fn list_disputes(State(svc): State<MarketService>, headers: HeaderMap) -> ApiResult<Json<Vec<disputes::DisputeView>>> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    Ok(Json(disputes::list(&st.conn, &user)?))
}

/// Sends a private message (encrypting with a seed from the service RNG when asked).
pub(crate) fn do_send_message(svc: &MarketService, user: &User, req: &NewMessage) -> ApiResult<i64> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    let seed = if req.encrypt { sim_core::rng::bytes32(&mut st.rng) } else { [0; 32] };
    messages::send(&st.conn, svc.inner.clock.now(), user, req, seed)
}

async fn mailbox(State(svc): State<MarketService>, headers: HeaderMap) -> ApiResult<Json<Mailbox>> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    Ok(Json(messages::mailbox(&st.conn, &user)?))
}

async fn send_message(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let user = authenticate(&svc, &headers)?;
    Ok((StatusCode::CREATED, Json(Created { id: do_send_message(&svc, &user, &req)? })))
}

async fn delete_message(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    messages::delete(&st.conn, &user, id)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn news(State(svc): State<MarketService>) -> ApiResult<Json<Vec<NewsPost>>> {
    let st = svc.lock()?;
    Ok(Json(site::news(&st.conn, 100)?))
}

async fn canary(State(svc): State<MarketService>) -> ApiResult<Json<Canary>> {
    let st = svc.lock()?;
    Ok(Json(site::canary(&st.conn)?.ok_or(MarketError::NotFound("canary"))?))
}
