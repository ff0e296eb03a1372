//! A courier/postal service: parcels dropped off at an office, with the time, the sender
//! as written on the form, the recipient and a tracking number — the records that tie a
//! vendor's shipments to a counter and a name.
//!
//! Routes:
//! - `POST /api/parcels` `{office, sender_name, sender_address?, recipient_name, recipient_address, weight_g}`
//!   → [`DropReceipt`] `{tracking, office, dropped_at}`
//! - `GET /track/{tracking}` → [`TrackingView`] (public: office and time, no names)
//! - `GET /api/offices` → the drop-off offices with their positions (the public office finder)
//! - 🔒 `GET /legal/records?tracking=…` | `?sender=…` | `?place=<lat>,<lon>` → [`CourierRecords`]
//! - 🔒 `POST /legal/preserve?…` (same selectors) → [`Preservation`](legal::Preservation)
//!
//! Legal answer (stable keys, the lab parses them):
//! ```json
//! {"provider", "jurisdiction", "retention", "produced_at", "query": {"tracking"} | {"sender"} | {"place"},
//!  "parcels": [{"tracking", "office", "place", "dropped_at", "sender_name", "sender_address",
//!               "recipient_name", "recipient_address", "weight_g"}]}
//! ```
//! `sender` matches the name as written, ignoring ASCII case and surrounding spaces;
//! `place` matches the parcels handed in at the office at that position (coordinates
//! rounded to four decimals, as [`sim_core::facts::place_key`] names places). A parcel's
//! `place` is its office's position, or null for an office the courier has no position of.
//! Parcels are dated by drop-off under the retention rule of [`super::legal`].

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sim_core::clock::{SimClock, SimDuration, SimTime};
use sim_core::rng::{SimRng, below};

use super::legal::{self, LegalQuery, ProductionHeader, RetentionWindow, legal_desk};
use super::{ProviderError, provider_config, text_field, validate_common};
use crate::http_util::{ApiJson, ApiPath, method_not_allowed, not_found};
use crate::service::record_service;

/// How the courier is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourierConfig {
    /// The provider's name, as it appears on produced records.
    pub name: String,
    /// The bearer credential of the legal desk (only the lab holds it).
    pub legal_token: String,
    /// How long parcel records are kept.
    pub retention: SimDuration,
    /// Where the provider is, e.g. `"NL"` (also the tracking numbers' suffix).
    pub jurisdiction: String,
    /// The drop-off offices and their positions; when any are given, parcels are taken in at
    /// these offices only.
    #[serde(default)]
    pub offices: Vec<CourierOffice>,
}

/// A drop-off office and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourierOffice {
    /// The office's name, as written on drop-off forms.
    pub name: String,
    /// Latitude, decimal degrees.
    pub lat: f64,
    /// Longitude, decimal degrees.
    pub lon: f64,
}

impl CourierOffice {
    /// The office's position as a place name (`"<lat>,<lon>"`, four decimals).
    pub fn place(&self) -> String {
        sim_core::facts::place_key(self.lat, self.lon)
    }
}

provider_config!(CourierConfig);

impl CourierConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ProviderError> {
        validate_common(&self.name, &self.legal_token, self.retention, &self.jurisdiction)?;
        for o in &self.offices {
            text_field("office name", &o.name, 100).map_err(|e| ProviderError::Config(e.to_string()))?;
            if !(-90.0..=90.0).contains(&o.lat) || !(-180.0..=180.0).contains(&o.lon) {
                return Err(ProviderError::Config(format!("office {} has no valid position", o.name)));
            }
        }
        Ok(())
    }

    /// The office of this name (ASCII case and surrounding spaces ignored), if listed.
    pub fn office(&self, name: &str) -> Option<&CourierOffice> {
        self.offices.iter().find(|o| o.name.trim().eq_ignore_ascii_case(name.trim()))
    }
}

/// Body of `POST /api/parcels`: the drop-off form.
#[derive(Debug, Clone, Deserialize)]
pub struct DropOff {
    /// The office where the parcel was handed in.
    pub office: String,
    /// The sender's name as written.
    pub sender_name: String,
    /// The sender's address as written, if any.
    #[serde(default)]
    pub sender_address: Option<String>,
    /// The recipient's name.
    pub recipient_name: String,
    /// The recipient's address.
    pub recipient_address: String,
    /// Weight in grams (1–30000).
    pub weight_g: u32,
}

/// Answer to a drop-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropReceipt {
    /// The tracking number, e.g. `CP123456789NL`.
    pub tracking: String,
    /// The office.
    pub office: String,
    /// When it was handed in.
    pub dropped_at: String,
}

/// The public tracking page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingView {
    /// The tracking number.
    pub tracking: String,
    /// `"dropped off"`.
    pub status: String,
    /// The office.
    pub office: String,
    /// When it was handed in.
    pub dropped_at: String,
}

/// The legal query: `?tracking=…`, `?sender=…` or `?place=<lat>,<lon>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourierQuery {
    /// A tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
    /// A sender's name as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// A position, `<lat>,<lon>` in decimal degrees: the parcels of the office there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl LegalQuery for CourierQuery {
    fn validate(&self) -> Result<(), ProviderError> {
        match (&self.tracking, &self.sender, &self.place) {
            (Some(t), None, None) => legal::check_value("tracking", t),
            (None, Some(s), None) => legal::check_value("sender", s),
            (None, None, Some(p)) => {
                legal::check_value("place", p)?;
                sim_core::facts::parse_place(p)
                    .map(|_| ())
                    .ok_or_else(|| ProviderError::BadInput("place must be <lat>,<lon> in decimal degrees".into()))
            }
            _ => Err(ProviderError::BadInput("give exactly one of ?tracking=, ?sender= or ?place=".into())),
        }
    }

    fn key(&self) -> (&'static str, String) {
        match (&self.tracking, &self.sender, &self.place) {
            (Some(t), _, _) => ("tracking", t.trim().to_ascii_uppercase()),
            (None, Some(s), _) => ("sender", s.trim().to_ascii_lowercase()),
            (None, None, Some(p)) => ("place", sim_core::facts::parse_place(p).unwrap_or_default()),
            (None, None, None) => ("none", String::new()),
        }
    }
}

/// A parcel in a production (stable keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelRecord {
    /// The tracking number.
    pub tracking: String,
    /// The drop-off office.
    pub office: String,
    /// The office's position (`"<lat>,<lon>"`), if the courier lists it.
    pub place: Option<String>,
    /// When it was handed in.
    pub dropped_at: String,
    /// Sender's name as written.
    pub sender_name: String,
    /// Sender's address as written, if any.
    pub sender_address: Option<String>,
    /// Recipient's name.
    pub recipient_name: String,
    /// Recipient's address.
    pub recipient_address: String,
    /// Weight in grams.
    pub weight_g: u32,
}

/// The courier's answer to a production order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourierRecords {
    /// Provider, jurisdiction, retention, time of production.
    #[serde(flatten)]
    pub header: ProductionHeader,
    /// What was asked.
    pub query: CourierQuery,
    /// Matching parcels still held, by drop-off order.
    pub parcels: Vec<ParcelRecord>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS parcels (
    id                INTEGER PRIMARY KEY,
    tracking          TEXT NOT NULL UNIQUE,
    office            TEXT NOT NULL,
    place             TEXT,
    dropped_at        TEXT NOT NULL,
    sender_name       TEXT NOT NULL,
    sender_address    TEXT,
    recipient_name    TEXT NOT NULL,
    recipient_address TEXT NOT NULL,
    weight_g          INTEGER NOT NULL
);
";

fn suffix(jurisdiction: &str) -> String {
    let s: String = jurisdiction.chars().filter(char::is_ascii_alphabetic).take(2).collect::<String>().to_ascii_uppercase();
    if s.len() == 2 { s } else { "XX".into() }
}

/// Records a parcel handed in at an office; the tracking number comes from the service RNG.
pub fn drop_off(
    conn: &Connection,
    rng: &mut SimRng,
    now: SimTime,
    config: &CourierConfig,
    d: &DropOff,
) -> Result<DropReceipt, ProviderError> {
    let mut office = text_field("office", &d.office, 100)?;
    let known = config.office(&office);
    if known.is_none() && !config.offices.is_empty() {
        return Err(ProviderError::BadInput(format!("no office called {office}")));
    }
    let place = known.map(CourierOffice::place);
    if let Some(o) = known {
        office = o.name.clone();
    }
    let sender_name = text_field("sender_name", &d.sender_name, 200)?;
    let sender_address = match d.sender_address.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(text_field("sender_address", a, 300)?),
    };
    let recipient_name = text_field("recipient_name", &d.recipient_name, 200)?;
    let recipient_address = text_field("recipient_address", &d.recipient_address, 300)?;
    if !(1..=30_000).contains(&d.weight_g) {
        return Err(ProviderError::BadInput("weight_g must be 1-30000".into()));
    }
    let tracking = loop {
        let candidate = format!("CP{:09}{}", below(rng, 1_000_000_000), suffix(&config.jurisdiction));
        let taken: Option<i64> =
            conn.query_row("SELECT id FROM parcels WHERE tracking = ?1", params![candidate], |r| r.get(0)).optional()?;
        if taken.is_none() {
            break candidate;
        }
    };
    conn.execute(
        "INSERT INTO parcels (tracking, office, place, dropped_at, sender_name, sender_address, recipient_name, recipient_address, weight_g)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![tracking, office, place, now.to_string(), sender_name, sender_address, recipient_name, recipient_address, d.weight_g],
    )?;
    tracing::info!(%tracking, %office, "courier: parcel dropped off");
    Ok(DropReceipt { tracking, office, dropped_at: now.to_string() })
}

/// The public tracking view of a parcel.
pub fn track(conn: &Connection, tracking: &str) -> Result<TrackingView, ProviderError> {
    conn.query_row(
        "SELECT tracking, office, dropped_at FROM parcels WHERE tracking = ?1",
        params![tracking.trim().to_ascii_uppercase()],
        |r| Ok(TrackingView { tracking: r.get(0)?, status: "dropped off".into(), office: r.get(1)?, dropped_at: r.get(2)? }),
    )
    .optional()?
    .ok_or(ProviderError::NotFound("parcel"))
}

/// Produces the records for a legal query (validated here) and logs the request.
pub fn produce(conn: &Connection, now: SimTime, config: &CourierConfig, q: &CourierQuery) -> Result<CourierRecords, ProviderError> {
    q.validate()?;
    let key = q.key();
    let window = RetentionWindow::load(conn, now, config.retention, &key)?;
    let selector = match key.0 {
        "tracking" => "tracking = ?1",
        "place" => "place = ?1",
        _ => "lower(trim(sender_name)) = ?1",
    };
    let sql = format!(
        "SELECT tracking, office, place, dropped_at, sender_name, sender_address, recipient_name, recipient_address, weight_g
         FROM parcels WHERE {selector} ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params![key.1], |r| {
            Ok(ParcelRecord {
                tracking: r.get(0)?,
                office: r.get(1)?,
                place: r.get(2)?,
                dropped_at: r.get(3)?,
                sender_name: r.get(4)?,
                sender_address: r.get(5)?,
                recipient_name: r.get(6)?,
                recipient_address: r.get(7)?,
                weight_g: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut parcels = Vec::new();
    for p in rows {
        if window.keeps_stored(&p.dropped_at)? {
            parcels.push(p);
        }
    }
    legal::log_request(conn, now, q, parcels.len())?;
    Ok(CourierRecords { header: ProductionHeader::of(config, now), query: q.clone(), parcels })
}

record_service!(
    /// A running courier. Cheap to clone (shared state).
    CourierService,
    CourierConfig,
    ProviderError
);

legal_desk!(CourierService, CourierConfig, CourierQuery, CourierRecords);

impl CourierService {
    /// A courier over `db`; creates the schema if needed.
    pub fn new(config: CourierConfig, db: Connection, clock: SimClock, rng: SimRng) -> Result<Self, ProviderError> {
        config.validate()?;
        Ok(CourierService { inner: super::open_core(config, db, clock, rng, SCHEMA)? })
    }

    /// The API, public tracking and the legal desk as an axum router.
    pub fn router(&self) -> Router {
        legal::legal_routes(
            Router::new()
                .route("/api/parcels", post(api_drop_off))
                .route("/api/offices", get(api_offices))
                .route("/track/{tracking}", get(api_track)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(self.clone())
    }
}

async fn api_drop_off(State(svc): State<CourierService>, ApiJson(d): ApiJson<DropOff>) -> Result<Json<DropReceipt>, ProviderError> {
    let mut st = svc.lock()?;
    let st = &mut *st;
    Ok(Json(drop_off(&st.conn, &mut st.rng, svc.inner.clock.now(), &svc.inner.config, &d)?))
}

async fn api_offices(State(svc): State<CourierService>) -> Json<Vec<CourierOffice>> {
    Json(svc.inner.config.offices.clone())
}

async fn api_track(State(svc): State<CourierService>, ApiPath(tracking): ApiPath<String>) -> Result<Json<TrackingView>, ProviderError> {
    let st = svc.lock()?;
    Ok(Json(track(&st.conn, &tracking)?))
}
