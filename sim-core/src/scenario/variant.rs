//! Scenario variants: worlds of equal structure and difficulty that differ in what a team
//! could otherwise share (names, handles, amounts, timings).
//!
//! [`variant`] derives variant `k` deterministically from `k` and the scenario's id through
//! [`crate::rng`] streams, one per aspect. The cast, scripts, slips, charges, legal rules
//! and the shape of the reference solution stay as written; only the aspects the
//! scenario's [`Variants`] section switches on are redrawn, and every place a redrawn name
//! or handle appears (the solution's captures and suspects, bios, feedback, injects,
//! hints, descriptions) is rewritten consistently. Variant 0 is the scenario itself.

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use crate::clock::SimDuration;
use crate::ids::{ListingId, Sats};
use crate::rng::{self, SimRng};

/// Most variants a scenario may declare.
pub const MAX_VARIANTS: u32 = 100;

const FIRST_NAMES: &[&str] = &[
    "Aidan", "Beatrice", "Carlos", "Dana", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Katja", "Lars", "Maya", "Nils", "Olga",
    "Pavel", "Rosa", "Stefan", "Tara", "Victor", "Wanda", "Yusuf", "Zoe", "Bruno", "Clara", "Dmitri", "Emma", "Farid", "Hanna", "Ivo",
];
const LAST_NAMES: &[&str] = &[
    "Adler",
    "Brennan",
    "Costa",
    "Dufour",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Keller",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ulrich",
    "Varga",
    "Weber",
    "Young",
    "Zielinski",
];
const HANDLE_HEADS: &[&str] = &[
    "Frosty", "Silent", "Golden", "Shadow", "Velvet", "Crimson", "Lucky", "Misty", "Rapid", "Hidden", "Cosmic", "Wild", "Quiet", "Neon",
    "Amber", "Iron",
];
const HANDLE_TAILS: &[&str] = &[
    "Owl", "Fox", "Leaf", "River", "Moss", "Raven", "Comet", "Tiger", "Lotus", "Pine", "Falcon", "Wolf", "Cedar", "Otter", "Lynx", "Ember",
];
const HANDLE_ENDS: &[&str] = &["", "UK", "EU", "_22", "_77", "99", "-X", "Direct"];

fn pick<'a>(r: &mut SimRng, pool: &[&'a str]) -> &'a str {
    let n = u64::try_from(pool.len()).unwrap_or(u64::MAX);
    let i = usize::try_from(rng::below(r, n)).unwrap_or(0);
    pool.get(i).copied().unwrap_or("")
}

/// Variant `k` of `s` (`k = 0`, or a scenario without a `variants` section: `s` itself).
pub fn variant(s: &Scenario, k: u32) -> Scenario {
    let mut v = s.clone();
    let Some(spec) = s.variants.clone() else { return v };
    if k == 0 {
        return v;
    }
    let stream = |aspect: &str| rng::stream(u64::from(k), &format!("variant/{}/{aspect}", s.meta.id));
    let mut texts: Vec<(String, String)> = Vec::new();
    if spec.names {
        texts.extend(redraw_names(&mut v, &mut stream("names")));
    }
    if spec.handles {
        texts.extend(redraw_handles(&mut v, &mut stream("handles")));
    }
    if spec.amounts {
        scale_amounts(&mut v, &mut stream("amounts"));
    }
    if spec.timings {
        shift_timings(&mut v, &mut stream("timings"));
    }
    rewrite_texts(&mut v, &texts);
    if move_slips(&mut v, &spec.slips, k) {
        // The reference solution follows the traces of variant 0; the solver finds this
        // variant's own lawful path.
        if let super::solve::Solvability::Solved(sol) = super::solve::solve(&v) {
            v.solution = sol.steps;
        }
    }
    v.meta.title = format!("{} (variant {k})", s.meta.title);
    v
}

/// Gives each actor named in `choices` the slips of option `k mod n`; whether any moved.
fn move_slips(v: &mut Scenario, choices: &[SlipOptions], k: u32) -> bool {
    let mut moved = false;
    for c in choices {
        let n = u32::try_from(c.options.len()).unwrap_or(u32::MAX);
        let Some(option) = (n > 0).then(|| usize::try_from(k % n).ok()).flatten().and_then(|i| c.options.get(i)) else { continue };
        if let Some(a) = v.cast.iter_mut().find(|a| a.id == c.actor)
            && a.slips != *option
        {
            a.slips = option.clone();
            moved = true;
        }
    }
    moved
}

/// New real names (and e-mails) for every identity; the (old, new) name pairs.
fn redraw_names(v: &mut Scenario, r: &mut SimRng) -> Vec<(String, String)> {
    let mut taken: BTreeSet<String> = v.cast.iter().map(|a| a.identity.name.clone()).collect();
    let mut pairs = Vec::new();
    for a in &mut v.cast {
        let mut name = String::new();
        for attempt in 0..64u32 {
            let candidate = format!("{} {}", pick(r, FIRST_NAMES), pick(r, LAST_NAMES));
            let candidate = if attempt >= 32 { format!("{candidate} {attempt}") } else { candidate };
            if !taken.contains(&candidate) {
                name = candidate;
                break;
            }
        }
        if name.is_empty() {
            continue;
        }
        taken.insert(name.clone());
        let old = std::mem::replace(&mut a.identity.name, name.clone());
        if let Some((_, domain)) = a.identity.email.split_once('@') {
            let local: String = name.to_lowercase().split_whitespace().collect::<Vec<_>>().join(".");
            a.identity.email = format!("{local}{}@{domain}", rng::below(r, 90) + 10);
        }
        pairs.push((old, name));
    }
    pairs
}

/// New handles for every persona, unique per site; the (old, new) handle pairs.
fn redraw_handles(v: &mut Scenario, r: &mut SimRng) -> Vec<(String, String)> {
    let mut taken: BTreeSet<(String, String)> =
        v.cast.iter().flat_map(|a| a.personas.iter()).map(|p| (p.site.to_string(), p.handle.to_lowercase())).collect();
    let mut by_old: BTreeMap<(String, String), String> = BTreeMap::new();
    for a in &mut v.cast {
        for p in &mut a.personas {
            let mut handle = String::new();
            for attempt in 0..64u32 {
                let mut candidate = format!("{}{}{}", pick(r, HANDLE_HEADS), pick(r, HANDLE_TAILS), pick(r, HANDLE_ENDS));
                if attempt >= 32 {
                    candidate.push_str(&attempt.to_string());
                }
                if !taken.contains(&(p.site.to_string(), candidate.to_lowercase())) {
                    handle = candidate;
                    break;
                }
            }
            if handle.is_empty() {
                continue;
            }
            taken.insert((p.site.to_string(), handle.to_lowercase()));
            let old = std::mem::replace(&mut p.handle, handle.clone());
            by_old.insert((p.site.to_string(), old), handle);
        }
    }
    for step in &mut v.solution {
        if let SolutionStep::Capture {
            target: CaptureTarget::VendorProfile { site, handle } | CaptureTarget::ListingPhoto { site, handle },
            ..
        } = step
            && let Some(new) = by_old.get(&(site.to_string(), handle.clone()))
        {
            *handle = new.clone();
        }
    }
    by_old.into_iter().map(|((_, old), new)| (old, new)).collect()
}

/// A factor in per mille, uniform in `lo..=hi`.
fn per_mille(r: &mut SimRng, lo: u64, hi: u64) -> u64 {
    lo + rng::below(r, hi.saturating_sub(lo) + 1)
}

fn scaled(x: Sats, pm: u64) -> Sats {
    let v = u128::from(x.0) * u128::from(pm) / 1000;
    Sats(u64::try_from(v).unwrap_or(u64::MAX))
}

/// Listing prices and initial funds within ±20 %; buyers' funds grow at least as much as
/// the prices of what they order, so they can still pay.
fn scale_amounts(v: &mut Scenario, r: &mut SimRng) {
    let mut price_pm: BTreeMap<ListingId, u64> = BTreeMap::new();
    for a in &mut v.cast {
        for st in &mut a.script {
            if let Action::List { listing, .. } = &mut st.action {
                let pm = per_mille(r, 800, 1200);
                listing.price = scaled(listing.price, pm);
                price_pm.insert(listing.id.clone(), pm);
            }
        }
    }
    for f in &mut v.coin.initial_funds {
        let need = v
            .cast
            .iter()
            .filter(|a| a.id == f.actor)
            .flat_map(|a| a.script.iter())
            .filter_map(|st| match &st.action {
                Action::Order { listing, .. } => price_pm.get(listing).copied(),
                _ => None,
            })
            .max()
            .unwrap_or(800)
            .max(1000);
        f.amount = scaled(f.amount, per_mille(r, need, 1200));
    }
}

/// Each step with a jitter moves to a point inside its window `[at, at + jitter]`, and
/// keeps the rest of the window as its jitter.
fn shift_timings(v: &mut Scenario, r: &mut SimRng) {
    for a in &mut v.cast {
        for st in &mut a.script {
            let j = u64::try_from(st.jitter.0).unwrap_or(0);
            if j == 0 {
                continue;
            }
            let d = i64::try_from(rng::below(r, j + 1)).unwrap_or(0);
            st.at = SimDuration(st.at.0.saturating_add(d));
            st.jitter = SimDuration(st.jitter.0.saturating_sub(d));
        }
    }
}

/// Replaces every old name or handle in the scenario's free texts, longest first, in one
/// pass (a new name that contains an old one is not rewritten again).
fn rewrite_texts(v: &mut Scenario, pairs: &[(String, String)]) {
    let mut pairs: Vec<&(String, String)> = pairs.iter().filter(|(o, n)| !o.is_empty() && o != n).collect();
    if pairs.is_empty() {
        return;
    }
    pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    let fix = |t: &mut String| {
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        'outer: while !rest.is_empty() {
            for (old, new) in &pairs {
                if let Some(after) = rest.strip_prefix(old.as_str()) {
                    out.push_str(new);
                    rest = after;
                    continue 'outer;
                }
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
        *t = out;
    };
    fix(&mut v.meta.summary);
    v.meta.learning_goals.iter_mut().for_each(fix);
    for a in &mut v.cast {
        for st in &mut a.script {
            match &mut st.action {
                Action::OpenShop { bio, .. } => fix(bio),
                Action::FinalizeOrders { feedback, .. } => fix(feedback),
                Action::List { listing, .. } => {
                    fix(&mut listing.title);
                    fix(&mut listing.description);
                }
                _ => {}
            }
        }
    }
    for c in &mut v.charges {
        fix(&mut c.title);
        for e in &mut c.elements {
            fix(&mut e.description);
        }
    }
    v.injects.iter_mut().for_each(|i| fix(&mut i.message));
    v.hints.iter_mut().for_each(|h| fix(&mut h.text));
    for st in &mut v.solution {
        if let SolutionStep::File(case) = st {
            case.suspects.iter_mut().for_each(|s| fix(&mut s.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Scenario {
        ron::from_str(include_str!("../../../scenarios/careless-vendor.ron")).expect("parses")
    }

    #[test]
    fn variant_zero_is_the_scenario_and_others_are_deterministic() {
        let s = shipped();
        assert_eq!(variant(&s, 0), s);
        assert_eq!(variant(&s, 2), variant(&s, 2));
        assert_ne!(variant(&s, 1), variant(&s, 2));
    }

    /// (at, at + jitter) of every scripted step: the window a step may fall in.
    fn windows(s: &Scenario) -> Vec<(i64, i64)> {
        s.cast.iter().flat_map(|a| a.script.iter()).map(|st| (st.at.0, st.at.0 + st.jitter.0)).collect()
    }

    #[test]
    fn timings_move_inside_each_steps_window_and_aspects_can_be_switched_off() {
        let s = shipped();
        let base = windows(&s);
        let mut moved = 0;
        for k in 1..=3 {
            let v = variant(&s, k);
            for ((at, end), (v_at, v_end)) in base.iter().zip(windows(&v)) {
                assert!(v_at >= *at && v_at <= *end, "variant {k}: a step leaves its window");
                assert_eq!(v_end, *end, "variant {k}: the window's end stays");
                moved += usize::from(v_at != *at);
            }
        }
        assert!(moved > 0, "jittered steps move in some variant");
        // Every aspect off: only the title and the slips (none listed) could change.
        let mut fixed = s.clone();
        fixed.variants = Some(Variants { count: 3, names: false, handles: false, amounts: false, timings: false, slips: Vec::new() });
        let v = variant(&fixed, 2);
        assert_eq!(Scenario { meta: Meta { title: fixed.meta.title.clone(), ..v.meta.clone() }, ..v }, fixed);
        // Only names on: the names change, the times do not.
        let mut names_only = s.clone();
        names_only.variants = Some(Variants { names: true, ..fixed.variants.clone().expect("variants") });
        let v = variant(&names_only, 2);
        assert_eq!(windows(&v), base);
        assert_eq!(
            v.cast.iter().flat_map(|a| a.script.iter().map(|st| st.at)).collect::<Vec<_>>(),
            s.cast.iter().flat_map(|a| a.script.iter().map(|st| st.at)).collect::<Vec<_>>()
        );
        assert_ne!(v.cast[0].identity.name, s.cast[0].identity.name);
    }

    #[test]
    fn texts_are_rewritten_in_one_pass() {
        let mut s = shipped();
        s.injects[0].message = "GreenLeafUK and Mark Ellis".into();
        rewrite_texts(&mut s, &[("Mark Ellis".into(), "Mark Ellis Jr".into()), ("GreenLeafUK".into(), "Owl".into())]);
        assert_eq!(s.injects[0].message, "Owl and Mark Ellis Jr");
    }
}
