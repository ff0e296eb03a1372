//! The pace of a live world: how simulated time follows wall time, and the instructor's
//! hand on it (pause, resume, faster, slower).
//!
//! Pure: every method takes "now" as the wall time elapsed since the classroom started,
//! measured by the caller at the edge, so the arithmetic is tested without a clock.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use sim_core::clock::{SimDuration, SimTime};

#[derive(Debug, Clone, Copy)]
struct State {
    paused: bool,
    compression: u32,
    /// Wall time and simulated time of the last change of pace.
    anchor_real: Duration,
    anchor_sim: SimTime,
}

impl State {
    fn target(&self, now: Duration) -> SimTime {
        if self.paused {
            return self.anchor_sim;
        }
        let ms = i64::try_from(now.saturating_sub(self.anchor_real).as_millis()).unwrap_or(i64::MAX);
        self.anchor_sim.plus(SimDuration::secs(ms.saturating_mul(i64::from(self.compression)) / 1000))
    }
}

/// What the instructor's console shows of the pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PaceView {
    /// Whether the clock stands still.
    pub paused: bool,
    /// Simulated seconds per real second.
    pub compression: u32,
    /// Where the simulated clock should be now.
    pub sim_time: SimTime,
}

/// The pace of one classroom.
#[derive(Debug)]
pub struct Pace(Mutex<State>);

impl Pace {
    /// A running pace: the simulated clock at `start` when `now` is zero.
    pub fn new(start: SimTime, compression: u32) -> Self {
        Pace(Mutex::new(State { paused: false, compression: compression.max(1), anchor_real: Duration::ZERO, anchor_sim: start }))
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Where the simulated clock should stand `now` after the classroom started.
    pub fn target(&self, now: Duration) -> SimTime {
        self.with(|s| s.target(now))
    }

    /// Stops the clock where it is.
    pub fn pause(&self, now: Duration) -> PaceView {
        self.with(|s| {
            s.anchor_sim = s.target(now);
            s.anchor_real = now;
            s.paused = true;
            PaceView { paused: true, compression: s.compression, sim_time: s.anchor_sim }
        })
    }

    /// Lets the clock run again from where it stood.
    pub fn resume(&self, now: Duration) -> PaceView {
        self.with(|s| {
            s.anchor_sim = s.target(now);
            s.anchor_real = now;
            s.paused = false;
            PaceView { paused: false, compression: s.compression, sim_time: s.anchor_sim }
        })
    }

    /// Changes how fast simulated time runs, from now on (at least 1×).
    pub fn set_compression(&self, compression: u32, now: Duration) -> PaceView {
        self.with(|s| {
            s.anchor_sim = s.target(now);
            s.anchor_real = now;
            s.compression = compression.max(1);
            PaceView { paused: s.paused, compression: s.compression, sim_time: s.anchor_sim }
        })
    }

    /// The pace now.
    pub fn view(&self, now: Duration) -> PaceView {
        self.with(|s| PaceView { paused: s.paused, compression: s.compression, sim_time: s.target(now) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn time_runs_paused_and_resumes_where_it_stood() {
        let p = Pace::new(SimTime(1_000), 60);
        assert_eq!(p.target(secs(10)), SimTime(1_600));
        assert_eq!(p.pause(secs(10)).sim_time, SimTime(1_600));
        assert_eq!(p.target(secs(500)), SimTime(1_600), "a paused clock stands still");
        p.resume(secs(500));
        assert_eq!(p.target(secs(501)), SimTime(1_660));
    }

    #[test]
    fn compression_changes_apply_from_now_on() {
        let p = Pace::new(SimTime(0), 10);
        p.set_compression(1000, secs(5));
        assert_eq!(p.target(secs(5)), SimTime(50));
        assert_eq!(p.target(secs(6)), SimTime(1_050));
        assert_eq!(p.set_compression(0, secs(6)).compression, 1, "never slower than real time");
        assert!(!p.view(secs(6)).paused);
    }
}
