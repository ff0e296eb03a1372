//! `darklab-workstation`: the trainee workstation or the instructor console in a window
//! (Bevy + egui). A thin layer over `game::workstation`: it draws the state and turns
//! clicks into actions carried out against the lab; all logic lives in the library.
//!
//! `--screenshots DIR` steps through every main panel and writes a PNG per panel;
//! `--bench-frames N` loads a synthetic 1,000-node money-flow graph and a 300-item locker
//! and prints frame times, resident memory and start-up time.

mod bench;
mod panels;
mod tour;

use std::path::PathBuf;

use bevy::app::AppExit;
use bevy::prelude::*;
use bevy::window::{PresentMode, WindowResolution};
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};
use clap::Parser;
use game::workstation::client::LabClient;
use game::workstation::console::{Console, ConsoleAction};
use game::workstation::locale::{Lang, Locale};
use game::workstation::{Action, Workstation};

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "DarkLab trainee workstation and instructor console")]
struct Cli {
    /// The lab's URL (what `darklab serve` prints).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    lab: String,
    /// A member token (trainee) or the instructor's token (with --console).
    #[arg(long, env = "DARKLAB_TOKEN", default_value = "")]
    token: String,
    /// Open the instructor console instead of the trainee workstation.
    #[arg(long)]
    console: bool,
    /// Language: en or ja (default: from LANG, else en).
    #[arg(long)]
    lang: Option<String>,
    /// Step through every main panel, write one PNG per panel into DIR, then exit.
    #[arg(long, value_name = "DIR")]
    screenshots: Option<PathBuf>,
    /// With --screenshots: visit only these trainee panels (e.g. `seized`; comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Draw N frames over synthetic data (1,000-node graph, 300-item locker), print
    /// frame times, RSS and start-up time, then exit.
    #[arg(long, value_name = "N")]
    bench_frames: Option<u32>,
}

/// The async runtime the lab calls run on (the frame waits for loopback calls).
#[derive(Resource)]
struct Runtime(tokio::runtime::Runtime);

/// The trainee's workstation state and the actions the UI queued this frame.
#[derive(Resource)]
struct Trainee {
    ws: Workstation,
    ui: panels::UiState,
    queue: Vec<Action>,
}

/// The instructor's console state and its queued actions.
#[derive(Resource)]
struct Instructor {
    console: Console,
    ui: panels::ConsoleUi,
    queue: Vec<ConsoleAction>,
}

/// The strings of the chosen language.
#[derive(Resource)]
struct Strings(Locale);

/// Seconds between automatic refreshes (clock, notifications, request status).
const REFRESH_SECS: f32 = 3.0;

fn main() -> anyhow::Result<()> {
    let started = bench::Started::now();
    let cli = Cli::parse();
    let lang = cli.lang.clone().or_else(|| std::env::var("LANG").ok()).and_then(|c| Lang::from_code(&c)).unwrap_or(Lang::En);
    let locale = Locale::shipped(lang).map_err(|e| anyhow::anyhow!("locale file: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let title = if cli.console { locale.t("app.console_title") } else { locale.t("app.title") };

    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title,
            resolution: WindowResolution::new(1400, 900),
            present_mode: if cli.bench_frames.is_some() { PresentMode::AutoNoVsync } else { PresentMode::AutoVsync },
            ..default()
        }),
        ..default()
    }))
    .add_plugins(EguiPlugin::default())
    .insert_resource(ClearColor(Color::srgb(0.11, 0.12, 0.14)))
    .insert_resource(Strings(locale))
    .insert_resource(started)
    .add_systems(Startup, setup_camera)
    .add_systems(EguiPrimaryContextPass, (install_fonts, draw).chain());

    let client = LabClient::new(&cli.lab, &cli.token);
    if cli.console {
        let mut console = Console::new(client);
        if cli.bench_frames.is_none() {
            runtime.block_on(console.perform(ConsoleAction::Refresh));
        }
        app.insert_resource(Instructor { console, ui: panels::ConsoleUi::default(), queue: Vec::new() });
    } else {
        let mut ws = Workstation::new(client);
        if cli.bench_frames.is_none() {
            runtime.block_on(ws.perform(Action::Refresh));
        }
        app.insert_resource(Trainee { ws, ui: panels::UiState::default(), queue: Vec::new() });
    }
    app.insert_resource(Runtime(runtime)).add_systems(Update, (perform, auto_refresh));
    if let Some(dir) = cli.screenshots {
        std::fs::create_dir_all(&dir)?;
        app.insert_resource(tour::Tour::new(dir, cli.console, &cli.only)).add_systems(Update, tour::step.before(perform));
    }
    if let Some(n) = cli.bench_frames {
        app.insert_resource(bench::Bench::new(n)).add_systems(Startup, bench::load_synthetic).add_systems(Last, bench::measure);
    }
    app.run();
    Ok(())
}

fn setup_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

/// Adds the bundled Japanese-capable font behind egui's own, once.
fn install_fonts(mut contexts: EguiContexts, mut done: Local<bool>) -> Result {
    if *done {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let mut fonts = egui::FontDefinitions::default();
    fonts
        .font_data
        .insert("ipaexg".into(), std::sync::Arc::new(egui::FontData::from_static(include_bytes!("../../../../assets/fonts/ipaexg.ttf"))));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("ipaexg".into());
    }
    ctx.set_fonts(fonts);
    ctx.all_styles_mut(|s| {
        s.spacing.item_spacing = egui::vec2(8.0, 6.0);
        s.visuals.striped = true;
    });
    *done = true;
    Ok(())
}

fn draw(
    mut contexts: EguiContexts,
    strings: Res<Strings>,
    trainee: Option<ResMut<Trainee>>,
    instructor: Option<ResMut<Instructor>>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if let Some(mut t) = trainee {
        let Trainee { ws, ui, queue } = &mut *t;
        panels::trainee(ctx, &strings.0, ws, ui, queue);
    }
    if let Some(mut i) = instructor {
        let Instructor { console, ui, queue } = &mut *i;
        panels::console(ctx, &strings.0, console, ui, queue);
    }
    Ok(())
}

/// Carries out the actions the UI queued (loopback calls; the frame waits for them).
fn perform(rt: Res<Runtime>, trainee: Option<ResMut<Trainee>>, instructor: Option<ResMut<Instructor>>) {
    if let Some(mut t) = trainee {
        for a in std::mem::take(&mut t.queue) {
            rt.0.block_on(t.ws.perform(a));
        }
    }
    if let Some(mut i) = instructor {
        for a in std::mem::take(&mut i.queue) {
            rt.0.block_on(i.console.perform(a));
        }
    }
}

fn auto_refresh(
    time: Res<Time>,
    mut since: Local<f32>,
    bench: Option<Res<bench::Bench>>,
    trainee: Option<ResMut<Trainee>>,
    instructor: Option<ResMut<Instructor>>,
) {
    *since += time.delta_secs();
    if *since < REFRESH_SECS || bench.is_some() {
        return;
    }
    *since = 0.0;
    if let Some(mut t) = trainee {
        t.queue.push(Action::Refresh);
    }
    if let Some(mut i) = instructor {
        i.queue.push(ConsoleAction::Refresh);
    }
}

/// Ends the app (after the tour or the benchmark).
fn exit(writer: &mut MessageWriter<AppExit>) {
    writer.write(AppExit::Success);
}
