//! The verdict as readable text for the debrief: suspect by suspect, element by
//! element, then what was excluded, what was missed and the score.

use std::fmt::Write;

use super::Verdict;

fn signed(n: i64) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}

impl Verdict {
    /// The verdict as plain text, ending with the line `Score: S / M`.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; the results are ignored on purpose.
        let _ = writeln!(out, "Verdict for team {}", self.team);
        if self.suspects.is_empty() {
            let _ = writeln!(out, "\nThe case names no suspect.");
        }
        for (i, s) in self.suspects.iter().enumerate() {
            let _ = writeln!(out, "\nSuspect {}: {} ({} points)", i + 1, s.name, signed(s.points));
            if let Some(why) = &s.wrong_accusation {
                let _ = writeln!(out, "  {why}");
            }
            if !s.attributions.is_empty() {
                let _ = writeln!(out, "  Attribution");
                for a in &s.attributions {
                    let mark = if a.correct { "attributed" } else { "not attributed" };
                    let _ = writeln!(out, "    [{mark}, {}] {}", signed(a.points), a.explanation);
                }
            }
            let mut charge = None;
            for e in &s.elements {
                if charge != Some(&e.charge) {
                    let _ = writeln!(out, "  Charge: {} ({})", e.charge_title, e.charge);
                    charge = Some(&e.charge);
                }
                let mark = if e.proven { "proven" } else { "not proven" };
                let _ = writeln!(out, "    [{mark}, {}] {} — {}: {}", signed(e.points), e.element, e.description, e.explanation);
            }
            for n in &s.notes {
                let _ = writeln!(out, "  Note: {n}");
            }
        }
        if !self.excluded.is_empty() {
            let _ = writeln!(out, "\nEvidence not considered");
            for (id, why) in &self.excluded {
                let _ = writeln!(out, "  {id}: {why}");
            }
        }
        if !self.missed.is_empty() {
            let _ = writeln!(out, "\nA full case would also have had");
            for m in &self.missed {
                let _ = writeln!(out, "  - {m}");
            }
        }
        if let Some(late) = &self.lateness {
            let _ = writeln!(out, "\nLate filing: {late}");
        }
        if !self.tip_offs.is_empty() {
            let _ = writeln!(out, "\nTip-offs");
            for t in &self.tip_offs {
                let _ = writeln!(out, "  - {t}");
            }
        }
        let cat = |k: &str| signed(self.categories.get(k).copied().unwrap_or(0));
        let _ = writeln!(
            out,
            "\nSteps {} · attribution {} · elements {} · penalties {}",
            cat("steps"),
            cat("attribution"),
            cat("elements"),
            cat("penalties")
        );
        let _ = writeln!(out, "Score: {} / {}", self.score, self.max_score);
        out
    }
}
