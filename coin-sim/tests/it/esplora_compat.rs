//! Compatibility with a client written elsewhere: the `esplora-client` crate (what BDK
//! uses) reads our explorer, and what it decodes must match the chain.

use bitcoin::Amount;
use coin_sim::chain::lock;
use coin_sim::{AddressKind, Chain, ChainParams, Utxo, Wallet, shared};
use esplora_client::Builder;

use super::{COIN, T0, serve};

#[tokio::test]
async fn esplora_client_crate_reads_our_explorer() {
    let mut alice = Wallet::from_seed([1; 32]);
    let a1 = alice.new_address();
    let mut bob = Wallet::from_seed([2; 32]);
    let b_tr = bob.new_address_of(AddressKind::P2tr);
    let miner = Wallet::from_seed([9; 32]).new_address();
    let chain = shared(Chain::new(ChainParams::default(), T0, &[(a1.clone(), 50 * COIN)]).unwrap());
    // 30 payments to Bob's taproot address, one block each: more than one page of history.
    let mut txs = Vec::new();
    for i in 0..30u32 {
        let mut c = lock(&chain);
        let coins: Vec<Utxo> = c.address_utxos(&a1).into_iter().map(|u| u.utxo).collect();
        let tx = alice.build_and_sign(&coins, &[(b_tr.clone(), COIN / 100)], 2, &a1).unwrap();
        c.submit_tx(&tx).unwrap();
        c.mine_block(T0 + 600 * (i + 1), &miner).unwrap();
        txs.push(tx);
    }
    let addr = serve(chain.clone()).await;
    let base = format!("http://{addr}");
    let client = Builder::new(&base).build_async().unwrap();

    let (height, tip) = {
        let c = lock(&chain);
        (c.height(), c.tip_hash())
    };
    assert_eq!(client.get_height().await.unwrap(), height);
    assert_eq!(client.get_tip_hash().await.unwrap(), tip);
    assert_eq!(client.get_block_hash(height).await.unwrap(), tip);
    let info = client.get_block_info(&tip).await.unwrap();
    let block = lock(&chain).block_by_hash(&tip).unwrap().clone();
    assert_eq!((info.id, info.height, info.tx_count), (tip, height, 2));
    assert_eq!(info.merkle_root, block.header.merkle_root);
    assert_eq!(info.bits, block.header.bits);
    assert_eq!(info.previousblockhash, Some(block.header.prev_blockhash));
    assert_eq!(client.get_header_by_hash(&tip).await.unwrap(), block.header);
    assert_eq!(client.get_block_by_hash(&tip).await.unwrap(), Some(block.clone()));
    assert_eq!(client.get_block_txids(&tip).await.unwrap(), block.txdata.iter().map(|t| t.compute_txid()).collect::<Vec<_>>());
    let st = client.get_block_status(&tip).await.unwrap();
    assert!(st.in_best_chain && st.height == Some(height) && st.next_best.is_none());

    let last = txs.last().unwrap();
    let txid = last.compute_txid();
    assert_eq!(client.get_tx(&txid).await.unwrap().as_ref(), Some(last));
    let etx = client.get_tx_info(&txid).await.unwrap().unwrap();
    assert_eq!(etx.vin[0].prevout.as_ref().unwrap().scriptpubkey, a1.script_pubkey());
    assert_eq!(etx.vin[0].witness, last.input[0].witness);
    assert_eq!(etx.vout[0].value, Amount::from_sat(COIN / 100));
    assert_eq!(etx.weight, last.weight());
    assert!(etx.fee.to_sat() >= 2 * last.vsize() as u64);
    assert!(etx.status.confirmed && etx.status.block_hash == Some(tip));
    assert_eq!(client.get_tx_status(&txid).await.unwrap().block_height, Some(height));
    let zero = bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros());
    assert_eq!(client.get_tx_info(&zero).await.unwrap(), None);
    assert_eq!(client.get_tx(&zero).await.unwrap(), None);

    // Outspends: the first payment's change was spent by the second.
    let first = txs[0].compute_txid();
    let outs = client.get_tx_outspends(&first).await.unwrap();
    assert_eq!(outs.len(), 2);
    assert!(!outs[0].spent);
    assert!(outs[1].spent && outs[1].txid == Some(txs[1].compute_txid()) && outs[1].vin == Some(0));
    assert!(client.get_output_status(&first, 1).await.unwrap().unwrap().spent);

    // Address: stats, paged history (25 + 5), UTXOs.
    let stats = client.get_address_stats(&b_tr).await.unwrap();
    assert_eq!(stats.chain_stats.funded_txo_count, 30);
    assert_eq!(stats.chain_stats.funded_txo_sum, Amount::from_sat(30 * COIN / 100));
    let page1 = client.get_address_txs(&b_tr, None).await.unwrap();
    assert_eq!(page1.len(), 25);
    assert_eq!(page1[0].txid, txid);
    let page2 = client.get_address_txs(&b_tr, Some(page1[24].txid)).await.unwrap();
    assert_eq!(page2.len(), 5);
    assert_eq!(page2[4].txid, first);
    let utxos = client.get_address_utxos(&b_tr).await.unwrap();
    assert_eq!(utxos.len(), 30);
    assert!(utxos.iter().all(|u| u.status.confirmed && u.value == Amount::from_sat(COIN / 100)));
    // Our own client pages through the whole history too.
    let ours = coin_sim::EsploraClient::new(reqwest::Client::new(), base.clone());
    assert_eq!(ours.address_txs(&b_tr).await.unwrap().len(), 30);

    // Broadcast through esplora-client; mempool and fee estimates.
    let coins: Vec<Utxo> = client
        .get_address_utxos(&b_tr)
        .await
        .unwrap()
        .into_iter()
        .map(|u| Utxo {
            outpoint: bitcoin::OutPoint { txid: u.txid, vout: u.vout },
            value_sat: u.value.to_sat(),
            script_pubkey: b_tr.script_pubkey(),
        })
        .collect();
    let back = bob.build_and_sign(&coins, &[(a1.clone(), COIN / 10)], 5, &b_tr).unwrap();
    assert_eq!(client.broadcast(&back).await.unwrap(), back.compute_txid());
    let mp = client.get_mempool_stats().await.unwrap();
    assert_eq!((mp.count, mp.vsize), (1, back.vsize()));
    assert_eq!(client.get_mempool_txids().await.unwrap(), vec![back.compute_txid()]);
    let est = client.get_fee_estimates().await.unwrap();
    assert!(est.contains_key(&1) && est.contains_key(&144));
    assert!(!client.get_tx_status(&back.compute_txid()).await.unwrap().confirmed);
    let mempool_txs = client.get_mempool_address_txs(&a1).await.unwrap();
    assert_eq!(mempool_txs[0].txid, back.compute_txid());
    // A refused broadcast surfaces Core's reason.
    let err = client.broadcast(&back).await.map(|_| ());
    assert!(err.is_ok(), "re-broadcast is idempotent");
    let mut bad = back.clone();
    bad.output[0].value = Amount::from_sat(100);
    let msg = format!("{:?}", client.broadcast(&bad).await.unwrap_err());
    assert!(msg.contains("dust") || msg.contains("mandatory-script-verify-flag-failed"), "{msg}");
}
