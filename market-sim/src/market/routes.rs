//! The market's JSON API: thin axum handlers over the domain functions.
//!
//! Routes (bearer auth where marked 🔒):
//! - `POST /api/register`, `POST /api/login` `{username, password}` → `{token}`
//! - 🔒 `POST /api/vendor/shop` `{bio, pgp_key?, payout_address}` → 201, the vendor profile
//! - 🔒 `POST /api/listings` `{title, category, description, price_sat, ships_from, ships_to, stock}` → 201 `{id}`
//! - `GET /api/listings` → `[ListingSummary]`; `GET /api/listings/{id}` → `ListingDetail`
//! - `GET /api/vendors/{handle}` → `VendorProfile`
//! - 🔒 `POST /api/orders` `{listing_id, quantity, shipping_info}` → 201 `{order_id, escrow_address, amount_sat, status}`
//! - 🔒 `GET /api/orders` (the caller's purchases), `GET /api/orders/{id}`, `GET /api/vendor/orders`
//!   → `OrderView`(s), payment refreshed from the chain first
//! - 🔒 `POST /api/orders/{id}/ship`, `POST /api/orders/{id}/finalize` → `OrderView`
//! - 🔒 `POST /api/orders/{id}/feedback` `{rating, text}` → 201 `{id}`
//!
//! The chain is never awaited while the state lock is held.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::Serialize;

use super::accounts::{self, Credentials, User};
use super::orders::{self, NewFeedback, OrderHead, OrderPlaced, OrderStatus, OrderView, PlaceOrder};
use super::shop::{self, ListingDetail, ListingSummary, NewListing, OpenShop, VendorProfile};
use super::{MarketError, MarketService, escrow};
use crate::chain;
use crate::credentials::TokenResponse;
use crate::http_util::{ApiJson, ApiPath, bearer_token, method_not_allowed, not_found};

/// `{"id": n}` — the id of something just created.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// The new row's id.
    pub id: i64,
}

type ApiResult<T> = Result<T, MarketError>;

/// The market's router over `svc`.
pub fn router(svc: MarketService) -> Router {
    Router::new()
        .route("/api/register", post(register))
        .route("/api/login", post(login))
        .route("/api/vendor/shop", post(open_shop))
        .route("/api/vendor/orders", get(vendor_orders))
        .route("/api/listings", get(list_listings).post(create_listing))
        .route("/api/listings/{id}", get(get_listing))
        .route("/api/vendors/{handle}", get(vendor_profile))
        .route("/api/orders", get(my_orders).post(place_order))
        .route("/api/orders/{id}", get(get_order))
        .route("/api/orders/{id}/ship", post(ship))
        .route("/api/orders/{id}/finalize", post(finalize))
        .route("/api/orders/{id}/feedback", post(feedback))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(svc)
}

fn authenticate(svc: &MarketService, headers: &HeaderMap) -> ApiResult<User> {
    let st = svc.lock()?;
    accounts::authenticate(&st.conn, bearer_token(headers))
}

async fn register(State(svc): State<MarketService>, ApiJson(c): ApiJson<Credentials>) -> ApiResult<Json<TokenResponse>> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    let token = accounts::register(&st.conn, &mut st.rng, svc.inner.clock.now(), &c)?;
    Ok(Json(TokenResponse { token }))
}

async fn login(State(svc): State<MarketService>, ApiJson(c): ApiJson<Credentials>) -> ApiResult<Json<TokenResponse>> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    let token = accounts::login(&st.conn, &mut st.rng, svc.inner.clock.now(), &c)?;
    Ok(Json(TokenResponse { token }))
}

async fn open_shop(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenShop>,
) -> ApiResult<(StatusCode, Json<VendorProfile>)> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    shop::open_shop(&st.conn, svc.inner.clock.now(), &user, &req)?;
    Ok((StatusCode::CREATED, Json(shop::vendor_profile(&st.conn, &user.username)?)))
}

async fn create_listing(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewListing>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let user = authenticate(&svc, &headers)?;
    let st = svc.lock()?;
    let id = shop::create_listing(&st.conn, svc.inner.clock.now(), &user, &req)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
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

async fn place_order(
    State(svc): State<MarketService>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PlaceOrder>,
) -> ApiResult<(StatusCode, Json<OrderPlaced>)> {
    let user = authenticate(&svc, &headers)?;
    let mut st = svc.lock()?;
    let st = &mut *st;
    let now = svc.inner.clock.now();
    let (conn, wallet) = (&st.conn, &mut st.wallet);
    let placed = orders::place_order(conn, now, &user, &req, || {
        escrow::new_address(conn, wallet, escrow::PURPOSE_ORDER, now).map(|a| a.to_string())
    })?;
    Ok((StatusCode::CREATED, Json(placed)))
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
async fn refreshed_view(svc: &MarketService, user: &User, id: i64) -> ApiResult<OrderView> {
    let head = {
        let st = svc.lock()?;
        let head = orders::order_head(&st.conn, id)?;
        orders::party(&head, user)?;
        head
    };
    refresh_payment(svc, &head).await?;
    let st = svc.lock()?;
    orders::order_view(&st.conn, id)
}

async fn get_order(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<OrderView>> {
    let user = authenticate(&svc, &headers)?;
    Ok(Json(refreshed_view(&svc, &user, id).await?))
}

async fn my_orders(State(svc): State<MarketService>, headers: HeaderMap) -> ApiResult<Json<Vec<OrderView>>> {
    let user = authenticate(&svc, &headers)?;
    let ids = {
        let st = svc.lock()?;
        orders::buyer_order_ids(&st.conn, user.id)?
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(refreshed_view(&svc, &user, id).await?);
    }
    Ok(Json(out))
}

async fn vendor_orders(State(svc): State<MarketService>, headers: HeaderMap) -> ApiResult<Json<Vec<OrderView>>> {
    let user = authenticate(&svc, &headers)?;
    let ids = {
        let st = svc.lock()?;
        if !shop::is_vendor(&st.conn, user.id)? {
            return Err(MarketError::Forbidden("only vendors have vendor orders"));
        }
        orders::vendor_order_ids(&st.conn, user.id)?
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(refreshed_view(&svc, &user, id).await?);
    }
    Ok(Json(out))
}

async fn ship(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<OrderView>> {
    let user = authenticate(&svc, &headers)?;
    // A payment that arrived since the last look counts.
    let head = {
        let st = svc.lock()?;
        orders::order_head(&st.conn, id)?
    };
    if orders::party(&head, &user)? == orders::Party::Vendor {
        refresh_payment(&svc, &head).await?;
    }
    let st = svc.lock()?;
    orders::ship(&st.conn, svc.inner.clock.now(), &user, id)?;
    Ok(Json(orders::order_view(&st.conn, id)?))
}

async fn finalize(State(svc): State<MarketService>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<OrderView>> {
    let user = authenticate(&svc, &headers)?;
    let (claim, operator) = {
        let st = svc.lock()?;
        let claim = orders::begin_finalize(&st.conn, &user, id)?;
        (claim, escrow::operator_address(&st.conn))
    };
    let outcome = pay_out(&svc, &claim, operator).await;
    let st = svc.lock()?;
    match outcome {
        Ok((txid, commission, fee)) => {
            orders::complete_finalize(&st.conn, svc.inner.clock.now(), id, &txid, commission, fee)?;
            Ok(Json(orders::order_view(&st.conn, id)?))
        }
        Err(e) => {
            orders::abort_finalize(&st.conn, id)?;
            Err(e)
        }
    }
}

/// Builds, signs and broadcasts the payout of a claimed order; returns (txid, commission, fee).
async fn pay_out(svc: &MarketService, claim: &orders::FinalizeClaim, operator: ApiResult<String>) -> ApiResult<(String, u64, u64)> {
    let escrow_address = stored_address(&claim.escrow_address)?;
    let vendor = stored_address(&claim.vendor_payout_address)?;
    let operator = stored_address(&operator?)?;
    let utxos = chain::spendable(&svc.inner.chain, &escrow_address).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    let (tx, split) = {
        let st = svc.lock()?;
        escrow::build_payout(
            &st.wallet,
            &utxos,
            claim.amount_sat,
            svc.inner.config.commission_bps,
            svc.inner.config.feerate_sat_per_vb,
            &vendor,
            &operator,
        )?
    };
    let txid = chain::broadcast(&svc.inner.chain, &tx).await.map_err(|e| MarketError::Chain(e.to_string()))?;
    Ok((txid.to_string(), split.commission_sat, split.fee_sat))
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
