//! The registration captcha: a small arithmetic question, shown to browsers as a
//! distorted SVG picture and to programs as text (`GET /api/captcha`).
//!
//! Each challenge is drawn from the service's seeded RNG, stored with its answer, and used
//! up by the first attempt to answer it, right or wrong. The picture is drawn from the
//! challenge's id, so fetching it changes nothing.

use crate::db::Cached as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sim_core::clock::SimTime;
use sim_core::rng::{SimRng, below, bytes32};

use super::MarketError;

/// A challenge as served: its id, the question and where its picture is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Pass this back as `captcha_id`.
    pub id: String,
    /// E.g. "What is 7 + 12?"; the answer is the number, as digits.
    pub question: String,
    /// The same challenge as a picture (what the registration page shows).
    pub image_url: String,
}

/// Draws a new challenge and stores it.
pub fn new_challenge(conn: &Connection, rng: &mut SimRng, now: SimTime) -> Result<Challenge, MarketError> {
    let id = hex::encode(&bytes32(rng)[..16]);
    let a = below(rng, 18) + 2;
    let b = below(rng, 18) + 2;
    let (expr, answer) = match below(rng, 3) {
        0 => (format!("{a} + {b}"), a + b),
        1 => (format!("{} - {}", a.max(b), a.min(b)), a.max(b) - a.min(b)),
        _ => (format!("{} × {}", a % 10, b % 10), (a % 10) * (b % 10)),
    };
    let question = format!("What is {expr}?");
    conn.cached_exec(
        "INSERT INTO captchas (id, question, answer, created) VALUES (?1, ?2, ?3, ?4)",
        params![id, question, answer.to_string(), now.to_string()],
    )?;
    Ok(Challenge { image_url: format!("/captcha/{id}.svg"), id, question })
}

/// Checks an answer and uses the challenge up. 400 with a clear message when the id or
/// answer is missing, unknown, already used or wrong.
pub fn solve(conn: &Connection, id: Option<&str>, answer: Option<&str>) -> Result<(), MarketError> {
    let (Some(id), Some(answer)) = (id, answer) else {
        return Err(MarketError::BadInput("this market asks a captcha: GET /api/captcha, then send captcha_id and captcha_answer".into()));
    };
    let row: Option<(String, bool)> =
        conn.cached_row("SELECT answer, used FROM captchas WHERE id = ?1", params![id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let Some((expected, used)) = row else {
        return Err(MarketError::BadInput("unknown captcha; fetch a new one".into()));
    };
    if used {
        return Err(MarketError::BadInput("captcha already used; fetch a new one".into()));
    }
    conn.cached_exec("UPDATE captchas SET used = 1 WHERE id = ?1", params![id])?;
    if answer.trim() != expected {
        return Err(MarketError::BadInput("wrong captcha answer".into()));
    }
    Ok(())
}

/// The challenge `id` as an SVG picture: the expression's characters jittered and rotated
/// over noise lines. 404 if unknown.
pub fn svg(conn: &Connection, id: &str) -> Result<String, MarketError> {
    let question: String = conn
        .query_row("SELECT question FROM captchas WHERE id = ?1", params![id], |r| r.get(0))
        .optional()?
        .ok_or(MarketError::NotFound("captcha"))?;
    let expr = question.trim_start_matches("What is ").trim_end_matches('?');
    let text = format!("{expr} = ?");
    let noise = Sha256::digest(id.as_bytes());
    let n = |i: usize| i64::from(noise[i % noise.len()]);
    let mut out = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"220\" height=\"60\" viewBox=\"0 0 220 60\">\
         <rect width=\"220\" height=\"60\" fill=\"#e8e4d8\"/>",
    );
    for i in 0..6 {
        out.push_str(&format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8a7f6a\" stroke-width=\"1.5\"/>",
            n(i * 4) % 220,
            n(i * 4 + 1) % 60,
            n(i * 4 + 2) % 220,
            n(i * 4 + 3) % 60
        ));
    }
    for (i, ch) in text.chars().enumerate() {
        let x = 14 + i64::try_from(i).unwrap_or(0) * 17 + n(i + 7) % 5;
        let y = 38 + n(i + 13) % 9 - 4;
        let rot = n(i + 19) % 31 - 15;
        // The characters are digits, operators, '=', '?' and spaces: nothing to escape.
        let ch = match ch {
            '<' | '>' | '&' | '"' => '?',
            c => c,
        };
        out.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" transform=\"rotate({rot} {x} {y})\" font-family=\"monospace\" font-size=\"26\" fill=\"#2b2b2b\">{ch}</text>"
        ));
    }
    out.push_str("</svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Works out the answer from the question, as a program would.
    pub(crate) fn answer(question: &str) -> String {
        let expr = question.trim_start_matches("What is ").trim_end_matches('?');
        let parts: Vec<&str> = expr.split(' ').collect();
        let (a, op, b): (i64, &str, i64) = (parts[0].parse().unwrap(), parts[1], parts[2].parse().unwrap());
        match op {
            "+" => a + b,
            "-" => a - b,
            _ => a * b,
        }
        .to_string()
    }

    #[test]
    fn challenges_are_answered_once() {
        let conn = crate::market::accounts::tests::db();
        let mut rng = sim_core::rng::stream(3, "captcha");
        for _ in 0..10 {
            let c = new_challenge(&conn, &mut rng, SimTime(5)).unwrap();
            assert!(svg(&conn, &c.id).unwrap().starts_with("<svg"));
            solve(&conn, Some(&c.id), Some(&answer(&c.question))).unwrap();
            assert!(matches!(solve(&conn, Some(&c.id), Some(&answer(&c.question))), Err(MarketError::BadInput(_))));
        }
        let c = new_challenge(&conn, &mut rng, SimTime(5)).unwrap();
        assert!(matches!(solve(&conn, Some(&c.id), Some("nope")), Err(MarketError::BadInput(_))));
        assert!(matches!(solve(&conn, None, None), Err(MarketError::BadInput(_))));
        assert!(matches!(svg(&conn, "zz"), Err(MarketError::NotFound(_))));
    }
}
