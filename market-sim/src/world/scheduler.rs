//! The discrete-event agenda that drives the cast: scripted steps and crowd members'
//! wake-ups, each at a simulated time, taken earliest first in a fixed order so the same
//! scenario and seed always replay the same way.
//!
//! The agenda does not read a clock: [`super::World::run_until`] takes what is due before a
//! simulated time and advances the clock itself. Fast-forward calls it with the world's
//! end; a live classroom calls it every tick with the time its pace allows (wall time ×
//! compression), so a paused pace leaves the agenda — and the cast — waiting.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use sim_core::clock::SimTime;

/// Something the cast does at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// Step `step` of actor `actor`'s script.
    Step {
        /// Index of the actor in the world.
        actor: usize,
        /// Index of the step in its script.
        step: usize,
    },
    /// A crowd member (index `actor` in the world) wakes up to do its rounds.
    Wake {
        /// Index of the actor in the world.
        actor: usize,
    },
    /// A watchful member of the cast (one with reactions) reads its inbox and the forum
    /// for signs of an investigation.
    Watch {
        /// Index of the actor in the world.
        actor: usize,
    },
    /// A stranger hands a parcel in at a courier office (index `n` of the world's
    /// [`super::population::post_senders`]).
    Post {
        /// Index of the parcel.
        n: usize,
    },
}

/// An event's place in the agenda: (time, steps before wake-ups before watches before
/// strangers' parcels, actor, sequence), then the event.
type Slot = (SimTime, u8, usize, u64, Event);

/// Events by time; at one time scripted steps come before wake-ups, each by actor, then
/// in the order they were scheduled.
#[derive(Debug, Default)]
pub struct Agenda {
    heap: BinaryHeap<Reverse<Slot>>,
    scheduled: u64,
}

impl Agenda {
    /// An empty agenda.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: SimTime, event: Event) {
        let (rank, actor, n) = match event {
            Event::Step { actor, step } => (0, actor, step as u64),
            Event::Wake { actor } => (1, actor, self.scheduled),
            Event::Watch { actor } => (2, actor, self.scheduled),
            Event::Post { n } => (3, n, self.scheduled),
        };
        self.scheduled += 1;
        self.heap.push(Reverse((at, rank, actor, n, event)));
    }

    /// When the next event is due.
    pub fn next_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse((t, ..))| *t)
    }

    /// Takes the next event if it is due strictly before `before`.
    pub fn pop_before(&mut self, before: SimTime) -> Option<(SimTime, Event)> {
        if self.next_time()? >= before {
            return None;
        }
        self.heap.pop().map(|Reverse((t, _, _, _, e))| (t, e))
    }

    /// Events still waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_by_time_then_steps_before_wakes_then_actor() {
        let mut a = Agenda::new();
        a.push(SimTime(20), Event::Wake { actor: 0 });
        a.push(SimTime(10), Event::Wake { actor: 1 });
        a.push(SimTime(10), Event::Step { actor: 2, step: 1 });
        a.push(SimTime(10), Event::Step { actor: 2, step: 0 });
        a.push(SimTime(10), Event::Wake { actor: 0 });
        assert_eq!(a.len(), 5);
        assert_eq!(a.pop_before(SimTime(10)), None, "nothing is due before 10");
        let order: Vec<Event> = std::iter::from_fn(|| a.pop_before(SimTime(15)).map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec![Event::Step { actor: 2, step: 0 }, Event::Step { actor: 2, step: 1 }, Event::Wake { actor: 0 }, Event::Wake { actor: 1 }]
        );
        assert_eq!(a.next_time(), Some(SimTime(20)));
        assert!(!a.is_empty());
    }
}
