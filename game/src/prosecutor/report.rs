//! The verdict as a self-contained HTML page for the debrief: score, a chart of points by
//! category, every attribution and element with its explanation, excluded evidence, what a
//! full case would have contained, and the team's investigation step by step. One file, no
//! external resources, print-ready (so a PDF can be made from it in any browser).

use minijinja::value::{Serde, Value};
use minijinja::{Environment, context};
use serde::Serialize;

use super::Verdict;
use crate::lab::TimelineEvent;

const TEMPLATE: &str = include_str!("../../templates/verdict.html");

/// Why a report could not be rendered (a template bug; never the team's data).
#[derive(Debug, thiserror::Error)]
#[error("verdict report: {0}")]
pub struct ReportError(#[from] minijinja::Error);

#[derive(Serialize)]
struct Bar {
    label: String,
    points: i64,
    x: i64,
    y: i64,
    width: i64,
    colour: &'static str,
}

/// Horizontal bars for the categories around a zero line (penalties go left).
fn bars(v: &Verdict) -> (Vec<Bar>, i64, i64) {
    let (label_width, scale_width) = (130_i64, 440_i64);
    let most = v.categories.values().map(|p| p.abs()).max().unwrap_or(1).max(1);
    let has_negative = v.categories.values().any(|p| *p < 0);
    let zero = if has_negative { label_width + scale_width / 2 } else { label_width };
    let span = if has_negative { scale_width / 2 } else { scale_width };
    let mut out = Vec::new();
    for (i, (label, points)) in v.categories.iter().enumerate() {
        let width = (points.abs() * span / most).max(if *points == 0 { 0 } else { 2 });
        let x = if *points < 0 { zero - width } else { zero };
        let colour = if *points < 0 { "#b3261e" } else { "#1d3557" };
        out.push(Bar { label: label.clone(), points: *points, x, y: 8 + 28 * i64::try_from(i).unwrap_or(0), width, colour });
    }
    let height = 16 + 28 * i64::try_from(out.len()).unwrap_or(0);
    (out, zero, height)
}

impl Verdict {
    /// The verdict as one HTML page (all user text escaped).
    pub fn render_html(&self, exercise: &str, judged_at: &str, timeline: &[TimelineEvent]) -> Result<String, ReportError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.add_template("verdict.html", TEMPLATE)?;
        let (bars, zero, chart_height) = bars(self);
        let page = env.get_template("verdict.html")?.render(context! {
            team => &self.team,
            exercise => exercise,
            judged_at => judged_at,
            score => self.score,
            max_score => self.max_score,
            bars => Value::from(Serde(bars)),
            zero => zero,
            chart_height => chart_height,
            suspects => Value::from(Serde(&self.suspects)),
            excluded => Value::from(Serde(&self.excluded)),
            missed => Value::from(Serde(&self.missed)),
            lateness => &self.lateness,
            tip_offs => Value::from(Serde(&self.tip_offs)),
            timeline => Value::from(Serde(timeline)),
        })?;
        Ok(page)
    }
}
