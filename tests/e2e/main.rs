//! End-to-end tests of whole exercises: the shipped scenario's world built on loopback,
//! fast-forwarded, investigated through the lab and judged.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod challenge;
mod classroom;
mod crowd;
mod exercise;
mod forum_warning;
mod keyed;
mod lab_api;
mod leakage;
mod legal;
mod mixing;
mod report;
mod scoreboard_browser;
mod seizure;
mod solver;
mod support;
mod traces;
mod undercover;
mod verdict_tables;
mod wider_web;
