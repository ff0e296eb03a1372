//! Making blocks: the coinbase (BIP34 height, reward plus fees, witness commitment), the
//! merkle root, and a deterministic proof-of-work nonce search from nonce 0.

use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::hashes::Hash as _;
use bitcoin::script::{Builder, PushBytesBuf};
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Target, Transaction, TxIn, TxMerkleNode, TxOut,
    Witness, absolute::LockTime,
};
use sim_core::clock::SimTime;

use crate::chain::{Chain, ChainError};
use crate::validate::MAX_MONEY_SAT;

/// Tag pushed after the height in every coinbase scriptSig.
const COINBASE_TAG: &[u8; 7] = b"darklab";

impl Chain {
    /// Mines the next block at header time `time`, paying the block reward plus the mempool's
    /// fees to `reward_to`, with every mempool transaction in arrival order. Returns its hash.
    pub fn mine_block(&mut self, time: u32, reward_to: &Address) -> Result<BlockHash, ChainError> {
        let tip_time = self.tip_time();
        if time < tip_time {
            return Err(ChainError::TimeBeforeTip { time, tip_time });
        }
        let height = self.height().saturating_add(1);
        let fees = self.mempool.iter().fold(0u64, |a, m| a.saturating_add(m.fee_sat));
        let value = self.params.block_reward_sat.checked_add(fees).filter(|v| *v <= MAX_MONEY_SAT).ok_or(ChainError::ValueTooLarge)?;
        let outputs = vec![TxOut { value: Amount::from_sat(value), script_pubkey: reward_to.script_pubkey() }];
        let txs: Vec<Transaction> = self.mempool.iter().map(|m| m.tx.clone()).collect();
        let block = assemble(&self.params, height, self.tip_hash(), time, outputs, txs)?;
        let hash = block.block_hash();
        let tx_count = block.txdata.len();
        self.persist_and_connect(block)?;
        tracing::info!(%hash, height, time, tx_count, fees_sat = fees, "mined block");
        Ok(hash)
    }

    /// [`Chain::mine_block`] at a simulated time.
    pub fn mine_block_at(&mut self, time: SimTime, reward_to: &Address) -> Result<BlockHash, ChainError> {
        self.mine_block(time.as_block_time(), reward_to)
    }

    /// Mines `n` blocks at the same time (e.g. to mature a coinbase); returns their hashes.
    pub fn mine_blocks(&mut self, n: u32, time: u32, reward_to: &Address) -> Result<Vec<BlockHash>, ChainError> {
        (0..n).map(|_| self.mine_block(time, reward_to)).collect()
    }
}

/// Builds and mines a block at `height` on `prev` whose coinbase pays `outputs`, followed by
/// `txs`. Adds a BIP141 witness commitment when any transaction carries a witness.
pub(crate) fn assemble(
    params: &crate::ChainParams,
    height: u32,
    prev: BlockHash,
    time: u32,
    mut outputs: Vec<TxOut>,
    txs: Vec<Transaction>,
) -> Result<Block, ChainError> {
    let script_sig = Builder::new().push_int(i64::from(height)).push_slice(COINBASE_TAG).into_script();
    if outputs.is_empty() {
        outputs.push(TxOut { value: Amount::ZERO, script_pubkey: ScriptBuf::new_op_return([]) });
    }
    let has_witness = txs.iter().any(|t| t.input.iter().any(|i| !i.witness.is_empty()));
    let coinbase = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig,
            sequence: Sequence::MAX,
            witness: if has_witness { Witness::from_slice(&[[0u8; 32]]) } else { Witness::new() },
        }],
        output: outputs,
    };
    let mut txdata = Vec::with_capacity(txs.len() + 1);
    txdata.push(coinbase);
    txdata.extend(txs);
    let header = Header {
        version: BlockVersion::from_consensus(0x2000_0000),
        prev_blockhash: prev,
        merkle_root: TxMerkleNode::all_zeros(),
        time,
        bits: CompactTarget::from_consensus(params.pow_bits),
        nonce: 0,
    };
    let mut block = Block { header, txdata };
    if has_witness && let Some(root) = block.witness_root() {
        let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
        let mut data = PushBytesBuf::new();
        let _ = data.extend_from_slice(&[0xaa, 0x21, 0xa9, 0xed]);
        let _ = data.extend_from_slice(commitment.as_byte_array());
        if let Some(cb) = block.txdata.first_mut() {
            cb.output.push(TxOut { value: Amount::ZERO, script_pubkey: ScriptBuf::new_op_return(data) });
        }
    }
    block.header.merkle_root = block.compute_merkle_root().unwrap_or_else(TxMerkleNode::all_zeros);
    let target = Target::from_compact(block.header.bits);
    for nonce in 0..=u32::MAX {
        block.header.nonce = nonce;
        if block.header.validate_pow(target).is_ok() {
            return Ok(block);
        }
    }
    Err(ChainError::PowExhausted { height })
}
