//! Stable, typed identifiers that scenarios, the world and the lab share.
//!
//! Each id is a newtype over the string the scenario author wrote, so an actor id can
//! never be passed where a provider id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as written in the scenario.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
    )*};
}

string_id!(
    /// A member of the cast (one real person with one identity and any number of personas).
    ActorId,
    /// A pseudonymous persona of an actor on one site.
    PersonaId,
    /// A site of the simulated web (market, forum, mixer, clearnet site).
    SiteId,
    /// A provider holding records (exchange, ISP, e-mail, hosting, courier).
    ProviderId,
    /// A listing an actor puts on a market.
    ListingId,
    /// An OPSEC slip planted in the scenario.
    SlipId,
    /// A charge the prosecutor may bring.
    ChargeId,
    /// One element of a charge that must be proven.
    ElementId,
    /// A label for a piece of evidence in the scenario's reference solution.
    EvidenceLabel,
    /// A legal request in the reference solution.
    RequestLabel,
    /// A relay of the onion network.
    RelayId,
    /// A board (a small computer) in a deployment.
    BoardId,
    /// An instructor hint.
    HintId,
);

/// An amount of darkcoin in its smallest unit (1 DKC = 100,000,000 units), never a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Sats(pub u64);

impl fmt::Display for Sats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:08} DKC", self.0 / 100_000_000, self.0 % 100_000_000)
    }
}
