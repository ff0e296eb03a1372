//! The coin mixer's public front page: its name, fee, delay policy and "letter of
//! guarantee", and the form that starts a mix. The mixing itself happens behind a
//! [`MixBackend`], which the world connects to coin-sim's tumbler; this module only
//! validates the form, calls the backend and shows the ticket.
//!
//! Pages (HTML, or JSON with `Accept: application/json`):
//! - `GET /` → [`FrontView`]
//! - `POST /mix` `{destination, delay_hours}` (JSON or URL-encoded) → [`TicketView`]: the
//!   deposit address to pay and a letter of guarantee naming it. Errors: 400 for a bad
//!   address or a delay outside the policy, 502 when the backend fails.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sim_core::clock::{SimClock, SimDuration};

use super::WebError;
use super::pages::page;
use crate::http_util::{FormInput, method_not_allowed, not_found};

/// What a mix request asks of the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixRequest {
    /// Where the mixed coins go (a `bcrt1…` address, already checked).
    pub destination: String,
    /// How long to hold them before paying out.
    pub delay: SimDuration,
    /// The fee, in basis points.
    pub fee_bps: u32,
}

/// What the backend answers: where to send the coins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixTicket {
    /// The backend's id for the mix.
    pub mix_id: String,
    /// The address the customer must pay.
    pub deposit_address: String,
}

/// A boxed future, as [`MixBackend`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The mixer behind the front page (the world connects coin-sim's tumbler).
pub trait MixBackend: Send + Sync {
    /// Starts a mix; an `Err` message is logged, and the customer is told to try again.
    fn start_mix(&self, request: MixRequest) -> BoxFuture<'_, Result<MixTicket, String>>;
}

/// How the mixer presents itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixerConfig {
    /// The mixer's name.
    pub name: String,
    /// Its fee in basis points (100 = 1 %), at most 5000.
    pub fee_bps: u32,
    /// Shortest delay a customer may choose.
    pub min_delay: SimDuration,
    /// Longest delay a customer may choose.
    pub max_delay: SimDuration,
    /// The letter of guarantee's text (the ticket appends the mix's details).
    pub letter_of_guarantee: String,
}

impl MixerConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), WebError> {
        if self.name.trim().is_empty() {
            return Err(WebError::Config("mixer name must not be empty".into()));
        }
        if self.fee_bps > 5000 {
            return Err(WebError::Config("fee_bps must be at most 5000".into()));
        }
        if self.min_delay.as_secs() < 0 || self.max_delay < self.min_delay {
            return Err(WebError::Config("delays must satisfy 0 <= min_delay <= max_delay".into()));
        }
        Ok(())
    }
}

/// `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontView {
    /// The mixer's name.
    pub site: String,
    /// Fee in basis points.
    pub fee_bps: u32,
    /// Fee as a percentage, e.g. `"1.50"`.
    pub fee_percent: String,
    /// Shortest delay, in hours (rounded down).
    pub min_delay_hours: i64,
    /// Longest delay, in hours (rounded down).
    pub max_delay_hours: i64,
    /// The letter of guarantee.
    pub letter_of_guarantee: String,
}

/// `POST /mix`.
#[derive(Debug, Clone, Deserialize)]
pub struct MixForm {
    /// Where the mixed coins go.
    pub destination: String,
    /// Delay in hours.
    pub delay_hours: i64,
}

/// The answer to `POST /mix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    /// The mixer's name.
    pub site: String,
    /// The mix's id.
    pub mix_id: String,
    /// Pay this address.
    pub deposit_address: String,
    /// Where the coins will go.
    pub destination: String,
    /// Chosen delay, in hours.
    pub delay_hours: i64,
    /// Fee in basis points.
    pub fee_bps: u32,
    /// When the ticket was issued.
    pub issued_at: String,
    /// The letter of guarantee for this mix.
    pub letter: String,
    /// SHA-256 of the letter, hex (what a customer keeps to prove the address was issued).
    pub letter_sha256: String,
}

/// The mixer's front page. Cheap to clone.
#[derive(Clone)]
pub struct MixerFront {
    config: Arc<MixerConfig>,
    backend: Arc<dyn MixBackend>,
    clock: SimClock,
}

impl std::fmt::Debug for MixerFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MixerFront").field("name", &self.config.name).finish_non_exhaustive()
    }
}

fn check_destination(s: &str) -> Result<String, WebError> {
    let bad = || WebError::BadInput("destination must be a darkcoin address (bcrt1…)".into());
    let s = s.trim();
    if s.len() > 100 {
        return Err(bad());
    }
    let addr = coin_sim::params::parse_address(s).ok_or_else(bad)?;
    Ok(addr.to_string())
}

impl MixerFront {
    /// A front page for `config` over `backend`.
    pub fn new(config: MixerConfig, backend: Arc<dyn MixBackend>, clock: SimClock) -> Result<Self, WebError> {
        config.validate()?;
        Ok(MixerFront { config: Arc::new(config), backend, clock })
    }

    /// The configuration.
    pub fn config(&self) -> &MixerConfig {
        &self.config
    }

    /// The front page's content.
    pub fn front(&self) -> FrontView {
        let c = &self.config;
        FrontView {
            site: c.name.clone(),
            fee_bps: c.fee_bps,
            fee_percent: format!("{}.{:02}", c.fee_bps / 100, c.fee_bps % 100),
            min_delay_hours: c.min_delay.as_secs() / 3600,
            max_delay_hours: c.max_delay.as_secs() / 3600,
            letter_of_guarantee: c.letter_of_guarantee.clone(),
        }
    }

    /// Validates a mix form, starts the mix at the backend and writes the ticket.
    pub async fn start(&self, form: &MixForm) -> Result<TicketView, WebError> {
        let destination = check_destination(&form.destination)?;
        let delay = SimDuration::hours(form.delay_hours.clamp(-1, i64::MAX / 7200));
        if form.delay_hours < 0 || delay < self.config.min_delay || delay > self.config.max_delay {
            let f = self.front();
            return Err(WebError::BadInput(format!("delay_hours must be {}-{}", f.min_delay_hours, f.max_delay_hours)));
        }
        let request = MixRequest { destination: destination.clone(), delay, fee_bps: self.config.fee_bps };
        let ticket = self.backend.start_mix(request).await.map_err(WebError::Backend)?;
        let issued_at = self.clock.now().to_string();
        let letter = format!(
            "{}\n\nMix {}\nDeposit address: {}\nIssued: {}\nFee: {} basis points\n\u{2014} {}",
            self.config.letter_of_guarantee.trim_end(),
            ticket.mix_id,
            ticket.deposit_address,
            issued_at,
            self.config.fee_bps,
            self.config.name
        );
        let letter_sha256 = hex::encode(Sha256::digest(letter.as_bytes()));
        Ok(TicketView {
            site: self.config.name.clone(),
            mix_id: ticket.mix_id,
            deposit_address: ticket.deposit_address,
            destination,
            delay_hours: form.delay_hours,
            fee_bps: self.config.fee_bps,
            issued_at,
            letter,
            letter_sha256,
        })
    }

    /// The pages and the form as an axum router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(get_front))
            .route("/mix", post(post_mix))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.clone())
    }
}

async fn get_front(State(m): State<MixerFront>, headers: HeaderMap) -> Result<Response, WebError> {
    page(&headers, "mixer_index.html", &m.front())
}

async fn post_mix(State(m): State<MixerFront>, headers: HeaderMap, FormInput(form): FormInput<MixForm>) -> Result<Response, WebError> {
    let ticket = m.start(&form).await?;
    page(&headers, "mixer_ticket.html", &ticket)
}
