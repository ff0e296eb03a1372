//! The money-flow graph a trainee grows step by step from a transaction or an address,
//! with the common-input and change heuristics offered as suggestions (never as facts)
//! and CoinJoin transactions marked, since both heuristics fail on them.

use std::collections::{BTreeMap, BTreeSet};

use coin_sim::dto::TxDto;

/// What a node of the graph is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlowKind {
    /// A transaction (by txid).
    Tx,
    /// An address.
    Address,
}

/// One node: a transaction or an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowNode {
    /// Txid or address.
    pub id: String,
    /// Which of the two.
    pub kind: FlowKind,
    /// Whether the trainee expanded it (its neighbours are in the graph).
    pub expanded: bool,
    /// A transaction with equal-denomination outputs from many inputs.
    pub coinjoin: bool,
    /// Steps from the node the trainee started from (for the layered layout).
    pub depth: u32,
}

/// Money moving along an edge: address → transaction (spent) or transaction → address (paid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowEdge {
    /// Source node id.
    pub from: String,
    /// Target node id.
    pub to: String,
    /// Amount in the coin's smallest unit.
    pub value: u64,
}

/// The two address-clustering heuristics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Heuristic {
    /// All inputs of a transaction are controlled by one owner.
    CommonInput,
    /// One output returns change to the payer.
    Change,
}

/// Where a suggestion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet.
    Open,
    /// The trainee accepted it (a link on the case board).
    Accepted,
    /// The trainee rejected it.
    Rejected,
}

/// A heuristic's suggestion that addresses share an owner, because of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// Which heuristic.
    pub heuristic: Heuristic,
    /// The transaction that suggests it (the evidence to cite).
    pub txid: String,
    /// The addresses said to share an owner (for change: a payer address, then the change).
    pub addresses: Vec<String>,
    /// Why, in a few words for the trainee.
    pub reason: String,
    /// Accepted, rejected or open.
    pub verdict: Verdict,
}

/// The graph.
#[derive(Clone, Debug, Default)]
pub struct FlowGraph {
    /// Nodes by id.
    pub nodes: BTreeMap<String, FlowNode>,
    /// Edges, in the order they were found.
    pub edges: Vec<FlowEdge>,
    /// Heuristic suggestions, in the order they were found.
    pub suggestions: Vec<Suggestion>,
}

fn input_addresses(tx: &TxDto) -> Vec<String> {
    let mut seen = BTreeSet::new();
    tx.vin
        .iter()
        .filter_map(|i| i.prevout.as_ref().and_then(|p| p.scriptpubkey_address.clone()))
        .filter(|a| seen.insert(a.clone()))
        .collect()
}

/// Whether a transaction looks like a CoinJoin: at least two inputs and at least three
/// outputs of one equal value.
pub fn is_coinjoin(tx: &TxDto) -> bool {
    if tx.vin.len() < 2 {
        return false;
    }
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for o in &tx.vout {
        *counts.entry(o.value).or_default() += 1;
    }
    counts.values().any(|&n| n >= 3)
}

/// The common-input suggestion: two or more distinct input addresses, not a CoinJoin.
pub fn common_input(tx: &TxDto) -> Option<Suggestion> {
    let inputs = input_addresses(tx);
    (inputs.len() >= 2 && !is_coinjoin(tx)).then(|| Suggestion {
        heuristic: Heuristic::CommonInput,
        txid: tx.txid.to_string(),
        reason: format!("{} inputs signed together", inputs.len()),
        addresses: inputs,
        verdict: Verdict::Open,
    })
}

/// Whether an amount looks chosen by a person (a multiple of 0.001 coin).
fn round(value: u64) -> bool {
    value.is_multiple_of(100_000)
}

/// The change suggestion on a two-output, non-CoinJoin payment: an output paying back to
/// an input address, else the only non-round output when the other is round, else the only
/// output of the inputs' script type.
pub fn change_output(tx: &TxDto) -> Option<Suggestion> {
    if tx.vout.len() != 2 || is_coinjoin(tx) || tx.vin.iter().any(|i| i.is_coinbase) {
        return None;
    }
    let inputs = input_addresses(tx);
    let payer = inputs.first()?.clone();
    let outs: Vec<(&str, u64, &str)> =
        tx.vout.iter().filter_map(|o| o.scriptpubkey_address.as_deref().map(|a| (a, o.value, o.scriptpubkey_type.as_str()))).collect();
    if outs.len() != 2 {
        return None;
    }
    let pick = |i: usize, reason: &str| Suggestion {
        heuristic: Heuristic::Change,
        txid: tx.txid.to_string(),
        addresses: vec![payer.clone(), outs[i].0.to_string()],
        reason: reason.to_string(),
        verdict: Verdict::Open,
    };
    if let Some(i) = outs.iter().position(|o| inputs.iter().any(|a| a == o.0)) {
        // Change back to the payer's own address links nothing new; with several inputs it
        // still ties another input address to the change address.
        let other = inputs.iter().find(|a| a.as_str() != outs[i].0)?;
        return Some(Suggestion { addresses: vec![other.clone(), outs[i].0.to_string()], ..pick(i, "pays back to an input address") });
    }
    match (round(outs[0].1), round(outs[1].1)) {
        (true, false) => return Some(pick(1, "the other output is a round amount")),
        (false, true) => return Some(pick(0, "the other output is a round amount")),
        _ => {}
    }
    let in_type = tx.vin.iter().find_map(|i| i.prevout.as_ref().map(|p| p.scriptpubkey_type.clone()))?;
    let same: Vec<usize> = (0..2).filter(|&i| outs[i].2 == in_type).collect();
    (same.len() == 1).then(|| pick(same[0], "the only output of the inputs' address type"))
}

impl FlowGraph {
    fn node(&mut self, id: &str, kind: FlowKind, depth: u32) {
        let n = self.nodes.entry(id.to_string()).or_insert(FlowNode { id: id.to_string(), kind, expanded: false, coinjoin: false, depth });
        n.depth = n.depth.min(depth);
    }

    fn edge(&mut self, from: &str, to: &str, value: u64) {
        if !self.edges.iter().any(|e| e.from == from && e.to == to) {
            self.edges.push(FlowEdge { from: from.to_string(), to: to.to_string(), value });
        }
    }

    /// Adds a transaction with its input and output addresses, and its suggestions.
    pub fn add_tx(&mut self, tx: &TxDto) {
        let id = tx.txid.to_string();
        let depth = self.nodes.get(&id).map(|n| n.depth).unwrap_or(0);
        self.node(&id, FlowKind::Tx, depth);
        if let Some(n) = self.nodes.get_mut(&id) {
            n.expanded = true;
            n.coinjoin = is_coinjoin(tx);
        }
        for i in &tx.vin {
            if let Some(p) = &i.prevout
                && let Some(a) = &p.scriptpubkey_address
            {
                self.node(a, FlowKind::Address, depth + 1);
                self.edge(a, &id, p.value);
            }
        }
        for o in &tx.vout {
            if let Some(a) = &o.scriptpubkey_address {
                self.node(a, FlowKind::Address, depth + 1);
                self.edge(&id, a, o.value);
            }
        }
        for s in [common_input(tx), change_output(tx)].into_iter().flatten() {
            if !self.suggestions.iter().any(|x| x.heuristic == s.heuristic && x.txid == s.txid) {
                self.suggestions.push(s);
            }
        }
    }

    /// Expands an address with the transactions that touch it.
    pub fn add_address(&mut self, address: &str, txs: &[TxDto]) {
        let depth = self.nodes.get(address).map(|n| n.depth).unwrap_or(0);
        self.node(address, FlowKind::Address, depth);
        if let Some(n) = self.nodes.get_mut(address) {
            n.expanded = true;
        }
        for tx in txs {
            let id = tx.txid.to_string();
            self.node(&id, FlowKind::Tx, depth + 1);
            self.add_tx(tx);
        }
    }

    /// Marks a suggestion accepted or rejected; the suggestion, if it exists.
    pub fn decide(&mut self, index: usize, accept: bool) -> Option<&Suggestion> {
        let s = self.suggestions.get_mut(index)?;
        s.verdict = if accept { Verdict::Accepted } else { Verdict::Rejected };
        Some(s)
    }

    /// A layered layout: one column per depth, nodes spread down each column; positions in
    /// graph units (the renderer scales and pans).
    pub fn layout(&self) -> BTreeMap<String, (f32, f32)> {
        let mut columns: BTreeMap<u32, usize> = BTreeMap::new();
        let mut out = BTreeMap::new();
        for n in self.nodes.values() {
            let row = columns.entry(n.depth).or_default();
            out.insert(n.id.clone(), (n.depth as f32 * 260.0, *row as f32 * 34.0));
            *row += 1;
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use coin_sim::dto::{StatusDto, VinDto, VoutDto};

    pub(crate) fn out(addr: &str, value: u64, kind: &str) -> VoutDto {
        VoutDto {
            scriptpubkey: String::new(),
            scriptpubkey_asm: String::new(),
            scriptpubkey_type: kind.into(),
            scriptpubkey_address: Some(addr.into()),
            value,
        }
    }

    pub(crate) fn tx(n: u8, ins: &[(&str, u64)], outs: Vec<VoutDto>) -> TxDto {
        let txid = format!("{n:02x}").repeat(32).parse().unwrap();
        let vin = ins
            .iter()
            .map(|(a, v)| VinDto {
                txid: "11".repeat(32).parse().unwrap(),
                vout: 0,
                prevout: Some(out(a, *v, "v0_p2wpkh")),
                scriptsig: String::new(),
                scriptsig_asm: String::new(),
                witness: vec![],
                is_coinbase: false,
                sequence: 0,
            })
            .collect();
        TxDto {
            txid,
            version: 2,
            locktime: 0,
            vin,
            vout: outs,
            size: 0,
            weight: 0,
            fee: 0,
            status: StatusDto { confirmed: true, block_height: Some(1), block_hash: None, block_time: None },
        }
    }

    #[test]
    fn common_input_and_round_amount_change_are_suggested() {
        let t = tx(
            1,
            &[("bcrt1a", 70_000_000), ("bcrt1b", 50_000_000)],
            vec![out("bcrt1shop", 100_000_000, "v0_p2wpkh"), out("bcrt1c", 19_990_000, "v0_p2wpkh")],
        );
        let mut g = FlowGraph::default();
        g.add_tx(&t);
        assert_eq!(g.nodes.len(), 5);
        assert_eq!(g.edges.len(), 4);
        assert_eq!(g.suggestions.len(), 2);
        assert_eq!(g.suggestions[0].heuristic, Heuristic::CommonInput);
        assert_eq!(g.suggestions[0].addresses, vec!["bcrt1a", "bcrt1b"]);
        assert_eq!(g.suggestions[1].heuristic, Heuristic::Change);
        assert_eq!(g.suggestions[1].addresses, vec!["bcrt1a", "bcrt1c"]);
        assert_eq!(g.decide(1, false).map(|s| s.verdict), Some(Verdict::Rejected));
        assert!(g.decide(9, true).is_none());
    }

    #[test]
    fn coinjoins_are_marked_and_get_no_suggestions() {
        let outs = (0..4).map(|i| out(&format!("bcrt1mix{i}"), 10_000_000, "v0_p2wpkh")).collect();
        let t = tx(2, &[("bcrt1a", 11_000_000), ("bcrt1b", 11_000_000), ("bcrt1c", 11_000_000)], outs);
        assert!(is_coinjoin(&t));
        let mut g = FlowGraph::default();
        g.add_tx(&t);
        assert!(g.nodes[&t.txid.to_string()].coinjoin);
        assert!(g.suggestions.is_empty());
    }

    #[test]
    fn change_by_address_reuse_and_by_script_type() {
        let reuse = tx(3, &[("bcrt1a", 5_000_000)], vec![out("bcrt1x", 1_234_567, "v0_p2wpkh"), out("bcrt1a", 3_000_000, "v0_p2wpkh")]);
        // Change back to the only input's address ties no two addresses together.
        assert!(change_output(&reuse).is_none());
        let reuse2 = tx(
            7,
            &[("bcrt1a", 5_000_000), ("bcrt1b", 1_000_000)],
            vec![out("bcrt1x", 1_234_567, "v0_p2wpkh"), out("bcrt1a", 4_000_000, "v0_p2wpkh")],
        );
        assert_eq!(change_output(&reuse2).unwrap().addresses, vec!["bcrt1b", "bcrt1a"]);
        let typed = tx(4, &[("bcrt1a", 5_000_000)], vec![out("bcrt1p", 1_234_567, "v1_p2tr"), out("bcrt1q", 3_765_433, "v0_p2wpkh")]);
        assert_eq!(change_output(&typed).unwrap().addresses, vec!["bcrt1a", "bcrt1q"]);
        let unclear = tx(5, &[("bcrt1a", 5_000_000)], vec![out("bcrt1p", 1_234_567, "v0_p2wpkh"), out("bcrt1q", 3_765_433, "v0_p2wpkh")]);
        assert!(change_output(&unclear).is_none());
    }

    #[test]
    fn expanding_an_address_lays_its_transactions_one_column_further() {
        let t = tx(6, &[("bcrt1a", 5_000_000)], vec![out("bcrt1b", 4_000_000, "v0_p2wpkh")]);
        let mut g = FlowGraph::default();
        g.add_address("bcrt1a", std::slice::from_ref(&t));
        let layout = g.layout();
        assert_eq!(layout["bcrt1a"].0, 0.0);
        assert!(layout[&t.txid.to_string()].0 > 0.0);
        assert!(g.nodes["bcrt1a"].expanded);
    }
}
