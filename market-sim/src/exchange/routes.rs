//! The exchange's JSON API and legal-process endpoint: thin axum handlers.
//!
//! Routes:
//! - `POST /api/signup` `{username, password, kyc: {full_name, date_of_birth, email, phone, address}}` → `{token}`
//! - `POST /api/login` `{username, password}` → `{token}`
//! - 🔒 `GET /api/deposit-address` → `{address, created}` (fresh each call)
//! - 🔒 `GET /api/account` → `{username, balance_sat, deposit_addresses, deposits}` (deposits refreshed first)
//! - `GET /legal/records?address=…|?account=…` with `Authorization: Bearer <legal_token>` →
//!   [`super::legal::LegalRecords`] (deposits of the matching accounts refreshed first;
//!   dated records past the configured retention left out unless preserved)
//! - `POST /legal/preserve?address=…|?account=…` (same credential) → a preservation on record
//!
//! Client IP rule: `X-Forwarded-For` (first entry) if it parses, else the socket peer from
//! `ConnectInfo`, else `"unknown"`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use super::accounts::{self, Account, Login, Signup};
use super::deposits::{self, AccountView, NewDepositAddress};
use super::legal::{self, LegalRecords, RecordsQuery};
use super::{ExchangeError, ExchangeService};
use crate::chain;
use crate::credentials::TokenResponse;
use crate::http_util::{ApiJson, ApiQuery, bearer_token, client_ip, method_not_allowed, not_found, peer_of};
use crate::market::shop;

type ApiResult<T> = Result<T, ExchangeError>;

/// The exchange's router over `svc`.
pub fn router(svc: ExchangeService) -> Router {
    Router::new()
        .route("/api/signup", post(signup))
        .route("/api/login", post(login))
        .route("/api/deposit-address", get(deposit_address))
        .route("/api/account", get(account))
        .route("/legal/records", get(records))
        .route("/legal/preserve", post(preserve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(svc)
}

fn authenticate(svc: &ExchangeService, headers: &HeaderMap) -> ApiResult<Account> {
    let st = svc.lock()?;
    accounts::authenticate(&st.conn, bearer_token(headers))
}

async fn signup(
    State(svc): State<ExchangeService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(req): ApiJson<Signup>,
) -> ApiResult<Json<TokenResponse>> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    let token = accounts::signup(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &req)?;
    Ok(Json(TokenResponse { token }))
}

async fn login(
    State(svc): State<ExchangeService>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(req): ApiJson<Login>,
) -> ApiResult<Json<TokenResponse>> {
    let ip = client_ip(&headers, peer_of(info));
    let mut st = svc.lock()?;
    let st = &mut *st;
    let token = accounts::login(&st.conn, &mut st.rng, svc.inner.clock.now(), &ip, &req)?;
    Ok(Json(TokenResponse { token }))
}

async fn deposit_address(State(svc): State<ExchangeService>, headers: HeaderMap) -> ApiResult<Json<NewDepositAddress>> {
    let acct = authenticate(&svc, &headers)?;
    let mut st = svc.lock()?;
    let st = &mut *st;
    Ok(Json(deposits::new_deposit_address(&st.conn, &mut st.wallet, svc.inner.clock.now(), &acct)?))
}

/// Credits what the chain shows at each of `addresses`. A chain that cannot be reached
/// is logged and the records are served as they stand.
async fn refresh_deposits(svc: &ExchangeService, addresses: &[String]) -> ApiResult<()> {
    for a in addresses {
        let address =
            shop::parse_regtest_address(a).map_err(|_| ExchangeError::Internal(format!("stored address {a:?} does not parse")))?;
        match chain::outputs_to(&svc.inner.chain, &address).await {
            Ok(outputs) => {
                let st = svc.lock()?;
                deposits::credit(&st.conn, svc.inner.clock.now(), a, &outputs, svc.inner.config.min_confirmations)?;
            }
            Err(e) => tracing::warn!(address = %a, error = %e, "exchange: cannot check deposits"),
        }
    }
    Ok(())
}

fn addresses_of_accounts(svc: &ExchangeService, ids: &[i64]) -> ApiResult<Vec<String>> {
    let st = svc.lock()?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(deposits::addresses_of(&st.conn, *id)?.into_iter().map(|d| d.address));
    }
    Ok(out)
}

async fn account(State(svc): State<ExchangeService>, headers: HeaderMap) -> ApiResult<Json<AccountView>> {
    let acct = authenticate(&svc, &headers)?;
    let addresses = addresses_of_accounts(&svc, &[acct.id])?;
    refresh_deposits(&svc, &addresses).await?;
    let st = svc.lock()?;
    Ok(Json(deposits::account_view(&st.conn, &acct)?))
}

async fn records(
    State(svc): State<ExchangeService>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> ApiResult<Json<LegalRecords>> {
    legal::check_legal_token(&svc.inner.config.legal_token, bearer_token(&headers))?;
    q.validate()?;
    let ids = {
        let st = svc.lock()?;
        legal::matching_accounts(&st.conn, &q)?
    };
    let addresses = addresses_of_accounts(&svc, &ids)?;
    refresh_deposits(&svc, &addresses).await?;
    let st = svc.lock()?;
    Ok(Json(legal::produce_within(&st.conn, svc.inner.clock.now(), &svc.inner.config.name, svc.inner.config.retention, &q)?))
}

/// `POST /legal/preserve`: keep the records matching the query past retention.
async fn preserve(
    State(svc): State<ExchangeService>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> ApiResult<Json<crate::providers::legal::Preservation<RecordsQuery>>> {
    legal::check_legal_token(&svc.inner.config.legal_token, bearer_token(&headers))?;
    let st = svc.lock()?;
    Ok(Json(legal::preserve(&st.conn, svc.inner.clock.now(), &svc.inner.config.name, &q)?))
}
