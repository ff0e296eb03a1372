//! The simulated clock: the only source of "now" for world logic.
//!
//! Real tor and real wall time never drive the world; the world driver moves this clock
//! (fast-forward jumps to the next event, live mode follows wall time times a compression
//! factor) and every service reads it. Times are whole seconds since the Unix epoch (UTC).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// A point in simulated time: seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SimTime(pub i64);

/// A span of simulated time in seconds; written in scenarios as `"90s"`, `"10m"`, `"2h30m"`, `"3d"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SimDuration(pub i64);

/// Why a time or duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeParseError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("expected a UTC time like \"2026-03-01T08:00:00Z\", found {0:?}")]
    BadTime(String),
    /// Not of the form `<n>d<n>h<n>m<n>s`.
    #[error("expected a duration like \"90s\", \"10m\", \"2h30m\" or \"3d\", found {0:?}")]
    BadDuration(String),
}

impl SimTime {
    /// Seconds since the Unix epoch.
    pub fn secs(self) -> i64 {
        self.0
    }
    /// This time plus a duration.
    pub fn plus(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// The duration from `earlier` to `self` (negative if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// Block-header time (Bitcoin headers carry a u32); clamps out-of-range values.
    pub fn as_block_time(self) -> u32 {
        u32::try_from(self.0.max(0)).unwrap_or(u32::MAX)
    }
}

impl SimDuration {
    /// A duration of `n` seconds.
    pub const fn secs(n: i64) -> Self {
        SimDuration(n)
    }
    /// A duration of `n` minutes.
    pub const fn minutes(n: i64) -> Self {
        SimDuration(n * 60)
    }
    /// A duration of `n` hours.
    pub const fn hours(n: i64) -> Self {
        SimDuration(n * 3600)
    }
    /// A duration of `n` days.
    pub const fn days(n: i64) -> Self {
        SimDuration(n * 86_400)
    }
    /// Whole seconds.
    pub fn as_secs(self) -> i64 {
        self.0
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date for a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let rem = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
    }
}

impl FromStr for SimTime {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TimeParseError::BadTime(s.to_string());
        let b = s.as_bytes();
        if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimeParseError> {
            let part = s.get(r).ok_or_else(bad)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse::<i64>().map_err(|_| bad())
        };
        let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
        let month_days = [31, if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let dim = usize::try_from(mo - 1).ok().and_then(|i| month_days.get(i).copied()).ok_or_else(bad)?;
        if d < 1 || d > dim || h > 23 || mi > 59 || se > 59 {
            return Err(bad());
        }
        Ok(SimTime(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se))
    }
}

impl TryFrom<String> for SimTime {
    type Error = TimeParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<SimTime> for String {
    fn from(t: SimTime) -> String {
        t.to_string()
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        if rest < 0 {
            f.write_str("-")?;
            rest = -rest;
        }
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl FromStr for SimDuration {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TimeParseError::BadDuration(s.to_string());
        let mut total: i64 = 0;
        let mut digits = String::new();
        let mut last_unit = usize::MAX;
        for c in s.trim().chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let (rank, size) = match c {
                'd' => (0, 86_400),
                'h' => (1, 3600),
                'm' => (2, 60),
                's' => (3, 1),
                _ => return Err(bad()),
            };
            if digits.is_empty() || (last_unit != usize::MAX && rank <= last_unit) {
                return Err(bad());
            }
            let n: i64 = digits.parse().map_err(|_| bad())?;
            total = n.checked_mul(size).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
            digits.clear();
            last_unit = rank;
        }
        if !digits.is_empty() || last_unit == usize::MAX {
            return Err(bad());
        }
        Ok(SimDuration(total))
    }
}

impl TryFrom<String> for SimDuration {
    type Error = TimeParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<SimDuration> for String {
    fn from(d: SimDuration) -> String {
        d.to_string()
    }
}

impl schemars::JsonSchema for SimTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SimTime".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "A UTC time in simulated time, written `YYYY-MM-DDTHH:MM:SSZ`.",
            "examples": ["2026-03-02T08:00:00Z"]
        })
    }
}

impl schemars::JsonSchema for SimDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SimDuration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$",
            "description": "A span of simulated time: days, hours, minutes, seconds in that order, e.g. `\"90s\"`, `\"2h30m\"`, `\"3d\"`.",
            "examples": ["10m", "2h30m", "3d"]
        })
    }
}

/// The shared simulated clock. Cloning shares it; only the world driver sets it.
#[derive(Clone, Debug)]
pub struct SimClock(Arc<AtomicI64>);

impl SimClock {
    /// A clock standing at `start`.
    pub fn new(start: SimTime) -> Self {
        SimClock(Arc::new(AtomicI64::new(start.0)))
    }
    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        SimTime(self.0.load(Ordering::SeqCst))
    }
    /// Moves the clock to `t`; the clock never runs backwards, so an earlier `t` is ignored.
    pub fn advance_to(&self, t: SimTime) {
        self.0.fetch_max(t.0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trips() {
        for s in ["1970-01-01T00:00:00Z", "2026-03-01T08:00:00Z", "2024-02-29T23:59:59Z", "2000-12-31T12:00:00Z"] {
            let t: SimTime = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        assert_eq!("2026-03-01T08:00:00Z".parse::<SimTime>().unwrap().0, 1_772_352_000);
    }

    #[test]
    fn bad_times_are_refused() {
        for s in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-03-01 08:00:00", "", "2026-03-01T24:00:00Z"] {
            assert!(s.parse::<SimTime>().is_err(), "{s}");
        }
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!("2h30m".parse::<SimDuration>().unwrap(), SimDuration(9000));
        assert_eq!("3d".parse::<SimDuration>().unwrap(), SimDuration::days(3));
        assert_eq!(SimDuration(93_784).to_string(), "1d2h3m4s");
        for s in ["", "10", "m", "10x", "1m2h", "99999999999999999999d"] {
            assert!(s.parse::<SimDuration>().is_err(), "{s}");
        }
    }

    #[test]
    fn clock_never_runs_backwards() {
        let c = SimClock::new(SimTime(100));
        c.advance_to(SimTime(50));
        assert_eq!(c.now(), SimTime(100));
        c.advance_to(SimTime(150));
        assert_eq!(c.now(), SimTime(150));
    }
}
