//! The one-screen scenario summary `darklab check` prints after a clean load (with the
//! solver's shortest lawful path, its duration, a difficulty estimate and one line per
//! declared variant), and the rubric's maximum score.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::model::*;
use super::solve::{Solution, Solvability, describe_step, solve};
use crate::ids::{ActorId, PersonaId};

/// The most points a team can score under the rubric: every counted step, every
/// (offender, persona) pair named by a charge proof attributed, every element proven.
pub fn max_score(s: &Scenario) -> i64 {
    let r = &s.rubric;
    let pairs: BTreeSet<(&ActorId, &PersonaId)> = s
        .charges
        .iter()
        .flat_map(|c| {
            c.elements.iter().map(move |e| match &e.proven_by {
                Proof::Fact { persona, .. } | Proof::Link { persona, .. } => (&c.offender, persona),
            })
        })
        .collect();
    let elements: usize = s.charges.iter().map(|c| c.elements.len()).sum();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    r.step
        .saturating_mul(i64::from(r.max_steps))
        .saturating_add(r.attribution.saturating_mul(count(pairs.len())))
        .saturating_add(r.element.saturating_mul(count(elements)))
}

/// A one-screen, human-readable summary of a scenario.
pub fn summary(s: &Scenario) -> String {
    let m = &s.meta;
    let mut o = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(o, "{} ({})", m.title, m.id);
    let _ = writeln!(o, "  difficulty      {:?}", m.difficulty);
    let _ = writeln!(o, "  start           {}", m.start);
    let _ = writeln!(o, "  world duration  {}   time budget {}   compression {}x", m.world_duration, m.time_budget, m.compression);
    let sites: Vec<String> = s
        .sites
        .iter()
        .map(|x| {
            let kind = match &x.kind {
                SiteKind::Market(_) => "Market",
                SiteKind::Forum => "Forum",
                SiteKind::Mixer(_) => "Mixer",
                SiteKind::CoinJoin(_) => "CoinJoin",
                SiteKind::Social => "Social",
                SiteKind::Paste => "Paste",
                SiteKind::Search => "Search",
            };
            format!("{} ({kind})", x.id)
        })
        .collect();
    let _ = writeln!(o, "  sites           {}", join_or_none(&sites));
    let providers: Vec<String> = s.providers.iter().map(|p| format!("{} ({:?})", p.id, p.kind)).collect();
    let _ = writeln!(o, "  providers       {}", join_or_none(&providers));
    let _ = writeln!(o, "  cast            {} actor(s)", s.cast.len());
    for a in &s.cast {
        let personas: Vec<&str> = a.personas.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(
            o,
            "    {:<12} {:<12} personas: {:<20} steps: {}",
            a.id.as_str(),
            format!("{:?}", a.role),
            join_or_none(&personas),
            a.script.len()
        );
    }
    let slips: Vec<String> = s.cast.iter().flat_map(|a| a.slips.iter().map(move |sl| format!("{} ({})", sl.id, a.id))).collect();
    let _ = writeln!(o, "  slips           {}", join_or_none(&slips));
    let _ = writeln!(o, "  charges         {}", s.charges.len());
    for c in &s.charges {
        let _ = writeln!(o, "    {:<12} {} — offender {}, {} element(s)", c.id.as_str(), c.title, c.offender, c.elements.len());
    }
    let _ = writeln!(o, "  legal rules     {}", s.legal.rules.len());
    for r in &s.legal.rules {
        let to = match r.provider_kind {
            Some(k) => format!("{k:?}"),
            None if r.request == RequestKind::UndercoverAuthorisation => "a market or forum".to_string(),
            None => "any provider".to_string(),
        };
        let grounds = match r.grounds {
            Grounds::None => "no grounds".to_string(),
            Grounds::LinkToOffence { max_hops } => format!("link to offence ≤ {max_hops} hops"),
        };
        let _ = writeln!(o, "    {:?} → {to}: {grounds}, ruling in {}", r.request, r.ruling_delay);
    }
    let _ = writeln!(o, "  solution        {} step(s)", s.solution.len());
    let _ = writeln!(o, "  maximum score   {}", max_score(s));
    let _ = writeln!(o, "  solver          {}", solver_line(s, &solve(s)));
    if let Solvability::Solved(sol) | Solvability::OverBudget { fastest: sol, .. } = solve(s) {
        let _ = writeln!(o, "                  ({})", sol.difficulty.reason);
        for (i, step) in sol.steps.iter().enumerate() {
            let _ = writeln!(o, "    {}. {}", i + 1, describe_step(step));
        }
    }
    let count = s.variants.as_ref().map_or(0, |v| v.count);
    if count > 0 {
        let _ = writeln!(o, "  variants        {count} declared");
        for k in 1..=count.min(super::variant::MAX_VARIANTS) {
            let _ = writeln!(o, "    {}", variant_line(s, k));
        }
    }
    // The debrief's headline; the whole text is the instructor's, in `meta.debrief`.
    if let Some(first) = m.debrief.trim().lines().next() {
        let more = m.debrief.trim().lines().count() - 1;
        let rest = if more > 0 { format!(" (+{more} line(s) in meta.debrief)") } else { String::new() };
        let _ = writeln!(o, "  debrief         {}{rest}", first.trim());
    }
    o
}

/// The solver's verdict in one line: path length, simulated duration, difficulty.
pub fn solver_line(s: &Scenario, result: &Solvability) -> String {
    let actions = |sol: &Solution| sol.steps.len().saturating_sub(1);
    match result {
        Solvability::Solved(sol) => {
            let shortest = if sol.shortest { "shortest" } else { "a (search cut short)" };
            let declared =
                if sol.difficulty.level == s.meta.difficulty { String::new() } else { format!(", declared {:?}", s.meta.difficulty) };
            format!(
                "{shortest} lawful path {} action(s), {} of a {} budget, estimated {:?}{declared}",
                actions(sol),
                sol.duration,
                s.meta.time_budget,
                sol.difficulty.level
            )
        }
        Solvability::OverBudget { fastest, budget } => {
            format!(
                "over budget: the fastest lawful path takes {} ({} action(s)), the budget is {budget}",
                fastest.duration,
                actions(fastest)
            )
        }
        Solvability::Unsolvable { missing, .. } => format!("unsolvable: no lawful path reveals `{missing}` ({:?})", missing.kind),
    }
}

/// One line about variant `k`: who and which handles it draws, and the solver's verdict.
pub fn variant_line(s: &Scenario, k: u32) -> String {
    let v = super::variant::variant(s, k);
    let offenders: BTreeSet<&ActorId> = v.charges.iter().map(|c| &c.offender).collect();
    let who: Vec<String> = v
        .cast
        .iter()
        .filter(|a| offenders.contains(&a.id))
        .map(|a| {
            let handles: Vec<&str> = a.personas.iter().map(|p| p.handle.as_str()).collect();
            format!("{} ({})", a.identity.name, handles.join(", "))
        })
        .collect();
    let verdict = match solve(&v) {
        Solvability::Solved(sol) => {
            format!("solved: {} action(s), {}, {:?}", sol.steps.len().saturating_sub(1), sol.duration, sol.difficulty.level)
        }
        other => solver_line(&v, &other),
    };
    format!("variant {k}  {} — {verdict}", join_or_none(&who))
}

fn join_or_none<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}
