//! The Seized image panel: the team's forensic images (`GET /api/seized`) examined through
//! the lab's fixed views (`GET /api/seized/{id}/{table}`): pick a view, filter by
//! `column = value` or `column contains text`, page through the rows, and cite a row on the
//! case board. The panel never writes SQL: it only builds the lab's query string, whose
//! columns the lab checks against the view. Only forensic examiners may examine; the lab's
//! refusal for other roles is shown as such.

use std::collections::BTreeMap;

use market_sim::market::image::TableView;

use super::board::{Entity, EntityKind};
use crate::lab::SeizedSummary;
use crate::ledger::EvidenceId;

/// Rows per page.
pub const PAGE: usize = 25;

/// How a filter compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Match {
    /// The column's value is exactly this text.
    #[default]
    Equals,
    /// The column's value contains this text (ignoring case).
    Contains,
}

/// One filter of the query form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The view's column.
    pub column: String,
    /// How it compares.
    pub how: Match,
    /// The text.
    pub value: String,
}

/// Where the list of images stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Not asked yet.
    #[default]
    Unknown,
    /// The lab listed the team's images.
    Listed,
    /// The lab refused (a role other than forensic examiner): its message.
    Refused(String),
    /// This lab has no seized images endpoint.
    NotAvailable,
}

/// A row cited on the board: which image, which view, which row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowCitation {
    /// The image's evidence id (what the board link cites).
    pub evidence: EvidenceId,
    /// The view.
    pub table: String,
    /// Position of the row in the view's filtered result (from 0).
    pub position: usize,
    /// The row's columns and values, as text.
    pub row: BTreeMap<String, String>,
}

/// A board link a cited row draws (it cites the image).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowLink {
    /// One end.
    pub a: Entity,
    /// The other end.
    pub b: Entity,
    /// What links them.
    pub relation: String,
}

/// The panel's state.
#[derive(Clone, Debug, Default)]
pub struct SeizedPanel {
    /// Whether the lab lets this member examine.
    pub access: Access,
    /// The team's images.
    pub images: Vec<SeizedSummary>,
    /// The image open.
    pub image: Option<EvidenceId>,
    /// The view chosen.
    pub table: String,
    /// The query form.
    pub filters: Vec<Filter>,
    /// First row of the page shown.
    pub offset: usize,
    /// The page the lab returned for the query.
    pub view: Option<TableView>,
    /// The row picked for detail.
    pub selected: Option<usize>,
    /// Rows cited on the board so far.
    pub cited: Vec<RowCitation>,
}

/// Why the panel cannot run a query as the form stands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeizedError {
    /// No image is open.
    #[error("seized.error.image")]
    NoImage,
    /// No view chosen.
    #[error("seized.error.table")]
    NoTable,
    /// A filter has text but no column.
    #[error("seized.error.column")]
    NoColumn,
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters pass).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A JSON cell as text (strings bare, null empty).
pub fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl SeizedPanel {
    /// The image open, as the lab listed it.
    pub fn current(&self) -> Option<&SeizedSummary> {
        let id = self.image.as_ref()?;
        self.images.iter().find(|i| &i.evidence == id)
    }

    /// Opens an image: its first view, no filters, first page.
    pub fn open(&mut self, id: &EvidenceId) -> bool {
        let Some(first) = self.images.iter().find(|i| &i.evidence == id).and_then(|i| i.tables.first().cloned()) else {
            return false;
        };
        self.image = Some(id.clone());
        self.choose_table(&first);
        true
    }

    /// Chooses a view: filters and page start over (columns differ between views).
    pub fn choose_table(&mut self, table: &str) {
        self.table = table.to_string();
        self.filters.clear();
        self.offset = 0;
        self.view = None;
        self.selected = None;
    }

    /// The lab path of the query the form describes, with the page.
    pub fn query_path(&self) -> Result<String, SeizedError> {
        let image = self.image.as_ref().ok_or(SeizedError::NoImage)?;
        if self.table.is_empty() {
            return Err(SeizedError::NoTable);
        }
        let mut params = vec![format!("limit={PAGE}"), format!("offset={}", self.offset)];
        for f in self.filters.iter().filter(|f| !f.value.trim().is_empty()) {
            let column = f.column.trim();
            if column.is_empty() {
                return Err(SeizedError::NoColumn);
            }
            let key = match f.how {
                Match::Equals => encode(column),
                Match::Contains => format!("{}.contains", encode(column)),
            };
            params.push(format!("{key}={}", encode(f.value.trim())));
        }
        Ok(format!("/api/seized/{}/{}?{}", encode(&image.0), encode(&self.table), params.join("&")))
    }

    /// Pages of the current result.
    pub fn pages(&self) -> usize {
        self.view.as_ref().map_or(0, |v| v.total.div_ceil(PAGE))
    }

    /// The page shown (from 0).
    pub fn page(&self) -> usize {
        self.offset / PAGE
    }

    /// Moves to page `n` (clamped to the result); whether it changed.
    pub fn go_to(&mut self, n: usize) -> bool {
        let last = self.pages().saturating_sub(1);
        let offset = n.min(last) * PAGE;
        let changed = offset != self.offset;
        self.offset = offset;
        changed
    }

    /// Row `i` of the page shown, as column → text.
    pub fn row(&self, i: usize) -> Option<BTreeMap<String, String>> {
        let v = self.view.as_ref()?;
        let r = v.rows.get(i)?;
        Some(v.columns.iter().cloned().zip(r.iter().map(cell)).collect())
    }

    /// Cites row `i` of the page: the citation and the board links it draws — from the seized
    /// server to the row's account (handle, user name, buyer or sender; the client address in
    /// a log), and from that account to an address the row names — each citing the image.
    pub fn cite(&mut self, i: usize) -> Option<(RowCitation, Vec<RowLink>)> {
        let image = self.current()?.clone();
        let row = self.row(i)?;
        let citation = RowCitation { evidence: image.evidence.clone(), table: self.table.clone(), position: self.offset + i, row };
        let server = Entity::new(EntityKind::Server, image.source.trim_end_matches(" (seized)").trim_start_matches("server at "));
        let get = |k: &str| citation.row.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let subject = ["handle", "username", "vendor", "buyer", "sender", "client"].iter().find_map(|k| get(k));
        let mut links = Vec::new();
        if let Some(who) = &subject {
            let account = Entity::new(EntityKind::Account, who);
            links.push(RowLink { a: server, b: account.clone(), relation: format!("{} record (seized image)", self.table) });
            for key in ["payout_address", "escrow_address"] {
                if let Some(addr) = get(key) {
                    let relation = format!("{key} (seized {})", self.table);
                    links.push(RowLink { a: account.clone(), b: Entity::new(EntityKind::Address, &addr), relation });
                }
            }
        }
        if links.is_empty() {
            return None;
        }
        self.cited.push(citation.clone());
        Some((citation, links))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Authority;
    use serde_json::json;

    fn panel() -> SeizedPanel {
        let mut p = SeizedPanel {
            images: vec![SeizedSummary {
                evidence: EvidenceId("E7".into()),
                source: "server at 198.51.100.7 (seized)".into(),
                authority: Authority::PublicSource,
                content_hash: "00".into(),
                tables: vec!["users".into(), "vendors".into()],
            }],
            ..SeizedPanel::default()
        };
        assert!(p.open(&EvidenceId("E7".into())));
        p
    }

    #[test]
    fn workstation_seized_query_is_the_labs_query_string_never_sql() {
        let mut p = SeizedPanel::default();
        assert_eq!(p.query_path(), Err(SeizedError::NoImage));
        assert!(!p.open(&EvidenceId("E1".into())), "an image the team does not hold");
        p = panel();
        assert_eq!(p.table, "users", "opening an image shows its first view");
        assert_eq!(p.query_path().unwrap(), "/api/seized/E7/users?limit=25&offset=0");
        p.filters.push(Filter { column: "role".into(), how: Match::Equals, value: "vendor".into() });
        p.filters.push(Filter { column: "username".into(), how: Match::Contains, value: "leaf uk&x=1".into() });
        p.filters.push(Filter { column: "banned".into(), how: Match::Equals, value: "  ".into() });
        assert_eq!(
            p.query_path().unwrap(),
            "/api/seized/E7/users?limit=25&offset=0&role=vendor&username.contains=leaf%20uk%26x%3D1",
            "blank filters are left out; values cannot smuggle parameters"
        );
        p.filters.push(Filter { column: String::new(), how: Match::Equals, value: "x".into() });
        assert_eq!(p.query_path(), Err(SeizedError::NoColumn));
        p.choose_table("vendors");
        assert!(p.filters.is_empty() && p.offset == 0);
    }

    #[test]
    fn workstation_seized_pages_and_cites_rows() {
        let mut p = panel();
        p.choose_table("vendors");
        p.view = Some(TableView {
            table: "vendors".into(),
            columns: vec!["handle".into(), "payout_address".into(), "bond_sat".into()],
            rows: vec![vec![json!("GreenLeafUK"), json!("bcrt1qpay"), json!(5000)], vec![json!("Other"), json!(null), json!(0)]],
            total: 60,
        });
        assert_eq!(p.pages(), 3);
        assert!(p.go_to(9));
        assert_eq!((p.page(), p.offset), (2, 50), "clamped to the last page");
        assert!(!p.go_to(2));
        p.go_to(0);
        assert_eq!(p.row(0).unwrap()["bond_sat"], "5000");
        let (c, links) = p.cite(0).unwrap();
        assert_eq!(c.evidence, EvidenceId("E7".into()));
        assert_eq!((c.table.as_str(), c.position), ("vendors", 0));
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].a, Entity::new(EntityKind::Server, "198.51.100.7"));
        assert_eq!(links[0].b, Entity::new(EntityKind::Account, "GreenLeafUK"));
        assert_eq!(links[1].b, Entity::new(EntityKind::Address, "bcrt1qpay"));
        let (_, links) = p.cite(1).unwrap();
        assert_eq!(links.len(), 1, "no address on that row");
        assert_eq!(p.cited.len(), 2);
        assert!(p.cite(5).is_none());
    }
}
