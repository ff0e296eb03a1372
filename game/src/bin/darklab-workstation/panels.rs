//! Drawing: one function per panel, each reading the workstation's state and queuing
//! actions. No logic here beyond layout; every string comes from the locale.

use std::collections::BTreeSet;

use bevy_egui::egui::{self, Align2, Color32, FontId, Pos2, RichText, Sense, Stroke, Vec2};
use game::lab::Direction;
use game::ledger::EvidenceId;
use game::workstation::board::{Entity, EntityKind};
use game::workstation::console::{Console, ConsoleAction, ConsoleView};
use game::workstation::flow::{FlowKind, Heuristic, Verdict};
use game::workstation::locale::Locale;
use game::workstation::locker::{HashCheck, kind_key};
use game::workstation::seized::{self, Filter, Match};
use game::workstation::{Action, Fetched, Notice, Panel, SeizedAction, UndercoverAction, Workstation, legal};
use sim_core::scenario::RequestKind;

/// Form fields that are not part of the workstation's state.
#[derive(Default)]
pub struct UiState {
    link_a: (usize, String),
    link_b: (usize, String),
    relation: String,
    link_evidence: BTreeSet<EvidenceId>,
    cite: (String, String, String),
    cite_evidence: BTreeSet<EvidenceId>,
    loaded_remote: BTreeSet<Panel>,
}

/// The console's form fields.
#[derive(Default)]
pub struct ConsoleUi {
    compression: String,
    timeline_team: String,
    /// The console's section shown (0 teams, 1 timeline, 2.. optional views).
    pub section: usize,
}

const KINDS: [(EntityKind, &str); 6] = [
    (EntityKind::Persona, "board.kind.persona"),
    (EntityKind::Identity, "board.kind.identity"),
    (EntityKind::Address, "board.kind.address"),
    (EntityKind::Account, "board.kind.account"),
    (EntityKind::Server, "board.kind.server"),
    (EntityKind::Evidence, "board.kind.evidence"),
];

fn kind_color(k: EntityKind) -> Color32 {
    match k {
        EntityKind::Persona => Color32::from_rgb(230, 150, 60),
        EntityKind::Identity => Color32::from_rgb(220, 80, 80),
        EntityKind::Address => Color32::from_rgb(90, 170, 230),
        EntityKind::Account => Color32::from_rgb(120, 200, 120),
        EntityKind::Server => Color32::from_rgb(170, 130, 220),
        EntityKind::Evidence => Color32::from_rgb(200, 200, 200),
    }
}

fn request_kind_key(k: RequestKind) -> &'static str {
    match k {
        RequestKind::Preservation => "legal.kind.preservation",
        RequestKind::ProductionOrder => "legal.kind.production",
        RequestKind::SearchWarrant => "legal.kind.warrant",
        RequestKind::UndercoverAuthorisation => "legal.kind.undercover",
        RequestKind::MutualLegalAssistance => "legal.kind.mla",
        RequestKind::SearchAbroad => "legal.kind.search-abroad",
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

fn notices(ui: &mut egui::Ui, l: &Locale, list: &mut Vec<Notice>) {
    ui.horizontal(|ui| {
        ui.heading(l.t("app.notifications"));
        if ui.small_button(l.t("app.dismiss")).clicked() {
            list.clear();
        }
    });
    egui::ScrollArea::vertical().id_salt("notices").max_height(160.0).stick_to_bottom(true).show(ui, |ui| {
        for n in list.iter() {
            let color = if n.error { Color32::from_rgb(240, 110, 110) } else { Color32::from_rgb(170, 210, 170) };
            ui.label(RichText::new(format!("{} {}", l.t(&n.key), n.text)).color(color));
        }
    });
}

/// Picks evidence from the locker (checkboxes).
fn evidence_picker(ui: &mut egui::Ui, id: &str, ws: &Workstation, picked: &mut BTreeSet<EvidenceId>) {
    egui::ScrollArea::vertical().id_salt(id).max_height(120.0).show(ui, |ui| {
        for e in &ws.locker.entries {
            let mut on = picked.contains(&e.id);
            if ui.checkbox(&mut on, format!("{} {}", e.id, short(&e.source, 60))).changed() {
                if on {
                    picked.insert(e.id.clone());
                } else {
                    picked.remove(&e.id);
                }
            }
        }
    });
}

/// The trainee's window.
pub fn trainee(ctx: &egui::Context, l: &Locale, ws: &mut Workstation, st: &mut UiState, queue: &mut Vec<Action>) {
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("top").show(&mut root, |ui| {
        ui.horizontal(|ui| {
            ui.heading(l.t("app.title"));
            ui.separator();
            if let Some(s) = &ws.status {
                ui.label(format!("{}: {}", l.t("app.exercise"), s.exercise));
                ui.separator();
                ui.label(RichText::new(format!("{} {}", l.t("app.clock"), s.sim_time)).strong().color(Color32::from_rgb(250, 210, 120)));
            }
            if ui.button(l.t("app.refresh")).clicked() {
                queue.push(Action::Refresh);
            }
        });
    });
    egui::Panel::left("nav").resizable(false).exact_size(190.0).show(&mut root, |ui| {
        ui.add_space(6.0);
        for p in Panel::ALL {
            if ui.add_sized([176.0, 30.0], egui::Button::selectable(ws.panel == p, l.t(p.key()))).clicked() {
                ws.panel = p;
            }
        }
        ui.separator();
        notices(ui, l, &mut ws.notices);
    });
    if ws.panel == Panel::Seized && st.loaded_remote.insert(Panel::Seized) {
        queue.push(Action::Seized(SeizedAction::Reload));
    }
    if ws.panel == Panel::Undercover && st.loaded_remote.insert(Panel::Undercover) {
        queue.push(Action::Undercover(UndercoverAction::Reload));
    }
    egui::CentralPanel::default().show(&mut root, |ui| match ws.panel {
        Panel::Browser => browser(ui, l, ws, queue),
        Panel::Explorer => explorer(ui, l, ws, queue),
        Panel::Board => board(ui, l, ws, st, queue),
        Panel::Locker => locker(ui, l, ws, queue),
        Panel::Legal => legal_panel(ui, l, ws, queue),
        Panel::Undercover => undercover_panel(ui, l, ws, queue),
        Panel::Seized => seized_panel(ui, l, ws, queue),
        Panel::Case => case(ui, l, ws, st, queue),
    });
}

fn browser(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, queue: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        if ui.button(l.t("browser.back")).clicked() {
            queue.push(Action::Back);
        }
        if ui.button(l.t("browser.forward")).clicked() {
            queue.push(Action::Forward);
        }
        ui.label(l.t("browser.address"));
        let r = ui.add(egui::TextEdit::singleline(&mut ws.browser.address).desired_width(620.0).font(egui::TextStyle::Monospace));
        if ui.button(l.t("browser.go")).clicked() || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
            queue.push(Action::Open(ws.browser.address.clone()));
        }
        if ui.add_enabled(ws.browser.page.is_some(), egui::Button::new(RichText::new(l.t("browser.capture")).strong())).clicked() {
            queue.push(Action::Capture);
        }
    });
    ui.separator();
    let Some(page) = ws.browser.page.clone() else {
        ui.label(l.t("browser.empty"));
        if let Some(s) = &ws.status {
            ui.heading(l.t("browser.sites"));
            for (site, url) in &s.sites {
                if ui.link(format!("{site}  —  {url}")).clicked() {
                    queue.push(Action::Open(url.clone()));
                }
            }
        }
        return;
    };
    egui::Panel::right("browser-side").default_size(320.0).show(ui, |ui| {
        ui.heading(l.t("browser.links"));
        egui::ScrollArea::vertical().id_salt("links").max_height(300.0).show(ui, |ui| {
            for link in &page.links {
                if ui.link(format!("{} → {}", link.label, short(&link.url, 48))).clicked() {
                    queue.push(Action::Open(link.url.clone()));
                }
            }
        });
        ui.heading(l.t("browser.images"));
        for img in &page.images {
            if ui.link(short(img, 48)).on_hover_text(l.t("browser.show_image")).clicked() {
                queue.push(Action::ShowImage(img.clone()));
            }
        }
        if let Some(info) = &ws.browser.image {
            ui.separator();
            ui.monospace(short(&info.url, 48));
            ui.label(format!("{}: {}", l.t("browser.image_size"), info.size));
            for (k, v) in &info.metadata {
                ui.label(format!("{k}: {v}"));
            }
        }
        ui.heading(l.t("browser.history"));
        for (i, h) in ws.browser.history.iter().enumerate().rev().take(12) {
            let text = if i == ws.browser.position { RichText::new(short(h, 48)).strong() } else { RichText::new(short(h, 48)) };
            ui.label(text);
        }
    });
    egui::ScrollArea::vertical().id_salt("page").show(ui, |ui| {
        ui.heading(&page.title);
        ui.monospace(&page.url);
        ui.add_space(6.0);
        egui::Grid::new("fields").striped(true).num_columns(2).show(ui, |ui| {
            for (k, v) in &page.fields {
                ui.label(RichText::new(k).color(Color32::GRAY));
                ui.label(v);
                ui.end_row();
            }
        });
        for t in &page.tables {
            ui.add_space(8.0);
            ui.strong(&t.name);
            egui::Grid::new(format!("table-{}", t.name)).striped(true).show(ui, |ui| {
                for c in &t.columns {
                    ui.strong(c);
                }
                ui.end_row();
                for row in &t.rows {
                    for cell in row {
                        ui.label(short(cell, 60));
                    }
                    ui.end_row();
                }
            });
        }
    });
}

fn explorer(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, queue: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.label(l.t("explorer.search"));
        let r = ui.add(egui::TextEdit::singleline(&mut ws.explorer.query).desired_width(560.0).font(egui::TextStyle::Monospace));
        if ui.button(l.t("explorer.find")).clicked() || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
            queue.push(Action::Search(ws.explorer.query.clone()));
        }
        ui.label(l.tf(
            "explorer.nodes",
            &[("nodes", &ws.explorer.flow.nodes.len().to_string()), ("edges", &ws.explorer.flow.edges.len().to_string())],
        ));
    });
    egui::Panel::right("flow-side").default_size(380.0).show(ui, |ui| {
        ui.heading(l.t("explorer.suggestions"));
        egui::ScrollArea::vertical().id_salt("suggestions").max_height(300.0).show(ui, |ui| {
            for (i, s) in ws.explorer.flow.suggestions.iter().enumerate() {
                let h = match s.heuristic {
                    Heuristic::CommonInput => l.t("explorer.heuristic.common_input"),
                    Heuristic::Change => l.t("explorer.heuristic.change"),
                };
                ui.group(|ui| {
                    ui.strong(format!("{h}: {}", s.reason));
                    ui.monospace(format!("{} {}", l.t("explorer.tx"), short(&s.txid, 16)));
                    for a in &s.addresses {
                        ui.monospace(short(a, 44));
                    }
                    match s.verdict {
                        Verdict::Open => {
                            ui.horizontal(|ui| {
                                if ui.button(l.t("explorer.accept")).clicked() {
                                    queue.push(Action::Decide(i, true));
                                }
                                if ui.button(l.t("explorer.reject")).clicked() {
                                    queue.push(Action::Decide(i, false));
                                }
                            });
                        }
                        Verdict::Accepted => {
                            ui.label(RichText::new(l.t("explorer.accepted")).color(Color32::LIGHT_GREEN));
                        }
                        Verdict::Rejected => {
                            ui.label(RichText::new(l.t("explorer.rejected")).color(Color32::GRAY));
                        }
                    }
                });
            }
        });
        if let Some(sel) = ws.explorer.selected.clone() {
            ui.separator();
            ui.monospace(short(&sel, 44));
            if ui.button(l.t("explorer.expand")).clicked() {
                queue.push(Action::Expand(sel.clone()));
            }
            if let Some(tx) = ws.explorer.txs.get(&sel) {
                ui.strong(l.t("explorer.inputs"));
                for i in &tx.vin {
                    if let Some(p) = &i.prevout {
                        ui.monospace(format!("{} {}", short(p.scriptpubkey_address.as_deref().unwrap_or("?"), 30), p.value));
                    }
                }
                ui.strong(l.t("explorer.outputs"));
                for o in &tx.vout {
                    ui.monospace(format!("{} {}", short(o.scriptpubkey_address.as_deref().unwrap_or("?"), 30), o.value));
                }
            }
        }
        if let Some((h, hash, txids)) = &ws.explorer.block {
            ui.separator();
            ui.strong(format!("{} {h}", l.t("explorer.block")));
            ui.monospace(short(hash, 40));
            for t in txids {
                if ui.link(short(t, 40)).clicked() {
                    queue.push(Action::Search(t.clone()));
                }
            }
        }
    });
    ui.heading(l.t("explorer.graph"));
    if ws.explorer.flow.nodes.is_empty() {
        ui.label(l.t("explorer.empty"));
        return;
    }
    flow_graph(ui, ws, queue);
}

fn flow_graph(ui: &mut egui::Ui, ws: &Workstation, queue: &mut Vec<Action>) {
    let layout = ws.explorer.flow.layout();
    let (w, h) = layout.values().fold((0.0f32, 0.0f32), |(w, h), (x, y)| (w.max(*x), h.max(*y)));
    egui::ScrollArea::both().id_salt("flow").show(ui, |ui| {
        let (resp, painter) = ui.allocate_painter(Vec2::new(w + 260.0, h + 60.0), Sense::click());
        let origin = resp.rect.min + Vec2::new(40.0, 24.0);
        let clip = ui.clip_rect();
        let pos = |id: &str| layout.get(id).map(|(x, y)| origin + Vec2::new(*x, *y));
        for e in &ws.explorer.flow.edges {
            if let (Some(a), Some(b)) = (pos(&e.from), pos(&e.to))
                && clip.intersects(egui::Rect::from_two_pos(a, b))
            {
                painter.line_segment([a, b], Stroke::new(1.0, Color32::from_rgb(90, 100, 120)));
            }
        }
        let click = resp.clicked().then(|| resp.interact_pointer_pos()).flatten();
        for n in ws.explorer.flow.nodes.values() {
            let Some(p) = pos(&n.id) else { continue };
            if !clip.expand(80.0).contains(p) {
                continue;
            }
            let selected = ws.explorer.selected.as_deref() == Some(n.id.as_str());
            let color = match (n.kind, n.coinjoin) {
                (FlowKind::Tx, true) => Color32::from_rgb(230, 90, 90),
                (FlowKind::Tx, false) => Color32::from_rgb(230, 190, 90),
                (FlowKind::Address, _) => Color32::from_rgb(90, 170, 230),
            };
            match n.kind {
                FlowKind::Tx => {
                    painter.rect_filled(egui::Rect::from_center_size(p, Vec2::splat(12.0)), 2.0, color);
                }
                FlowKind::Address => {
                    painter.circle_filled(p, 6.0, color);
                }
            }
            if !n.expanded {
                painter.circle_stroke(p, 9.0, Stroke::new(1.0, Color32::GRAY));
            }
            if selected {
                painter.circle_stroke(p, 12.0, Stroke::new(2.0, Color32::WHITE));
            }
            let label = if n.coinjoin { format!("{} ⚠ CoinJoin", short(&n.id, 10)) } else { short(&n.id, 14) };
            painter.text(p + Vec2::new(14.0, 0.0), Align2::LEFT_CENTER, label, FontId::monospace(11.0), Color32::LIGHT_GRAY);
            if let Some(c) = click
                && c.distance(p) < 10.0
            {
                queue.push(Action::Expand(n.id.clone()));
            }
        }
    });
}

fn board(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, st: &mut UiState, queue: &mut Vec<Action>) {
    egui::Panel::right("board-side").default_size(400.0).show(ui, |ui| {
        ui.heading(l.t("board.add_link"));
        for (label, (kind, text)) in [(l.t("board.from"), &mut st.link_a), (l.t("board.to"), &mut st.link_b)] {
            ui.horizontal(|ui| {
                ui.label(&label);
                egui::ComboBox::from_id_salt(format!("kind-{label}")).selected_text(l.t(KINDS[*kind].1)).show_ui(ui, |ui| {
                    for (i, (_, key)) in KINDS.iter().enumerate() {
                        ui.selectable_value(kind, i, l.t(key));
                    }
                });
                ui.text_edit_singleline(text);
            });
        }
        ui.horizontal(|ui| {
            ui.label(l.t("board.relation"));
            ui.text_edit_singleline(&mut st.relation);
        });
        ui.label(l.t("board.evidence"));
        evidence_picker(ui, "link-evidence", ws, &mut st.link_evidence);
        if ui.button(l.t("board.add_link")).clicked() {
            queue.push(Action::Link {
                a: Entity::new(KINDS[st.link_a.0].0, &st.link_a.1),
                b: Entity::new(KINDS[st.link_b.0].0, &st.link_b.1),
                relation: st.relation.clone(),
                evidence: st.link_evidence.iter().cloned().collect(),
            });
        }
        ui.separator();
        ui.heading(l.t("board.links"));
        let mut remove = None;
        egui::ScrollArea::vertical().id_salt("links-list").show(ui, |ui| {
            for (i, link) in ws.board.links.iter().enumerate() {
                ui.horizontal_wrapped(|ui| {
                    ui.label(format!("{} — {} — {}", short(&link.a.label, 24), link.relation, short(&link.b.label, 24)));
                    let ids: Vec<&str> = link.evidence.iter().map(|e| e.0.as_str()).collect();
                    ui.label(RichText::new(format!("{} {}", l.t("board.cites"), ids.join(", "))).color(Color32::GRAY));
                    if ui.small_button(l.t("board.remove")).clicked() {
                        remove = Some(i);
                    }
                });
            }
        });
        if let Some(i) = remove {
            ws.board.unlink(i);
        }
    });
    ui.heading(l.t("board.chart"));
    let layout = ws.board.layout();
    let (w, h) = layout.values().fold((600.0f32, 300.0f32), |(w, h), (x, y)| (w.max(*x + 200.0), h.max(*y + 60.0)));
    egui::ScrollArea::both().id_salt("chart").show(ui, |ui| {
        let (resp, painter) = ui.allocate_painter(Vec2::new(w, h), Sense::hover());
        let origin = resp.rect.min + Vec2::new(60.0, 10.0);
        let at = |e: &Entity| layout.get(e).map(|(x, y)| origin + Vec2::new(*x, *y));
        for link in &ws.board.links {
            if let (Some(a), Some(b)) = (at(&link.a), at(&link.b)) {
                painter.line_segment([a, b], Stroke::new(1.5, Color32::from_rgb(140, 150, 170)));
                let mid = Pos2::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
                let ids: Vec<&str> = link.evidence.iter().map(|e| e.0.as_str()).collect();
                painter.text(
                    mid,
                    Align2::CENTER_BOTTOM,
                    format!("{} [{}]", short(&link.relation, 22), ids.join(",")),
                    FontId::proportional(11.0),
                    Color32::from_rgb(250, 210, 120),
                );
            }
        }
        for e in &ws.board.entities {
            let Some(p) = at(e) else { continue };
            let r = egui::Rect::from_center_size(p, Vec2::new(170.0, 26.0));
            painter.rect_filled(r, 6.0, kind_color(e.kind).gamma_multiply(0.35));
            painter.rect_stroke(r, 6.0, Stroke::new(1.5, kind_color(e.kind)), egui::StrokeKind::Inside);
            painter.text(p, Align2::CENTER_CENTER, short(&e.label, 22), FontId::proportional(12.0), Color32::WHITE);
        }
    });
}

fn locker(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, queue: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.label(l.t("locker.filter"));
        ui.text_edit_singleline(&mut ws.locker.filter);
        let shown = ws.locker.filtered().len();
        ui.label(l.tf("locker.count", &[("shown", &shown.to_string()), ("total", &ws.locker.entries.len().to_string())]));
    });
    egui::Panel::right("locker-side").default_size(480.0).show(ui, |ui| {
        let Some(d) = &ws.locker.detail else {
            ui.label(l.t("locker.pick"));
            return;
        };
        ui.heading(format!("{} — {}", d.entry.id, l.t(kind_key(d.entry.kind))));
        egui::Grid::new("detail").num_columns(2).striped(true).show(ui, |ui| {
            let rows = [
                (l.t("locker.source"), d.entry.source.clone()),
                (l.t("locker.by"), d.entry.obtained_by.clone()),
                (l.t("locker.time"), d.entry.sim_time.to_string()),
                (l.t("locker.authority"), format!("{:?}", d.entry.authority)),
                (l.t("locker.integrity"), format!("{:?}", d.integrity)),
                ("SHA-256".to_string(), d.entry.content_hash.clone()),
            ];
            for (k, v) in rows {
                ui.label(RichText::new(k).color(Color32::GRAY));
                ui.add(egui::Label::new(RichText::new(v).monospace()).wrap());
                ui.end_row();
            }
        });
        if ui.button(l.t("locker.check_hash")).clicked() {
            queue.push(Action::CheckHash);
        }
        match &ws.locker.hash {
            Some(HashCheck::Match(_)) => {
                ui.label(RichText::new(l.t("locker.hash_ok")).color(Color32::LIGHT_GREEN));
            }
            Some(HashCheck::Mismatch { actual, .. }) => {
                ui.label(RichText::new(format!("{} ({actual})", l.t("locker.hash_bad"))).color(Color32::LIGHT_RED));
            }
            None => {}
        }
        ui.heading(l.t("locker.custody"));
        for c in &d.custody {
            ui.label(format!("{}  {:?}  {}", c.sim_time, c.event, c.by));
        }
    });
    let rows: Vec<_> = ws.locker.filtered().into_iter().cloned().collect();
    let row_h = 22.0;
    egui::Grid::new("locker-head").num_columns(5).min_col_width(90.0).show(ui, |ui| {
        for k in ["locker.id", "locker.kind", "locker.time", "locker.by", "locker.source"] {
            ui.strong(l.t(k));
        }
        ui.end_row();
    });
    egui::ScrollArea::vertical().id_salt("locker-rows").show_rows(ui, row_h, rows.len(), |ui, range| {
        egui::Grid::new("locker-grid").num_columns(5).min_col_width(90.0).striped(true).show(ui, |ui| {
            for e in &rows[range] {
                let selected = ws.locker.detail.as_ref().is_some_and(|d| d.entry.id == e.id);
                if ui.selectable_label(selected, e.id.0.as_str()).clicked() {
                    queue.push(Action::Select(e.id.clone()));
                }
                ui.label(l.t(kind_key(e.kind)));
                ui.label(e.sim_time.to_string());
                ui.label(short(&e.obtained_by, 24));
                ui.label(short(&e.source, 70));
                ui.end_row();
            }
        });
    });
}

fn legal_panel(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, queue: &mut Vec<Action>) {
    egui::Panel::left("legal-form").default_size(460.0).show(ui, |ui| {
        let form = &mut ws.legal.form;
        egui::Grid::new("legal-grid").num_columns(2).show(ui, |ui| {
            ui.label(l.t("legal.kind"));
            egui::ComboBox::from_id_salt("legal-kind").selected_text(l.t(request_kind_key(form.kind))).show_ui(ui, |ui| {
                for k in legal::KINDS {
                    ui.selectable_value(&mut form.kind, k, l.t(request_kind_key(k)));
                }
            });
            ui.end_row();
            ui.label(l.t("legal.provider"));
            ui.text_edit_singleline(&mut form.provider);
            ui.end_row();
            ui.label(l.t("legal.target"));
            ui.text_edit_singleline(&mut form.target);
            ui.end_row();
        });
        ui.label(l.t("legal.grounds"));
        let mut grounds = form.grounds.clone();
        evidence_picker(ui, "grounds", ws, &mut grounds);
        ws.legal.form.grounds = grounds;
        if ui.button(RichText::new(l.t("legal.file")).strong()).clicked() {
            queue.push(Action::FileRequest);
        }
    });
    ui.heading(l.t("legal.requests"));
    egui::ScrollArea::vertical().id_salt("requests").show(ui, |ui| {
        for r in ws.legal.requests.iter().rev() {
            ui.group(|ui| {
                ui.horizontal(|ui| {
                    ui.strong(&r.id);
                    ui.label(l.t(request_kind_key(r.kind)));
                    ui.label(format!("→ {}  ({})", r.provider, r.target));
                    ui.label(RichText::new(l.t(legal::status_key(&r.status))).strong().color(Color32::from_rgb(250, 210, 120)));
                });
                let ids: Vec<&str> = r.grounds.iter().map(|g| g.0.as_str()).collect();
                ui.label(format!("{}: {}", l.t("legal.grounds"), ids.join(", ")));
                for (at, what) in &r.log {
                    ui.label(RichText::new(format!("{at}  {what}")).color(Color32::GRAY));
                }
            });
        }
    });
}

fn undercover_panel(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, queue: &mut Vec<Action>) {
    let act = |queue: &mut Vec<Action>, a: UndercoverAction| queue.push(Action::Undercover(a));
    egui::Panel::left("undercover-forms").default_size(420.0).show(ui, |ui| {
        let f = &mut ws.undercover.forms;
        ui.heading(l.t("undercover.new_account"));
        egui::Grid::new("uc-account").num_columns(2).show(ui, |ui| {
            ui.label(l.t("undercover.site"));
            ui.text_edit_singleline(&mut f.site);
            ui.end_row();
            ui.label(l.t("undercover.handle"));
            ui.text_edit_singleline(&mut f.handle);
            ui.end_row();
        });
        if ui.button(l.t("undercover.open")).clicked() {
            act(queue, UndercoverAction::OpenAccount);
        }
        ui.separator();
        ui.heading(l.t("undercover.message"));
        egui::Grid::new("uc-message").num_columns(2).show(ui, |ui| {
            ui.label(l.t("undercover.to"));
            ui.text_edit_singleline(&mut f.to);
            ui.end_row();
            ui.label(l.t("undercover.subject"));
            ui.text_edit_singleline(&mut f.subject);
            ui.end_row();
        });
        ui.text_edit_multiline(&mut f.body);
        ui.horizontal(|ui| {
            if ui.button(l.t("undercover.send")).clicked() {
                act(queue, UndercoverAction::SendMessage);
            }
            if ui.button(l.t("undercover.read")).clicked() {
                act(queue, UndercoverAction::ReadInbox);
            }
        });
        ui.separator();
        ui.heading(l.t("undercover.purchase"));
        egui::Grid::new("uc-purchase").num_columns(2).show(ui, |ui| {
            ui.label(l.t("undercover.listing"));
            ui.text_edit_singleline(&mut f.listing);
            ui.end_row();
            ui.label(l.t("undercover.quantity"));
            ui.text_edit_singleline(&mut f.quantity);
            ui.end_row();
        });
        if ui.button(RichText::new(l.t("undercover.buy")).strong()).clicked() {
            act(queue, UndercoverAction::Purchase);
        }
    });
    let Some(view) = ws.undercover.view.clone() else {
        ui.spinner();
        return;
    };
    ui.label(format!("{}: {}{}", l.t("undercover.wallet"), view.wallet.address, if view.wallet.funded { " ✓" } else { "" }));
    egui::ScrollArea::vertical().id_salt("uc-accounts").show(ui, |ui| {
        for a in &view.accounts {
            ui.group(|ui| {
                let selected = ws.undercover.selected.as_deref() == Some(a.id.as_str());
                if ui.selectable_label(selected, format!("{}  {} @ {}  ({})", a.id, a.handle, a.site, a.authority)).clicked() {
                    ws.undercover.selected = Some(a.id.clone());
                }
                for m in ws.undercover.messages_of(&a.id) {
                    let arrow = if m.direction == Direction::Sent { "→" } else { "←" };
                    let cited = m.evidence.as_ref().map(|e| format!(" [{}]", e.0)).unwrap_or_default();
                    ui.label(format!(
                        "{}  {arrow} {}: {} — {}{cited}",
                        m.at,
                        if m.direction == Direction::Sent { &m.to } else { &m.from },
                        m.subject,
                        m.body
                    ));
                }
            });
        }
        for p in &view.purchases {
            ui.label(format!(
                "{}  {}: order {} × {} — {} [{}, {}]",
                p.at, p.id, p.order_id, p.quantity, p.txid, p.order_evidence.0, p.payment_evidence.0
            ));
        }
    });
}

/// A view that may be missing on this lab: a spinner, "not available", the failure, or
/// the view drawn by `draw`.
fn fetched<T>(ui: &mut egui::Ui, l: &Locale, data: Option<&Fetched<T>>, draw: impl FnOnce(&mut egui::Ui, &T)) {
    match data {
        None => {
            ui.spinner();
        }
        Some(Fetched::NotAvailable) => {
            ui.heading(l.t("app.not_available"));
        }
        Some(Fetched::Failed(e)) => {
            ui.label(RichText::new(format!("{} {e}", l.t("app.failed"))).color(Color32::LIGHT_RED));
        }
        Some(Fetched::Loaded(v)) => draw(ui, v),
    }
}

const GRAY: Color32 = Color32::from_rgb(150, 150, 150);

fn seized_panel(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, queue: &mut Vec<Action>) {
    match &ws.seized.access {
        seized::Access::Unknown => {
            ui.spinner();
            return;
        }
        seized::Access::NotAvailable => {
            ui.heading(l.t("app.not_available"));
            return;
        }
        seized::Access::Refused(message) => {
            ui.heading(l.t("seized.refused"));
            ui.label(RichText::new(message).color(GRAY));
            ui.add_space(8.0);
            ui.label(l.t("seized.how"));
            return;
        }
        seized::Access::Listed => {}
    }
    if ws.seized.images.is_empty() {
        ui.heading(l.t("seized.none"));
        ui.label(l.t("seized.how"));
        return;
    }
    egui::Panel::left("seized-images").default_size(300.0).show(ui, |ui| {
        ui.heading(l.t("seized.images"));
        for img in &ws.seized.images {
            let open = ws.seized.image.as_ref() == Some(&img.evidence);
            if ui.selectable_label(open, format!("{} — {}", img.evidence, short(&img.source, 34))).clicked() {
                queue.push(Action::Seized(SeizedAction::Open(img.evidence.clone())));
            }
        }
        if let Some(img) = ws.seized.current() {
            ui.label(RichText::new(format!("SHA-256 {}", short(&img.content_hash, 24))).monospace().color(GRAY));
            ui.separator();
            ui.strong(l.t("seized.tables"));
            for t in &img.tables {
                if ui.selectable_label(ws.seized.table == *t, t.as_str()).clicked() {
                    queue.push(Action::Seized(SeizedAction::Table(t.clone())));
                }
            }
        }
        ui.separator();
        ui.strong(l.t("seized.cited"));
        if ws.seized.cited.is_empty() {
            ui.label(RichText::new(l.t("app.none")).color(GRAY));
        }
        for c in &ws.seized.cited {
            let first = c.row.values().find(|v| !v.is_empty()).cloned().unwrap_or_default();
            ui.label(format!("{} {} #{} {}", c.evidence, c.table, c.position + 1, short(&first, 20)));
        }
    });
    let columns: Vec<String> = ws.seized.view.as_ref().map(|v| v.columns.clone()).unwrap_or_default();
    ui.horizontal(|ui| {
        ui.heading(&ws.seized.table);
        if let Some(v) = &ws.seized.view {
            ui.label(l.tf("seized.count", &[("shown", &v.rows.len().to_string()), ("total", &v.total.to_string())]));
        }
    });
    let mut remove = None;
    for (i, f) in ws.seized.filters.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt(("seized-col", i)).width(150.0).selected_text(f.column.clone()).show_ui(ui, |ui| {
                for c in &columns {
                    ui.selectable_value(&mut f.column, c.clone(), c.as_str());
                }
            });
            let how = |m: Match| if m == Match::Equals { l.t("seized.equals") } else { l.t("seized.contains") };
            egui::ComboBox::from_id_salt(("seized-how", i)).width(110.0).selected_text(how(f.how)).show_ui(ui, |ui| {
                ui.selectable_value(&mut f.how, Match::Equals, how(Match::Equals));
                ui.selectable_value(&mut f.how, Match::Contains, how(Match::Contains));
            });
            ui.add(egui::TextEdit::singleline(&mut f.value).desired_width(220.0));
            if ui.small_button("✖").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        ws.seized.filters.remove(i);
    }
    ui.horizontal(|ui| {
        if ui.button(l.t("seized.add_filter")).clicked() {
            ws.seized.filters.push(Filter { column: columns.first().cloned().unwrap_or_default(), ..Filter::default() });
        }
        if ui.button(RichText::new(l.t("seized.run")).strong()).clicked() {
            queue.push(Action::Seized(SeizedAction::Query));
        }
        ui.separator();
        let (page, pages) = (ws.seized.page(), ws.seized.pages().max(1));
        if ui.add_enabled(page > 0, egui::Button::new(l.t("seized.prev"))).clicked() {
            queue.push(Action::Seized(SeizedAction::Page(page.saturating_sub(1))));
        }
        ui.label(l.tf("seized.page", &[("page", &(page + 1).to_string()), ("pages", &pages.to_string())]));
        if ui.add_enabled(page + 1 < pages, egui::Button::new(l.t("seized.next"))).clicked() {
            queue.push(Action::Seized(SeizedAction::Page(page + 1)));
        }
    });
    ui.separator();
    let Some(v) = ws.seized.view.clone() else {
        ui.spinner();
        return;
    };
    if v.rows.is_empty() {
        ui.label(l.t("seized.no_rows"));
        return;
    }
    egui::ScrollArea::both().id_salt("seized-rows").show(ui, |ui| {
        egui::Grid::new("seized-grid").striped(true).num_columns(v.columns.len() + 1).show(ui, |ui| {
            ui.label("");
            for c in &v.columns {
                ui.strong(c.as_str());
            }
            ui.end_row();
            for (i, r) in v.rows.iter().enumerate() {
                if ui.small_button(l.t("seized.cite")).on_hover_text(l.t("seized.cite_hint")).clicked() {
                    queue.push(Action::Seized(SeizedAction::Cite(i)));
                }
                for value in r {
                    let text = seized::cell(value);
                    ui.label(RichText::new(short(&text, 38)).monospace()).on_hover_text(text);
                }
                ui.end_row();
            }
        });
    });
}

fn case(ui: &mut egui::Ui, l: &Locale, ws: &mut Workstation, st: &mut UiState, queue: &mut Vec<Action>) {
    egui::Panel::left("case-form").default_size(460.0).show(ui, |ui| {
        ui.heading(l.t("case.cite"));
        egui::Grid::new("cite-grid").num_columns(2).show(ui, |ui| {
            ui.label(l.t("case.suspect"));
            ui.text_edit_singleline(&mut st.cite.0);
            ui.end_row();
            ui.label(l.t("case.charge"));
            ui.text_edit_singleline(&mut st.cite.1);
            ui.end_row();
            ui.label(l.t("case.element"));
            ui.text_edit_singleline(&mut st.cite.2);
            ui.end_row();
        });
        evidence_picker(ui, "cite-evidence", ws, &mut st.cite_evidence);
        if ui.button(l.t("case.cite")).clicked() {
            queue.push(Action::Cite {
                suspect: st.cite.0.clone(),
                charge: st.cite.1.clone(),
                element: st.cite.2.clone(),
                evidence: st.cite_evidence.iter().cloned().collect(),
            });
        }
        ui.separator();
        ui.strong(l.t("case.elements"));
        for e in &ws.case.elements {
            let ids: Vec<&str> = e.evidence.iter().map(|x| x.0.as_str()).collect();
            ui.label(format!("{} / {} / {}: {}", e.suspect, e.charge, e.element, ids.join(", ")));
        }
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button(l.t("case.save")).clicked() {
                queue.push(Action::SaveCase);
            }
            if ui.button(RichText::new(l.t("case.submit")).strong()).clicked() {
                queue.push(Action::SubmitCase);
            }
        });
    });
    ui.heading(l.t("case.preview"));
    egui::ScrollArea::vertical().id_salt("case-preview").show(ui, |ui| {
        match ws.case.case_file(&ws.board) {
            Ok(c) => {
                ui.monospace(serde_json::to_string_pretty(&c).unwrap_or_default());
            }
            Err(e) => {
                ui.label(e.to_string());
            }
        }
        if let Some(v) = &ws.verdict {
            ui.separator();
            ui.heading(format!("{}: {} {} / {}", l.t("case.verdict"), l.t("case.score"), v.score, v.max_score));
            for (k, n) in &v.categories {
                ui.label(format!("{k}: {n}"));
            }
            for m in &v.missed {
                ui.label(RichText::new(m).color(Color32::GRAY));
            }
        }
    });
}

/// The instructor's window.
pub fn console(ctx: &egui::Context, l: &Locale, c: &mut Console, st: &mut ConsoleUi, queue: &mut Vec<ConsoleAction>) {
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("console-top").show(&mut root, |ui| {
        ui.horizontal(|ui| {
            ui.heading(l.t("console.title"));
            ui.separator();
            if let Some(s) = &c.status {
                let state = if s.pace.paused { l.t("console.paused") } else { l.t("console.running") };
                ui.label(
                    RichText::new(format!("{} {}  ×{}  {state}", l.t("app.clock"), s.pace.sim_time, s.pace.compression))
                        .strong()
                        .color(Color32::from_rgb(250, 210, 120)),
                );
                if s.ended {
                    ui.label(RichText::new(l.t("console.ended")).color(Color32::LIGHT_RED));
                }
                let (label, pause) = if s.pace.paused { (l.t("console.resume"), false) } else { (l.t("console.pause"), true) };
                if ui.button(label).clicked() {
                    queue.push(ConsoleAction::Pause(pause));
                }
            }
            ui.label(l.t("console.compression"));
            ui.add(egui::TextEdit::singleline(&mut st.compression).desired_width(60.0));
            if ui.button(l.t("console.set")).clicked()
                && let Ok(f) = st.compression.trim().parse()
            {
                queue.push(ConsoleAction::Compression(f));
            }
            if ui.button(l.t("app.refresh")).clicked() {
                queue.push(ConsoleAction::Refresh);
            }
        });
    });
    egui::Panel::left("console-nav").resizable(false).exact_size(210.0).show(&mut root, |ui| {
        let mut sections = vec![l.t("console.teams"), l.t("console.timeline")];
        sections.extend(ConsoleView::ALL.iter().map(|v| l.t(v.key())));
        for (i, s) in sections.iter().enumerate() {
            if ui.add_sized([196.0, 30.0], egui::Button::selectable(st.section == i, s.as_str())).clicked() {
                st.section = i;
                if let Some(v) = i.checked_sub(2).and_then(|k| ConsoleView::ALL.get(k)) {
                    queue.push(ConsoleAction::View(*v));
                }
            }
        }
        ui.separator();
        ui.label(l.t("console.inject"));
        ui.add(egui::TextEdit::multiline(&mut c.inject_text).desired_rows(3));
        if ui.button(l.t("console.send")).clicked() && !c.inject_text.trim().is_empty() {
            queue.push(ConsoleAction::Inject(c.inject_text.clone()));
        }
        ui.separator();
        ui.label(l.t("console.team"));
        ui.text_edit_singleline(&mut c.hint_form.0);
        ui.label(l.t("console.hint"));
        ui.text_edit_singleline(&mut c.hint_form.1);
        if ui.button(l.t("console.give")).clicked() {
            queue.push(ConsoleAction::Hint { team: c.hint_form.0.clone(), hint: c.hint_form.1.clone() });
        }
        ui.separator();
        notices(ui, l, &mut c.notices);
    });
    egui::CentralPanel::default().show(&mut root, |ui| match st.section {
        0 => teams(ui, l, c, st, queue),
        1 => {
            ui.horizontal(|ui| {
                ui.label(l.t("console.team"));
                ui.text_edit_singleline(&mut st.timeline_team);
                if ui.button(l.t("console.load")).clicked() {
                    queue.push(ConsoleAction::Timeline(st.timeline_team.clone()));
                }
            });
            if let Some((team, events)) = &c.timeline {
                ui.heading(format!("{} — {team}", l.t("console.timeline")));
                egui::ScrollArea::vertical().show(ui, |ui| {
                    egui::Grid::new("timeline").striped(true).num_columns(3).show(ui, |ui| {
                        for e in events {
                            ui.monospace(e.at.to_string());
                            ui.label(e.by.clone().unwrap_or_default());
                            ui.label(&e.what);
                            ui.end_row();
                        }
                    });
                });
            }
        }
        2 => fetched(ui, l, c.scoreboard.as_ref(), |ui, board| scoreboard(ui, l, board)),
        3 => {
            world_picker(ui, l, c, queue);
            fetched(ui, l, c.network.as_ref(), |ui, map| network(ui, l, map));
        }
        _ => {
            world_picker(ui, l, c, queue);
            truth(ui, l, c);
        }
    });
}

/// In a challenge, whose world the network map and the truth show (each team plays its
/// own); nothing in a classroom.
fn world_picker(ui: &mut egui::Ui, l: &Locale, c: &mut Console, queue: &mut Vec<ConsoleAction>) {
    let worlds = c.worlds();
    let Some(first) = worlds.first().cloned() else { return };
    let before = c.world_team.clone();
    ui.horizontal(|ui| {
        ui.label(l.t("console.world_of"));
        egui::ComboBox::from_id_salt("world-of").selected_text(c.world_team.clone().unwrap_or(first)).show_ui(ui, |ui| {
            for w in &worlds {
                ui.selectable_value(&mut c.world_team, Some(w.clone()), w.as_str());
            }
        });
    });
    if c.world_team != before {
        queue.push(ConsoleAction::View(ConsoleView::Network));
        queue.push(ConsoleAction::View(ConsoleView::Truth));
    }
}

fn scoreboard(ui: &mut egui::Ui, l: &Locale, board: &[game::challenge::board::Standing]) {
    ui.heading(l.t("console.scoreboard"));
    ui.label(RichText::new(l.t("console.tie_rule")).color(GRAY));
    ui.add_space(6.0);
    egui::Grid::new("scoreboard").striped(true).num_columns(5).min_col_width(110.0).show(ui, |ui| {
        for k in ["console.rank", "console.team", "console.score", "console.submitted", "console.hints"] {
            ui.strong(l.t(k));
        }
        ui.end_row();
        for s in board {
            ui.label(RichText::new(format!("#{}", s.rank)).strong().size(18.0));
            ui.label(RichText::new(&s.team).size(16.0));
            match s.score {
                Some(x) => ui.add(
                    egui::ProgressBar::new((x.max(0) as f32) / (s.max_score.max(1) as f32))
                        .text(format!("{x} / {}", s.max_score))
                        .desired_width(200.0),
                ),
                None => ui.label(RichText::new(l.t("console.no_case")).color(GRAY)),
            };
            ui.label(s.submitted_at.map(|t| t.to_string()).unwrap_or_else(|| "—".into()));
            ui.label(s.hints.to_string());
            ui.end_row();
        }
    });
}

fn flag_color(flag: &str) -> Color32 {
    match flag {
        "Authority" => Color32::from_rgb(220, 120, 220),
        "Guard" => Color32::from_rgb(120, 200, 120),
        "Exit" => Color32::from_rgb(230, 150, 60),
        "HSDir" => Color32::from_rgb(90, 170, 230),
        _ => GRAY,
    }
}

fn network(ui: &mut egui::Ui, l: &Locale, map: &game::net::consensus::NetworkMap) {
    ui.horizontal(|ui| {
        ui.heading(l.t("console.network"));
        let mode = if map.mode == "tor" { l.t("console.mode_tor") } else { l.t("console.mode_direct") };
        ui.label(RichText::new(mode).strong().color(Color32::from_rgb(250, 210, 120)));
        if !map.valid_after.is_empty() {
            ui.label(l.tf("console.valid_after", &[("time", &map.valid_after)]));
        }
    });
    ui.add_space(4.0);
    ui.strong(l.tf("console.relays", &[("n", &map.relays.len().to_string())]));
    if map.relays.is_empty() {
        ui.label(RichText::new(l.t("console.no_relays")).color(GRAY));
    } else {
        let most = map.relays.iter().map(|r| r.bandwidth).max().unwrap_or(1).max(1);
        egui::Grid::new("relays").striped(true).num_columns(4).min_col_width(100.0).show(ui, |ui| {
            for k in ["console.relay", "console.address", "console.bandwidth", "console.flags"] {
                ui.strong(l.t(k));
            }
            ui.end_row();
            for r in &map.relays {
                ui.monospace(&r.nick);
                ui.monospace(&r.address);
                ui.add(egui::ProgressBar::new(r.bandwidth as f32 / most as f32).text(r.bandwidth.to_string()).desired_width(140.0));
                ui.horizontal(|ui| {
                    for f in &r.flags {
                        ui.label(RichText::new(f).small().color(flag_color(f)));
                    }
                });
                ui.end_row();
            }
        });
    }
    ui.add_space(8.0);
    ui.strong(l.tf("console.onions", &[("n", &map.onion_services.len().to_string())]));
    egui::Grid::new("onions").striped(true).num_columns(3).min_col_width(120.0).show(ui, |ui| {
        for k in ["console.site", "console.onion", "console.router"] {
            ui.strong(l.t(k));
        }
        ui.end_row();
        for o in &map.onion_services {
            ui.label(&o.site);
            ui.monospace(&o.host);
            ui.label(&o.router);
            ui.end_row();
        }
    });
    if !map.recoveries.is_empty() {
        ui.add_space(8.0);
        ui.strong(l.t("console.recoveries"));
        for r in &map.recoveries {
            ui.label(r.to_string());
        }
    }
}

fn truth(ui: &mut egui::Ui, l: &Locale, c: &mut Console) {
    let Some(Fetched::Loaded(t)) = &c.truth else {
        fetched(ui, l, c.truth.as_ref(), |_, _| {});
        return;
    };
    let t = t.clone();
    ui.horizontal(|ui| {
        ui.heading(format!("{} — {}", l.t("console.truth"), t.exercise));
        ui.label(RichText::new(l.t("console.truth_private")).color(Color32::LIGHT_RED));
    });
    let actors: Vec<String> = t.people.iter().map(|p| p.actor.clone()).collect();
    ui.columns(2, |cols| {
        egui::ScrollArea::vertical().id_salt("truth-left").show(&mut cols[0], |ui| {
            if !t.debrief.is_empty() {
                ui.strong(l.t("console.debrief"));
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.add(egui::Label::new(&t.debrief).wrap());
                });
                ui.add_space(6.0);
            }
            ui.strong(l.t("console.who_is_who"));
            egui::Grid::new("people").striped(true).num_columns(3).show(ui, |ui| {
                for p in &t.people {
                    ui.label(RichText::new(&p.actor).strong()).on_hover_text(&p.role);
                    ui.label(RichText::new(&p.name).color(kind_color(EntityKind::Identity)))
                        .on_hover_text(format!("{} · {}", p.email, p.home_ip));
                    let personas: Vec<String> = p.personas.iter().map(|x| format!("{}@{}", x.handle, x.site)).collect();
                    ui.label(RichText::new(personas.join(", ")).color(kind_color(EntityKind::Persona)));
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            ui.strong(l.t("console.slips"));
            for s in &t.slips {
                ui.label(RichText::new(format!("{} ({})", s.id, s.actor)).strong());
                ui.label(format!("  {} {}", l.t("console.reveals"), s.reveals));
                ui.label(RichText::new(format!("  {} {}", l.t("console.carrier"), s.carrier)).color(GRAY));
            }
            if !t.tip_offs.is_empty() {
                ui.add_space(6.0);
                ui.strong(l.t("console.tip_offs"));
                for x in &t.tip_offs {
                    ui.label(format!("{}  {} ← {}@{}: {}", x.time, x.actor, x.by_handle, x.site, x.cause));
                }
            }
            for (actor, country, time) in &t.departures {
                ui.label(
                    RichText::new(l.tf("console.departed", &[("actor", actor), ("country", country), ("time", &time.to_string())]))
                        .color(Color32::LIGHT_RED),
                );
            }
        });
        let ui = &mut cols[1];
        ui.horizontal(|ui| {
            ui.strong(l.tf("console.chronicle", &[("n", &t.chronicle.len().to_string()), ("facts", &t.facts.to_string())]));
            let everyone = l.t("console.everyone");
            egui::ComboBox::from_id_salt("truth-actor").selected_text(c.truth_actor.clone().unwrap_or_else(|| everyone.clone())).show_ui(
                ui,
                |ui| {
                    ui.selectable_value(&mut c.truth_actor, None, everyone.as_str());
                    for a in &actors {
                        ui.selectable_value(&mut c.truth_actor, Some(a.clone()), a.as_str());
                    }
                },
            );
        });
        let lines: Vec<_> = c.chronicle().into_iter().cloned().collect();
        egui::ScrollArea::vertical().id_salt("truth-chronicle").show_rows(ui, 20.0, lines.len(), |ui, range| {
            for line in &lines[range] {
                let text = format!("{}  {:<10} {}", line.time, line.actor.as_deref().unwrap_or("·"), line.text);
                let color = if line.ok { Color32::from_rgb(210, 210, 210) } else { Color32::LIGHT_RED };
                ui.add(egui::Label::new(RichText::new(short(&text, 110)).monospace().color(color)).truncate()).on_hover_text(&line.text);
            }
        });
    });
}

fn teams(ui: &mut egui::Ui, l: &Locale, c: &Console, st: &mut ConsoleUi, queue: &mut Vec<ConsoleAction>) {
    ui.heading(l.t("console.teams"));
    let Some(s) = &c.status else { return };
    let behind = c.behind();
    let best = s.teams.iter().map(|t| t.facts_uncovered).max().unwrap_or(0).max(1);
    egui::Grid::new("teams").striped(true).num_columns(9).min_col_width(80.0).show(ui, |ui| {
        for k in [
            "console.team",
            "console.evidence",
            "console.requests",
            "console.facts",
            "console.hints",
            "console.tip_offs",
            "console.draft",
            "console.score",
            "console.timeline",
        ] {
            ui.strong(l.t(k));
        }
        ui.end_row();
        for t in &s.teams {
            let name = if behind.contains(&t.team) {
                RichText::new(format!("{} ⚠ {}", t.team, l.t("console.behind"))).color(Color32::LIGHT_RED)
            } else {
                RichText::new(&t.team)
            };
            ui.label(name);
            ui.label(t.evidence.to_string());
            ui.label(format!("{}/{}/{}", t.requests[0], t.requests[1], t.requests[2]));
            ui.add(egui::ProgressBar::new(t.facts_uncovered as f32 / best as f32).text(t.facts_uncovered.to_string()).desired_width(140.0));
            ui.label(t.hints.to_string());
            let tips = RichText::new(t.tip_offs.to_string());
            ui.label(if t.tip_offs > 0 { tips.color(Color32::LIGHT_RED) } else { tips });
            ui.label(if t.draft { "✔" } else { "—" });
            ui.label(t.score.map(|s| s.to_string()).unwrap_or_else(|| "—".into()));
            if ui.button(l.t("console.load")).clicked() {
                st.timeline_team = t.team.clone();
                st.section = 1;
                queue.push(ConsoleAction::Timeline(t.team.clone()));
            }
            ui.end_row();
        }
    });
}
