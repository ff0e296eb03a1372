//! The chain look-ups the market and the exchange make, over coin-sim's Esplora client.
//!
//! This is the only module of the services that talks to the coin network; domain code
//! sees plain [`ObservedOutput`]s, so it stays testable without a chain.

use bitcoin::{Address, Transaction, Txid};
use coin_sim::{ClientError, EsploraClient, Utxo};

/// An output paying a watched address, as the explorer shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedOutput {
    /// Funding transaction id (hex).
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// Value in satoshis.
    pub value_sat: u64,
    /// Confirmations (0 while in the mempool; 1 when in the tip block).
    pub confirmations: u32,
}

/// Every output ever paid to `address` (spent or not), with its confirmations, in a
/// stable order (txid, vout).
pub async fn outputs_to(chain: &EsploraClient, address: &Address) -> Result<Vec<ObservedOutput>, ClientError> {
    let tip = chain.tip_height().await?;
    let txs = chain.address_txs(address).await?;
    let wanted = address.to_string();
    let mut out = Vec::new();
    for tx in txs {
        let confirmations = match (tx.status.confirmed, tx.status.block_height) {
            (true, Some(h)) => tip.saturating_sub(h).saturating_add(1),
            _ => 0,
        };
        for (vout, o) in tx.vout.iter().enumerate() {
            if o.scriptpubkey_address.as_deref() == Some(wanted.as_str()) {
                out.push(ObservedOutput {
                    txid: tx.txid.to_string(),
                    vout: u32::try_from(vout).unwrap_or(u32::MAX),
                    value_sat: o.value,
                    confirmations,
                });
            }
        }
    }
    out.sort_by(|a, b| a.txid.cmp(&b.txid).then(a.vout.cmp(&b.vout)));
    out.dedup_by(|a, b| a.txid == b.txid && a.vout == b.vout);
    Ok(out)
}

/// The unspent outputs of `address`, ready to sign.
pub async fn spendable(chain: &EsploraClient, address: &Address) -> Result<Vec<Utxo>, ClientError> {
    let mut utxos = chain.address_utxos(address).await?;
    utxos.sort();
    Ok(utxos)
}

/// Broadcasts a signed transaction.
pub async fn broadcast(chain: &EsploraClient, tx: &Transaction) -> Result<Txid, ClientError> {
    chain.broadcast(tx).await
}
