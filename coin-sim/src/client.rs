//! An HTTP client for the Esplora API (ours or any other), used by the cast's wallets.
//!
//! The caller supplies the `reqwest::Client` (it may route through Tor or resolve onion
//! names), so this module makes no network decisions of its own.

use std::str::FromStr;

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Address, BlockHash, OutPoint, Transaction, Txid};
use serde::de::DeserializeOwned;

use crate::dto::{AddressDto, StatusDto, TxDto, UtxoDto};
use crate::wallet::Utxo;

/// Why an explorer request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be made or its body not read.
    #[error("explorer request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The explorer does not know the thing asked for (404).
    #[error("not found at the explorer: {0}")]
    NotFound(String),
    /// The explorer refused the transaction; the reason is Core's (e.g. `txn-mempool-conflict`).
    #[error("transaction rejected: {0}")]
    Rejected(String),
    /// Any other unexpected status.
    #[error("explorer answered {status}: {body}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Response body text.
        body: String,
    },
    /// The answer could not be understood.
    #[error("cannot decode explorer answer: {0}")]
    Decode(String),
}

/// A client for an Esplora REST API at `base` (e.g. `http://127.0.0.1:3002`).
#[derive(Clone, Debug)]
pub struct EsploraClient {
    http: reqwest::Client,
    base: String,
}

impl EsploraClient {
    /// A client for the API at `base_url` (a trailing `/` is ignored), using `http`.
    pub fn new(http: reqwest::Client, base_url: impl Into<String>) -> Self {
        let mut base = base_url.into();
        while base.ends_with('/') {
            base.pop();
        }
        EsploraClient { http, base }
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let resp = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = resp.status();
        let body = resp.text().await?;
        match status.as_u16() {
            200 => Ok(body),
            404 => Err(ClientError::NotFound(path.to_string())),
            s => Err(ClientError::Status { status: s, body }),
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let body = self.get_text(path).await?;
        serde_json::from_str(&body).map_err(|e| ClientError::Decode(format!("{path}: {e}")))
    }

    /// Height of the explorer's tip.
    pub async fn tip_height(&self) -> Result<u32, ClientError> {
        let t = self.get_text("/blocks/tip/height").await?;
        t.trim().parse().map_err(|_| ClientError::Decode(format!("tip height {t:?}")))
    }

    /// Hash of the explorer's tip.
    pub async fn tip_hash(&self) -> Result<BlockHash, ClientError> {
        let t = self.get_text("/blocks/tip/hash").await?;
        BlockHash::from_str(t.trim()).map_err(|_| ClientError::Decode(format!("tip hash {t:?}")))
    }

    /// Unspent outputs of `address` as spendable [`Utxo`]s (script from the address).
    pub async fn address_utxos(&self, address: &Address) -> Result<Vec<Utxo>, ClientError> {
        let script_pubkey = address.script_pubkey();
        Ok(self
            .address_utxo_dtos(address)
            .await?
            .into_iter()
            .map(|u| Utxo { outpoint: OutPoint { txid: u.txid, vout: u.vout }, value_sat: u.value, script_pubkey: script_pubkey.clone() })
            .collect())
    }

    /// Every coin a wallet holds over all its addresses (confirmed or in the mempool), in
    /// outpoint order without repeats: what it can spend now.
    pub async fn wallet_utxos(&self, wallet: &crate::Wallet) -> Result<Vec<Utxo>, ClientError> {
        let mut coins = Vec::new();
        for a in wallet.addresses() {
            coins.extend(self.address_utxos(&a).await?);
        }
        coins.sort_by_key(|c| c.outpoint);
        coins.dedup_by_key(|c| c.outpoint);
        Ok(coins)
    }

    /// Unspent outputs of `address` with their confirmation status.
    pub async fn address_utxo_dtos(&self, address: &Address) -> Result<Vec<UtxoDto>, ClientError> {
        self.get_json(&format!("/address/{address}/utxo")).await
    }

    /// Every transaction touching `address`, newest first (mempool first): the first page,
    /// then Esplora's `/txs/chain/{last_seen}` pages until the history is complete.
    pub async fn address_txs(&self, address: &Address) -> Result<Vec<TxDto>, ClientError> {
        let mut all: Vec<TxDto> = self.get_json(&format!("/address/{address}/txs")).await?;
        let mut page_confirmed = all.iter().filter(|t| t.status.confirmed).count();
        while page_confirmed >= crate::query::CHAIN_TXS_PER_PAGE {
            let Some(last) = all.last().map(|t| t.txid) else { break };
            let page: Vec<TxDto> = self.get_json(&format!("/address/{address}/txs/chain/{last}")).await?;
            page_confirmed = page.len();
            all.extend(page);
        }
        Ok(all)
    }

    /// Statistics of `address`.
    pub async fn address(&self, address: &Address) -> Result<AddressDto, ClientError> {
        self.get_json(&format!("/address/{address}")).await
    }

    /// A transaction's Esplora view.
    pub async fn tx(&self, txid: &Txid) -> Result<TxDto, ClientError> {
        self.get_json(&format!("/tx/{txid}")).await
    }

    /// A transaction's confirmation status.
    pub async fn tx_status(&self, txid: &Txid) -> Result<StatusDto, ClientError> {
        self.get_json(&format!("/tx/{txid}/status")).await
    }

    /// A transaction, decoded from its raw hex.
    pub async fn tx_raw(&self, txid: &Txid) -> Result<Transaction, ClientError> {
        let t = self.get_text(&format!("/tx/{txid}/hex")).await?;
        let bytes = hex::decode(t.trim()).map_err(|_| ClientError::Decode(format!("tx {txid} hex")))?;
        bitcoin::consensus::deserialize(&bytes).map_err(|_| ClientError::Decode(format!("tx {txid} bytes")))
    }

    /// Broadcasts `tx` (`POST /tx`); a refusal surfaces as [`ClientError::Rejected`].
    pub async fn broadcast(&self, tx: &Transaction) -> Result<Txid, ClientError> {
        let resp = self.http.post(format!("{}/tx", self.base)).body(serialize_hex(tx)).send().await?;
        let status = resp.status().as_u16();
        let body = resp.text().await?;
        match status {
            200 => Txid::from_str(body.trim()).map_err(|_| ClientError::Decode(format!("broadcast answer {body:?}"))),
            400 => Err(ClientError::Rejected(reject_reason(&body))),
            s => Err(ClientError::Status { status: s, body }),
        }
    }
}

/// The reason inside `sendrawtransaction RPC error: {"code":…,"message":"…"}`, or the body.
fn reject_reason(body: &str) -> String {
    body.find('{')
        .and_then(|i| body.get(i..))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::reject_reason;

    #[test]
    fn reject_reason_is_extracted() {
        let body = r#"sendrawtransaction RPC error: {"code":-26,"message":"txn-mempool-conflict"}"#;
        assert_eq!(reject_reason(body), "txn-mempool-conflict");
        assert_eq!(reject_reason("  something else "), "something else");
    }
}
