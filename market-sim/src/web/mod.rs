//! The wider web around the market: where careless personas leave traces.
//!
//! - [`forum`]: a discussion forum about markets — boards, threads, posts, user profiles.
//! - [`mixer_front`]: the coin mixer's public front page and its "start a mix" form, over
//!   a [`mixer_front::MixBackend`] the world connects to the tumbler.
//! - [`social`]: clearnet social profiles (handle, bio, links, posts).
//! - [`paste`]: a clearnet paste site.
//! - [`search`]: a clearnet search engine that crawls the social and paste sites over HTTP.
//! - [`status`]: server-side slips any service can mount — an Apache-style
//!   `/server-status` that may reveal the real IP, and a favicon and TLS certificate whose
//!   hash can be matched across an onion service and a clearnet host.
//!
//! Every page is server-rendered HTML (minijinja, auto-escaping `.html` templates) and the
//! same URL answers JSON when the request says `Accept: application/json`. Forms accept
//! JSON or `application/x-www-form-urlencoded` bodies; a browser gets a `303 See Other`
//! and a `session` cookie where an API client gets JSON and a token.
//!
//! Invariants: all user content is escaped on the way out (templates) and bound as
//! parameters on the way in (SQL); every form field is validated with a message saying
//! what is wrong; no wall clock, no unseeded randomness; lists are ordered in SQL.

pub mod forum;
pub mod mixer_front;
pub(crate) mod pages;
pub mod paste;
pub mod search;
pub mod social;
pub mod status;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::credentials::CredentialError;
use crate::http_util::service_error_response;

/// Everything that can go wrong at a web service, each with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The service configuration is invalid (construction only).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A form field is missing, malformed or out of bounds (400).
    #[error("{0}")]
    BadInput(String),
    /// A username or password broke the rules (400).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// Not logged in, or the session is unknown (401).
    #[error("log in first")]
    Unauthorized,
    /// Wrong username or password — the same answer for both (401).
    #[error("invalid username or password")]
    BadLogin,
    /// The page asked for does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A backend the service relies on failed (502).
    #[error("backend unavailable: {0}")]
    Backend(String),
    /// A page could not be rendered (500).
    #[error("template error: {0}")]
    Template(String),
    /// Data on record is inconsistent (500).
    #[error("internal inconsistency: {0}")]
    Internal(String),
    /// A database error (500).
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A thread panicked while holding the service state (500).
    #[error("service state poisoned")]
    Poisoned,
}

impl WebError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadInput(_) | WebError::Credential(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized | WebError::BadLogin => StatusCode::UNAUTHORIZED,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Backend(_) => StatusCode::BAD_GATEWAY,
            WebError::Config(_) | WebError::Template(_) | WebError::Internal(_) | WebError::Db(_) | WebError::Poisoned => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // A backend failure is logged and answered with the variant's own safe message.
        let is_backend = matches!(self, WebError::Backend(_));
        if is_backend {
            tracing::warn!(error = %self, "web: backend error");
            return crate::http_util::error_response(self.status(), "backend unavailable, try again later");
        }
        service_error_response("web", self.status(), false, &self)
    }
}

/// Implements [`crate::service::ServiceConfig`] for a web service configuration.
macro_rules! web_config {
    ($t:ty) => {
        impl $crate::service::ServiceConfig for $t {
            type Error = $crate::web::WebError;

            fn poisoned() -> $crate::web::WebError {
                $crate::web::WebError::Poisoned
            }

            fn name(&self) -> &str {
                &self.name
            }
        }
    };
}
pub(crate) use web_config;
