//! Private messages between users, optionally OpenPGP-encrypted.
//!
//! A sender may paste a message already encrypted to the recipient's key (it is stored as
//! it came), or ask the market to encrypt it to the key on the recipient's vendor profile
//! (`encrypt: true`). A plain message is stored in plain text — which is exactly what a
//! seizure of the server reads.

use crate::db::Cached as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::SimTime;

use super::MarketError;
use super::accounts::User;

/// Longest subject, in bytes.
pub const SUBJECT_MAX: usize = 200;
/// Longest body, in bytes.
pub const BODY_MAX: usize = 20_000;

/// Body of `POST /api/messages` (and the messages form).
#[derive(Debug, Clone, Deserialize)]
pub struct NewMessage {
    /// The recipient's handle.
    pub to: String,
    /// Up to 200 bytes.
    #[serde(default)]
    pub subject: String,
    /// 1–20 000 bytes.
    pub body: String,
    /// Encrypt to the recipient's published key before storing.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub encrypt: bool,
}

/// Accepts `true`/`false` and the form values `"on"`, `"true"`, `"1"` (checked boxes).
pub(crate) fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match B::deserialize(d)? {
        B::Bool(b) => b,
        B::Text(s) => matches!(s.as_str(), "on" | "true" | "1" | "yes"),
    })
}

/// A message as its sender and recipient see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Message id.
    pub id: i64,
    /// Sender's handle.
    pub from: String,
    /// Recipient's handle.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body (an armoured OpenPGP message when `encrypted`).
    pub body: String,
    /// Whether the body is an OpenPGP message.
    pub encrypted: bool,
    /// When sent (simulated time, ISO-8601).
    pub created: String,
}

/// A user's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Received, newest first.
    pub inbox: Vec<MessageView>,
    /// Sent, newest first.
    pub sent: Vec<MessageView>,
}

/// Sends a message; `seed` drives the encryption when the market encrypts. Returns its id.
pub fn send(conn: &Connection, now: SimTime, sender: &User, req: &NewMessage, seed: [u8; 32]) -> Result<i64, MarketError> {
    if req.subject.len() > SUBJECT_MAX {
        return Err(MarketError::BadInput(format!("subject must be at most {SUBJECT_MAX} bytes")));
    }
    if req.body.trim().is_empty() || req.body.len() > BODY_MAX {
        return Err(MarketError::BadInput(format!("body must be 1-{BODY_MAX} bytes")));
    }
    let recipient: Option<i64> = conn.cached_row("SELECT id FROM users WHERE username = ?1", params![req.to], |r| r.get(0)).optional()?;
    let Some(recipient) = recipient else {
        return Err(MarketError::NotFound("recipient"));
    };
    if recipient == sender.id {
        return Err(MarketError::BadInput("cannot message yourself".into()));
    }
    let (body, encrypted) = if req.encrypt {
        let key: Option<String> =
            conn.cached_row("SELECT pgp_key FROM vendors WHERE user_id = ?1", params![recipient], |r| r.get(0)).optional()?.flatten();
        let key = key.ok_or_else(|| MarketError::BadInput("the recipient publishes no PGP key".into()))?;
        let armored = super::pgp::encrypt_to(&key, req.body.as_bytes(), seed)
            .map_err(|e| MarketError::BadInput(format!("cannot encrypt to the recipient's key: {e}")))?;
        (armored, true)
    } else {
        (req.body.clone(), super::pgp::is_armored_message(&req.body))
    };
    conn.cached_exec(
        "INSERT INTO messages (sender_id, recipient_id, subject, body, encrypted, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![sender.id, recipient, req.subject, body, encrypted, now.to_string()],
    )?;
    Ok(conn.last_insert_rowid())
}

const VIEW_SQL: &str = "SELECT m.id, s.username, r.username, m.subject, m.body, m.encrypted, m.created
     FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id";

fn view(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageView> {
    Ok(MessageView {
        id: r.get(0)?,
        from: r.get(1)?,
        to: r.get(2)?,
        subject: r.get(3)?,
        body: r.get(4)?,
        encrypted: r.get(5)?,
        created: r.get(6)?,
    })
}

/// `user`'s inbox and sent messages.
pub fn mailbox(conn: &Connection, user: &User) -> Result<Mailbox, MarketError> {
    let mut inbox = conn.prepare_cached(&format!("{VIEW_SQL} WHERE m.recipient_id = ?1 ORDER BY m.id DESC"))?;
    let inbox = inbox.query_map(params![user.id], view)?.collect::<Result<_, _>>()?;
    let mut sent = conn.prepare_cached(&format!("{VIEW_SQL} WHERE m.sender_id = ?1 ORDER BY m.id DESC"))?;
    let sent = sent.query_map(params![user.id], view)?.collect::<Result<_, _>>()?;
    Ok(Mailbox { inbox, sent })
}

/// Deletes a message its sender or recipient no longer wants kept (a vendor wiping its
/// conversations): it is gone for both, and from the server's database.
pub fn delete(conn: &Connection, user: &User, id: i64) -> Result<(), MarketError> {
    let parties: Option<(i64, i64)> = conn
        .query_row("SELECT sender_id, recipient_id FROM messages WHERE id = ?1", params![id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match parties {
        Some((from, to)) if from == user.id || to == user.id => {
            conn.cached_exec("DELETE FROM messages WHERE id = ?1", params![id])?;
            Ok(())
        }
        // Someone else's message is as unknown to this user as a message that never was.
        _ => Err(MarketError::NotFound("message")),
    }
}
