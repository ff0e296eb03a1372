//! The block explorer: an Esplora-compatible REST API over a [`SharedChain`].
//!
//! Routes (text bodies are `text/plain`, the rest JSON shaped as [`crate::dto`]):
//! `GET /blocks/tip/height`, `/blocks/tip/hash`, `/block/{hash}`, `/block/{hash}/txids`,
//! `/block-height/{height}`, `/tx/{txid}`, `/tx/{txid}/hex`, `/tx/{txid}/status`,
//! `/address/{address}`, `/address/{address}/txs`, `/address/{address}/utxo`, and
//! `POST /tx` (raw hex body) answering the txid or `400 sendrawtransaction RPC error: {…}`.
//! Handlers are thin: parse, lock the chain briefly (never across `.await`), convert.
//!
//! Differences from Esplora: `/address/{address}/txs` returns the whole history (no
//! 25-per-page paging), and re-posting a transaction already in the mempool answers its
//! txid (as Core's `sendrawtransaction` does) instead of an error.

use std::str::FromStr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use bitcoin::address::NetworkUnchecked;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Address, BlockHash, Txid};

use crate::chain::{SharedChain, lock};
use crate::dto::{AddressDto, BlockDto, StatusDto, TxDto, UtxoDto};
use crate::params::NETWORK;
use crate::reject::Reject;

/// The explorer's routes over `chain`.
pub fn router(chain: SharedChain) -> Router {
    Router::new()
        .route("/blocks/tip/height", get(tip_height))
        .route("/blocks/tip/hash", get(tip_hash))
        .route("/block/{hash}", get(block))
        .route("/block/{hash}/txids", get(block_txids))
        .route("/block-height/{height}", get(block_height))
        .route("/tx", post(post_tx))
        .route("/tx/{txid}", get(tx))
        .route("/tx/{txid}/hex", get(tx_hex))
        .route("/tx/{txid}/status", get(tx_status))
        .route("/address/{address}", get(address))
        .route("/address/{address}/txs", get(address_txs))
        .route("/address/{address}/utxo", get(address_utxo))
        .with_state(chain)
}

/// An error answer: a status and a plain-text message.
#[derive(Debug)]
enum ApiError {
    BadRequest(String),
    NotFound(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m).into_response(),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m).into_response(),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

fn parse_txid(s: &str) -> ApiResult<Txid> {
    Txid::from_str(s).map_err(|_| ApiError::BadRequest(format!("Invalid hex string: txid must be 64 hex digits, got {s:?}")))
}

fn parse_block_hash(s: &str) -> ApiResult<BlockHash> {
    BlockHash::from_str(s).map_err(|_| ApiError::BadRequest(format!("Invalid hex string: block hash must be 64 hex digits, got {s:?}")))
}

fn parse_address(s: &str) -> ApiResult<Address> {
    let unchecked: Address<NetworkUnchecked> = s.parse().map_err(|_| ApiError::BadRequest(format!("Invalid Bitcoin address: {s:?}")))?;
    unchecked
        .require_network(NETWORK)
        .map_err(|_| ApiError::BadRequest(format!("Address on invalid network: {s:?} is not a regtest (bcrt1…) address")))
}

async fn tip_height(State(chain): State<SharedChain>) -> String {
    lock(&chain).height().to_string()
}

async fn tip_hash(State(chain): State<SharedChain>) -> String {
    lock(&chain).tip_hash().to_string()
}

async fn block(State(chain): State<SharedChain>, Path(hash): Path<String>) -> ApiResult<Json<BlockDto>> {
    let hash = parse_block_hash(&hash)?;
    let c = lock(&chain);
    let height = c.block_height(&hash).ok_or_else(|| ApiError::NotFound("Block not found".into()))?;
    let block = c.block_at(height).ok_or_else(|| ApiError::NotFound("Block not found".into()))?;
    Ok(Json(BlockDto::new(&c, block, height)))
}

async fn block_txids(State(chain): State<SharedChain>, Path(hash): Path<String>) -> ApiResult<Json<Vec<Txid>>> {
    let hash = parse_block_hash(&hash)?;
    let c = lock(&chain);
    let block = c.block_by_hash(&hash).ok_or_else(|| ApiError::NotFound("Block not found".into()))?;
    Ok(Json(block.txdata.iter().map(|t| t.compute_txid()).collect()))
}

async fn block_height(State(chain): State<SharedChain>, Path(height): Path<String>) -> ApiResult<String> {
    let h: u32 = height.parse().map_err(|_| ApiError::BadRequest(format!("Invalid block height: {height:?}")))?;
    lock(&chain).block_hash_at(h).map(|b| b.to_string()).ok_or_else(|| ApiError::NotFound("Block not found".into()))
}

async fn tx(State(chain): State<SharedChain>, Path(txid): Path<String>) -> ApiResult<Json<TxDto>> {
    let txid = parse_txid(&txid)?;
    let c = lock(&chain);
    let info = c.tx(&txid).ok_or_else(|| ApiError::NotFound("Transaction not found".into()))?;
    Ok(Json(TxDto::new(&c, &info)))
}

async fn tx_hex(State(chain): State<SharedChain>, Path(txid): Path<String>) -> ApiResult<String> {
    let txid = parse_txid(&txid)?;
    let c = lock(&chain);
    let info = c.tx(&txid).ok_or_else(|| ApiError::NotFound("Transaction not found".into()))?;
    Ok(serialize_hex(&info.tx))
}

async fn tx_status(State(chain): State<SharedChain>, Path(txid): Path<String>) -> ApiResult<Json<StatusDto>> {
    let txid = parse_txid(&txid)?;
    let c = lock(&chain);
    let info = c.tx(&txid).ok_or_else(|| ApiError::NotFound("Transaction not found".into()))?;
    Ok(Json(info.status.into()))
}

async fn address(State(chain): State<SharedChain>, Path(addr): Path<String>) -> ApiResult<Json<AddressDto>> {
    let address = parse_address(&addr)?;
    let stats = lock(&chain).address_stats(&address);
    Ok(Json(AddressDto::new(&address, stats)))
}

async fn address_txs(State(chain): State<SharedChain>, Path(addr): Path<String>) -> ApiResult<Json<Vec<TxDto>>> {
    let address = parse_address(&addr)?;
    let c = lock(&chain);
    Ok(Json(c.address_txs(&address).iter().map(|i| TxDto::new(&c, i)).collect()))
}

async fn address_utxo(State(chain): State<SharedChain>, Path(addr): Path<String>) -> ApiResult<Json<Vec<UtxoDto>>> {
    let address = parse_address(&addr)?;
    let utxos = lock(&chain).address_utxos(&address);
    Ok(Json(utxos.iter().map(UtxoDto::from).collect()))
}

/// The body Core and Esplora send for a refused `sendrawtransaction`.
fn rpc_error(reject: &Reject) -> String {
    let obj = serde_json::json!({ "code": reject.rpc_code(), "message": reject.to_string() });
    format!("sendrawtransaction RPC error: {obj}")
}

async fn post_tx(State(chain): State<SharedChain>, body: String) -> Response {
    let result = lock(&chain).submit_tx_hex(&body);
    match result {
        Ok(txid) => txid.to_string().into_response(),
        // Like Core, re-sending a transaction already in the mempool succeeds.
        Err(Reject::AlreadyInMempool) => {
            match hex::decode(body.trim()).ok().and_then(|b| bitcoin::consensus::deserialize::<bitcoin::Transaction>(&b).ok()) {
                Some(tx) => tx.compute_txid().to_string().into_response(),
                None => (StatusCode::BAD_REQUEST, rpc_error(&Reject::DecodeFailed)).into_response(),
            }
        }
        Err(reject) => (StatusCode::BAD_REQUEST, rpc_error(&reject)).into_response(),
    }
}
