//! The one-screen scenario summary `darklab check` prints after a clean load, and the
//! rubric's maximum score.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::model::*;
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
                SiteKind::Mixer => "Mixer",
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
        let to = r.provider_kind.map_or_else(|| "any provider".to_string(), |k| format!("{k:?}"));
        let grounds = match r.grounds {
            Grounds::None => "no grounds".to_string(),
            Grounds::LinkToOffence { max_hops } => format!("link to offence ≤ {max_hops} hops"),
        };
        let _ = writeln!(o, "    {:?} → {to}: {grounds}, ruling in {}", r.request, r.ruling_delay);
    }
    let _ = writeln!(o, "  solution        {} step(s)", s.solution.len());
    let _ = writeln!(o, "  maximum score   {}", max_score(s));
    o
}

fn join_or_none<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}
