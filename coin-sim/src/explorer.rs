//! The block explorer: an Esplora-compatible REST API over a [`SharedChain`].
//!
//! Routes (text bodies are `text/plain`, binary `application/octet-stream`, the rest JSON
//! shaped as [`crate::dto`]):
//! - blocks: `GET /blocks/tip/height`, `/blocks/tip/hash`, `/block/{hash}`,
//!   `/block/{hash}/txids`, `/block/{hash}/header` (hex), `/block/{hash}/raw`,
//!   `/block/{hash}/status`, `/block-height/{height}`;
//! - transactions: `GET /tx/{txid}`, `/tx/{txid}/hex`, `/tx/{txid}/raw`, `/tx/{txid}/status`,
//!   `/tx/{txid}/outspends`, `/tx/{txid}/outspend/{vout}`, and `POST /tx` (raw hex body)
//!   answering the txid or `400 sendrawtransaction RPC error: {…}`;
//! - addresses: `GET /address/{address}`, `/address/{address}/txs` (up to 50 mempool then
//!   the newest 25 confirmed), `/address/{address}/txs/chain[/{last_seen_txid}]` (the next 25
//!   confirmed), `/address/{address}/txs/mempool`, `/address/{address}/utxo`;
//! - mempool and fees: `GET /mempool`, `/mempool/txids`, `/fee-estimates`.
//!
//! Handlers are thin: parse, lock the chain briefly (never across `.await`), convert.
//! Difference from Esplora: re-posting a transaction already in the mempool answers its
//! txid (as Core's `sendrawtransaction` does) instead of an error.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use bitcoin::address::NetworkUnchecked;
use bitcoin::consensus::encode::{serialize, serialize_hex};
use bitcoin::{Address, BlockHash, OutPoint, Txid};

use crate::chain::{SharedChain, lock};
use crate::dto::{AddressDto, BlockDto, BlockStatusDto, MempoolDto, OutspendDto, StatusDto, TxDto, UtxoDto};
use crate::params::NETWORK;
use crate::query::{CHAIN_TXS_PER_PAGE, MEMPOOL_TXS_PER_PAGE, Outspend};
use crate::reject::Reject;

/// The explorer's routes over `chain`.
pub fn router(chain: SharedChain) -> Router {
    Router::new()
        .route("/blocks/tip/height", get(tip_height))
        .route("/blocks/tip/hash", get(tip_hash))
        .route("/block/{hash}", get(block))
        .route("/block/{hash}/txids", get(block_txids))
        .route("/block/{hash}/header", get(block_header))
        .route("/block/{hash}/raw", get(block_raw))
        .route("/block/{hash}/status", get(block_status))
        .route("/block-height/{height}", get(block_height))
        .route("/tx", post(post_tx))
        .route("/tx/{txid}", get(tx))
        .route("/tx/{txid}/hex", get(tx_hex))
        .route("/tx/{txid}/status", get(tx_status))
        .route("/tx/{txid}/raw", get(tx_raw))
        .route("/tx/{txid}/outspends", get(tx_outspends))
        .route("/tx/{txid}/outspend/{vout}", get(tx_outspend))
        .route("/address/{address}", get(address))
        .route("/address/{address}/txs", get(address_txs))
        .route("/address/{address}/txs/chain", get(address_txs_chain_first))
        .route("/address/{address}/txs/chain/{last_seen}", get(address_txs_chain))
        .route("/address/{address}/txs/mempool", get(address_txs_mempool))
        .route("/mempool", get(mempool))
        .route("/mempool/txids", get(mempool_txids))
        .route("/fee-estimates", get(fee_estimates))
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
    let spk = parse_address(&addr)?.script_pubkey();
    let c = lock(&chain);
    let mut infos = c.script_mempool_txs(&spk, MEMPOOL_TXS_PER_PAGE);
    infos.extend(c.script_chain_txs(&spk, None, CHAIN_TXS_PER_PAGE).unwrap_or_default());
    Ok(Json(infos.iter().map(|i| TxDto::new(&c, i)).collect()))
}

async fn address_txs_chain_first(State(chain): State<SharedChain>, Path(addr): Path<String>) -> ApiResult<Json<Vec<TxDto>>> {
    let spk = parse_address(&addr)?.script_pubkey();
    let c = lock(&chain);
    let infos = c.script_chain_txs(&spk, None, CHAIN_TXS_PER_PAGE).unwrap_or_default();
    Ok(Json(infos.iter().map(|i| TxDto::new(&c, i)).collect()))
}

async fn address_txs_chain(
    State(chain): State<SharedChain>,
    Path((addr, last_seen)): Path<(String, String)>,
) -> ApiResult<Json<Vec<TxDto>>> {
    let spk = parse_address(&addr)?.script_pubkey();
    let last_seen = parse_txid(&last_seen)?;
    let c = lock(&chain);
    // Esplora answers an empty page for a txid not in the history.
    let infos = c.script_chain_txs(&spk, Some(&last_seen), CHAIN_TXS_PER_PAGE).unwrap_or_default();
    Ok(Json(infos.iter().map(|i| TxDto::new(&c, i)).collect()))
}

async fn address_txs_mempool(State(chain): State<SharedChain>, Path(addr): Path<String>) -> ApiResult<Json<Vec<TxDto>>> {
    let spk = parse_address(&addr)?.script_pubkey();
    let c = lock(&chain);
    Ok(Json(c.script_mempool_txs(&spk, MEMPOOL_TXS_PER_PAGE).iter().map(|i| TxDto::new(&c, i)).collect()))
}

async fn block_header(State(chain): State<SharedChain>, Path(hash): Path<String>) -> ApiResult<String> {
    let hash = parse_block_hash(&hash)?;
    let c = lock(&chain);
    let block = c.block_by_hash(&hash).ok_or_else(|| ApiError::NotFound("Block not found".into()))?;
    Ok(serialize_hex(&block.header))
}

async fn block_raw(State(chain): State<SharedChain>, Path(hash): Path<String>) -> ApiResult<Response> {
    let hash = parse_block_hash(&hash)?;
    let c = lock(&chain);
    let block = c.block_by_hash(&hash).ok_or_else(|| ApiError::NotFound("Block not found".into()))?;
    Ok(octets(serialize(block)))
}

async fn block_status(State(chain): State<SharedChain>, Path(hash): Path<String>) -> ApiResult<Json<BlockStatusDto>> {
    let hash = parse_block_hash(&hash)?;
    let c = lock(&chain);
    let height = c.block_height(&hash).ok_or_else(|| ApiError::NotFound("Block not found".into()))?;
    Ok(Json(BlockStatusDto { in_best_chain: true, height, next_best: c.block_hash_at(height.saturating_add(1)) }))
}

async fn tx_raw(State(chain): State<SharedChain>, Path(txid): Path<String>) -> ApiResult<Response> {
    let txid = parse_txid(&txid)?;
    let c = lock(&chain);
    let info = c.tx(&txid).ok_or_else(|| ApiError::NotFound("Transaction not found".into()))?;
    Ok(octets(serialize(&info.tx)))
}

fn outspend_dto(o: Option<Outspend>) -> OutspendDto {
    match o {
        None => OutspendDto { spent: false, txid: None, vin: None, status: None },
        Some(o) => OutspendDto { spent: true, txid: Some(o.txid), vin: Some(o.vin), status: Some(o.status.into()) },
    }
}

async fn tx_outspends(State(chain): State<SharedChain>, Path(txid): Path<String>) -> ApiResult<Json<Vec<OutspendDto>>> {
    let txid = parse_txid(&txid)?;
    let spends = lock(&chain).outspends(&txid).ok_or_else(|| ApiError::NotFound("Transaction not found".into()))?;
    Ok(Json(spends.into_iter().map(outspend_dto).collect()))
}

async fn tx_outspend(State(chain): State<SharedChain>, Path((txid, vout)): Path<(String, String)>) -> ApiResult<Json<OutspendDto>> {
    let txid = parse_txid(&txid)?;
    let vout: u32 = vout.parse().map_err(|_| ApiError::BadRequest(format!("Invalid output index: {vout:?}")))?;
    let c = lock(&chain);
    let tx = c.tx(&txid).ok_or_else(|| ApiError::NotFound("Transaction not found".into()))?;
    if usize::try_from(vout).map_or(true, |v| v >= tx.tx.output.len()) {
        return Err(ApiError::NotFound("Output not found".into()));
    }
    Ok(Json(outspend_dto(c.outspend(&OutPoint { txid, vout }))))
}

async fn mempool(State(chain): State<SharedChain>) -> Json<MempoolDto> {
    let (count, vsize, total_fee, fee_histogram) = lock(&chain).mempool_summary();
    Json(MempoolDto { count, vsize, total_fee, fee_histogram })
}

async fn mempool_txids(State(chain): State<SharedChain>) -> Json<Vec<Txid>> {
    Json(lock(&chain).mempool_txids())
}

async fn fee_estimates(State(chain): State<SharedChain>) -> Json<BTreeMap<String, f64>> {
    Json(lock(&chain).fee_estimates().into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn octets(bytes: Vec<u8>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
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
