//! Footprint modes: the settings that keep one classroom (lab, world services, cast, N team
//! worlds) within a board's memory — a Raspberry Pi 3's 1 GB or a Pi 4's 4 GB — measured by
//! `darklab bench challenge --footprint pi3`. They change how much the process holds, never
//! what the world does: same scenario and seed, same world digest in every mode.

use std::path::PathBuf;

use market_sim::world::Storage;

/// How much a classroom may hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Footprint {
    /// A laptop or a server: SQLite's and tokio's defaults.
    #[default]
    Laptop,
    /// A Raspberry Pi 4 (4 GB, 4 cores).
    Pi4,
    /// A Raspberry Pi 3 (1 GB, 4 cores): the tightest.
    Pi3,
}

impl std::str::FromStr for Footprint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "laptop" => Ok(Footprint::Laptop),
            "pi4" => Ok(Footprint::Pi4),
            "pi3" => Ok(Footprint::Pi3),
            other => Err(format!("`{other}` is not a footprint: laptop, pi4 or pi3")),
        }
    }
}

impl std::fmt::Display for Footprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Footprint::Laptop => "laptop",
            Footprint::Pi4 => "pi4",
            Footprint::Pi3 => "pi3",
        })
    }
}

impl Footprint {
    /// Where a served world's databases go: files in `dir`, with a small page cache on boards
    /// (a world has a dozen databases; a challenge, a dozen per team).
    pub fn storage(self, dir: PathBuf) -> Storage {
        match self {
            Footprint::Laptop => Storage::Dir(dir),
            Footprint::Pi4 => Storage::Lean { dir, cache_kib: 1024 },
            Footprint::Pi3 => Storage::Lean { dir, cache_kib: 256 },
        }
    }

    /// Tokio worker threads (each busy thread keeps its own malloc arena and buffers).
    pub fn worker_threads(self) -> usize {
        match self {
            Footprint::Laptop | Footprint::Pi3 => 2,
            Footprint::Pi4 => 3,
        }
    }

    /// Tokio's blocking-pool ceiling (its default is 512 threads).
    pub fn max_blocking_threads(self) -> usize {
        match self {
            Footprint::Laptop => 512,
            Footprint::Pi4 => 16,
            Footprint::Pi3 => 8,
        }
    }

    /// glibc malloc arenas (`MALLOC_ARENA_MAX`): by default up to 8 per core, each growing
    /// on its own; `darklab` sets it for itself before it starts (see the binary).
    pub fn malloc_arena_max(self) -> Option<u32> {
        match self {
            Footprint::Laptop => None,
            Footprint::Pi4 | Footprint::Pi3 => Some(2),
        }
    }

    /// The memory one classroom should stay under, MiB (`None`: no budget): 700 MB leaves a
    /// Pi 3 room for the OS and its routers; a Pi 4 keeps half its 4 GB free.
    pub fn budget_mib(self) -> Option<u64> {
        match self {
            Footprint::Laptop => None,
            Footprint::Pi4 => Some(2048),
            Footprint::Pi3 => Some(700),
        }
    }

    /// The async runtime for this footprint.
    pub fn runtime(self) -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads())
            .max_blocking_threads(self.max_blocking_threads())
            .enable_all()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footprints_parse_and_tighten() {
        for f in [Footprint::Laptop, Footprint::Pi4, Footprint::Pi3] {
            assert_eq!(f.to_string().parse::<Footprint>(), Ok(f));
        }
        assert!("pi5".parse::<Footprint>().unwrap_err().contains("laptop, pi4 or pi3"));
        assert_eq!(Footprint::Pi3.storage("/d".into()), Storage::Lean { dir: "/d".into(), cache_kib: 256 });
        assert!(Footprint::Pi3.max_blocking_threads() < Footprint::Laptop.max_blocking_threads());
        assert_eq!(Footprint::Pi3.budget_mib(), Some(700));
    }
}
