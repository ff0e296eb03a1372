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

/// An output paying a watched address with the addresses its transaction spent from
/// (what a payee can read off the transaction: who paid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedPayment {
    /// The output.
    pub output: ObservedOutput,
    /// The addresses of the paying transaction's inputs, in input order, without repeats.
    pub from: Vec<String>,
}

/// Every output ever paid to `address` (spent or not), with its confirmations, in a
/// stable order (txid, vout).
pub async fn outputs_to(chain: &EsploraClient, address: &Address) -> Result<Vec<ObservedOutput>, ClientError> {
    Ok(payments_to(chain, address).await?.into_iter().map(|p| p.output).collect())
}

/// [`outputs_to`] with the paying addresses of each output's transaction.
pub async fn payments_to(chain: &EsploraClient, address: &Address) -> Result<Vec<ObservedPayment>, ClientError> {
    let tip = chain.tip_height().await?;
    let txs = chain.address_txs(address).await?;
    let wanted = address.to_string();
    let mut out = Vec::new();
    for tx in txs {
        let confirmations = match (tx.status.confirmed, tx.status.block_height) {
            (true, Some(h)) => tip.saturating_sub(h).saturating_add(1),
            _ => 0,
        };
        let mut from: Vec<String> = Vec::new();
        for a in tx.vin.iter().filter_map(|i| i.prevout.as_ref().and_then(|p| p.scriptpubkey_address.clone())) {
            if !from.contains(&a) {
                from.push(a);
            }
        }
        for (vout, o) in tx.vout.iter().enumerate() {
            if o.scriptpubkey_address.as_deref() == Some(wanted.as_str()) {
                let output = ObservedOutput {
                    txid: tx.txid.to_string(),
                    vout: u32::try_from(vout).unwrap_or(u32::MAX),
                    value_sat: o.value,
                    confirmations,
                };
                out.push(ObservedPayment { output, from: from.clone() });
            }
        }
    }
    out.sort_by(|a, b| a.output.txid.cmp(&b.output.txid).then(a.output.vout.cmp(&b.output.vout)));
    out.dedup_by(|a, b| a.output.txid == b.output.txid && a.output.vout == b.output.vout);
    Ok(out)
}

/// The outputs with at least `min_confirmations` (at least one), oldest first (most
/// confirmations), then by txid and index: the order a payee credits them in.
pub fn confirmed<T>(items: &[T], min_confirmations: u32, output: impl Fn(&T) -> &ObservedOutput) -> Vec<&T> {
    let mut sorted: Vec<&T> = items.iter().filter(|o| output(o).confirmations >= min_confirmations.max(1)).collect();
    sorted.sort_by(|a, b| {
        let (a, b) = (output(a), output(b));
        b.confirmations.cmp(&a.confirmations).then(a.txid.cmp(&b.txid)).then(a.vout.cmp(&b.vout))
    });
    sorted
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
