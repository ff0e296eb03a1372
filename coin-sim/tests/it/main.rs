//! Integration tests: the explorer on a real socket (127.0.0.1:0) driven by our client and
//! by the independent `esplora-client` crate; consensus rules end to end; the block store
//! under SIGKILL; CoinJoin rounds and the tumbler.
#![allow(clippy::unwrap_used)]

mod consensus;
mod crash;
mod esplora_compat;
mod mixing;

use std::net::SocketAddr;

use bitcoin::{Address, Network, Transaction, Witness};
use coin_sim::chain::lock;
use coin_sim::dto::{BlockDto, TxDto};
use coin_sim::{Chain, ChainParams, ClientError, EsploraClient, SharedChain, Wallet, shared};

pub(crate) const T0: u32 = 1_772_352_000;
pub(crate) const COIN: u64 = 100_000_000;

pub(crate) async fn serve(chain: SharedChain) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, coin_sim::explorer::router(chain)).await.unwrap();
    });
    addr
}

struct World {
    chain: SharedChain,
    client: EsploraClient,
    http: reqwest::Client,
    base: String,
    alice: Wallet,
    a1: Address,
    b1: Address,
}

async fn world() -> World {
    let mut alice = Wallet::from_seed([1; 32]);
    let a1 = alice.new_address();
    let b1 = Wallet::from_seed([2; 32]).new_address();
    let chain = shared(Chain::new(ChainParams::default(), T0, &[(a1.clone(), 10 * COIN)]).unwrap());
    let addr = serve(chain.clone()).await;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let client = EsploraClient::new(http.clone(), format!("{base}/"));
    World { chain, client, http, base, alice, a1, b1 }
}

impl World {
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn post_tx(&self, body: &str) -> (u16, String) {
        let r = self.http.post(format!("{}/tx", self.base)).body(body.to_string()).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn pay(&self, to: &Address, sat: u64) -> Transaction {
        let utxos = self.client.address_utxos(&self.a1).await.unwrap();
        self.alice.build_and_sign(&utxos, &[(to.clone(), sat)], 2, &self.a1).unwrap()
    }
}

#[tokio::test]
async fn explorer_round_trip() {
    let w = world().await;
    assert_eq!(w.client.tip_height().await.unwrap(), 0);
    let genesis = w.client.tip_hash().await.unwrap();
    assert_eq!(genesis, lock(&w.chain).tip_hash());

    let utxos = w.client.address_utxos(&w.a1).await.unwrap();
    assert_eq!(utxos.len(), 1);
    assert_eq!(utxos[0].value_sat, 10 * COIN);
    assert_eq!(utxos[0].script_pubkey, w.a1.script_pubkey());

    // Broadcast a payment; the explorer shows it unconfirmed.
    let tx = w.pay(&w.b1, 3 * COIN).await;
    let txid = w.client.broadcast(&tx).await.unwrap();
    assert_eq!(txid, tx.compute_txid());
    let dto: TxDto = w.client.tx(&txid).await.unwrap();
    assert!(!dto.status.confirmed);
    assert!(dto.fee > 0);
    assert_eq!(dto.vin[0].prevout.as_ref().unwrap().scriptpubkey_address.as_deref(), Some(w.a1.to_string().as_str()));
    assert_eq!(dto.vin[0].witness.len(), 2);
    assert_eq!(dto.vout[0].scriptpubkey_address.as_deref(), Some(w.b1.to_string().as_str()));
    assert_eq!(dto.vout[0].scriptpubkey_type, "v0_p2wpkh");
    assert_eq!(dto.vout[0].value, 3 * COIN);
    assert_eq!(w.client.address_txs(&w.b1).await.unwrap()[0].txid, txid);
    let stats = w.client.address(&w.b1).await.unwrap();
    assert_eq!((stats.mempool_stats.funded_txo_sum, stats.chain_stats.funded_txo_sum), (3 * COIN, 0));
    // Re-sending the same transaction is harmless, as with Core.
    assert_eq!(w.client.broadcast(&tx).await.unwrap(), txid);

    // Mine it: status confirmed, UTXO listed.
    let miner = Wallet::from_seed([9; 32]).new_address();
    let hash = lock(&w.chain).mine_block(T0 + 600, &miner).unwrap();
    let status = w.client.tx_status(&txid).await.unwrap();
    assert!(status.confirmed);
    assert_eq!((status.block_height, status.block_hash, status.block_time), (Some(1), Some(hash), Some(T0 + 600)));
    let bob = w.client.address_utxos(&w.b1).await.unwrap();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].outpoint.txid, txid);
    assert_eq!(bob[0].value_sat, 3 * COIN);
    let stats = w.client.address(&w.b1).await.unwrap();
    assert_eq!((stats.chain_stats.funded_txo_sum, stats.chain_stats.tx_count), (3 * COIN, 1));
    assert_eq!(w.client.tx_raw(&txid).await.unwrap(), tx);

    // Blocks.
    assert_eq!(w.client.tip_height().await.unwrap(), 1);
    assert_eq!(w.get("/block-height/1").await, (200, hash.to_string()));
    let (code, body) = w.get(&format!("/block/{hash}")).await;
    assert_eq!(code, 200);
    let block: BlockDto = serde_json::from_str(&body).unwrap();
    assert_eq!((block.id, block.height, block.tx_count, block.previousblockhash), (hash, 1, 2, Some(genesis)));
    let (_, body) = w.get(&format!("/block/{hash}/txids")).await;
    let txids: Vec<bitcoin::Txid> = serde_json::from_str(&body).unwrap();
    assert_eq!(txids[1], txid);
    let (_, body) = w.get(&format!("/address/{}/utxo", w.b1)).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["status"]["confirmed"], true);
    assert_eq!(v[0]["value"], 3 * COIN);
}

#[tokio::test]
async fn rejections_come_back_with_core_reasons() {
    let w = world().await;
    let utxos = w.client.address_utxos(&w.a1).await.unwrap();
    let first = w.alice.build_and_sign(&utxos, &[(w.b1.clone(), COIN)], 2, &w.a1).unwrap();
    let second = w.alice.build_and_sign(&utxos, &[(w.b1.clone(), 2 * COIN)], 2, &w.a1).unwrap();
    w.client.broadcast(&first).await.unwrap();
    match w.client.broadcast(&second).await {
        Err(ClientError::Rejected(reason)) => assert_eq!(reason, "txn-mempool-conflict"),
        other => panic!("{other:?}"),
    }
    lock(&w.chain).mine_block(T0 + 600, &w.b1).unwrap();
    let hex = bitcoin::consensus::encode::serialize_hex(&second);
    assert_eq!(
        w.post_tx(&hex).await,
        (400, r#"sendrawtransaction RPC error: {"code":-25,"message":"bad-txns-inputs-missingorspent"}"#.to_string())
    );
    assert_eq!(
        w.post_tx("not a transaction").await,
        (400, r#"sendrawtransaction RPC error: {"code":-22,"message":"TX decode failed"}"#.to_string())
    );

    // A corrupted signature.
    let mut bad = w.pay(&w.b1, COIN).await;
    let mut items: Vec<Vec<u8>> = bad.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    items[0][8] ^= 0x80;
    bad.input[0].witness = Witness::from_slice(&items);
    match w.client.broadcast(&bad).await {
        Err(ClientError::Rejected(reason)) => {
            assert_eq!(reason, "mandatory-script-verify-flag-failed")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_paths_are_400_and_unknowns_404() {
    let w = world().await;
    let zeros = "0".repeat(64);
    for (path, code) in [
        ("/tx/nothex".to_string(), 400),
        (format!("/tx/{zeros}"), 404),
        (format!("/tx/{zeros}/hex"), 404),
        (format!("/tx/{zeros}/status"), 404),
        ("/tx/abc/status".to_string(), 400),
        (format!("/block/{zeros}"), 404),
        ("/block/xyz/txids".to_string(), 400),
        ("/block-height/abc".to_string(), 400),
        ("/block-height/-1".to_string(), 400),
        ("/block-height/999".to_string(), 404),
        ("/address/garbage".to_string(), 400),
        ("/address/garbage/utxo".to_string(), 400),
        ("/nowhere".to_string(), 404),
    ] {
        assert_eq!(w.get(&path).await.0, code, "{path}");
    }
    // A mainnet address for a valid key is refused with a clear message.
    let mut x = Wallet::from_seed([4; 32]);
    let reg = x.new_address();
    let pk = x.public_key(&reg.script_pubkey()).unwrap();
    let main = Address::p2wpkh(&pk, Network::Bitcoin);
    let (code, body) = w.get(&format!("/address/{main}/txs")).await;
    assert_eq!(code, 400);
    assert!(body.contains("regtest"), "{body}");
    // An unused regtest address is fine and empty.
    let (code, body) = w.get(&format!("/address/{reg}/txs")).await;
    assert_eq!((code, body.as_str()), (200, "[]"));
    match w.client.tx(&bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros())).await {
        Err(ClientError::NotFound(_)) => {}
        other => panic!("{other:?}"),
    }
}
