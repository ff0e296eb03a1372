//! The onion browser: an address bar that takes `.onion` names, site ids or URLs, back and
//! forward through its history, and pages shown from their structured (JSON) form — fields,
//! tables, links and images — as the lab fetched them through the world's network.

use std::collections::BTreeMap;

use serde_json::Value;

/// A link on a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageLink {
    /// What the page calls it (the field's name or the value itself).
    pub label: String,
    /// Absolute URL.
    pub url: String,
}

/// A list of records on a page, as a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageTable {
    /// The field holding the list.
    pub name: String,
    /// Column names (the union of the records' keys).
    pub columns: Vec<String>,
    /// One row per record.
    pub rows: Vec<Vec<String>>,
}

/// A page, laid out for reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageView {
    /// The URL it came from.
    pub url: String,
    /// A title, from the page's `title`, `name`, `handle`, `username` or `market`, else the URL.
    pub title: String,
    /// Scalar fields (nested objects flattened to `a.b`), by name.
    pub fields: Vec<(String, String)>,
    /// Lists of records.
    pub tables: Vec<PageTable>,
    /// Links found in the page.
    pub links: Vec<PageLink>,
    /// Image URLs found in the page.
    pub images: Vec<String>,
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
        other => other.to_string(),
    }
}

/// `target` made absolute against `base` (a page URL).
pub fn join(base: &str, target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        return target.to_string();
    }
    let origin_end = base.find("://").map(|i| i + 3).and_then(|s| base[s..].find('/').map(|j| s + j)).unwrap_or(base.len());
    let origin = &base[..origin_end];
    if target.starts_with('/') {
        return format!("{origin}{target}");
    }
    let dir = base.rfind('/').filter(|&i| i >= origin_end).map(|i| &base[..=i]).unwrap_or(origin);
    if dir.ends_with('/') { format!("{dir}{target}") } else { format!("{dir}/{target}") }
}

fn is_image(key: &str, s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    key.contains("image") || key.contains("photo") || lower.ends_with(".jpg") || lower.ends_with(".jpeg") || lower.ends_with(".png")
}

fn looks_like_link(s: &str) -> bool {
    (s.starts_with('/') && !s.contains(' ') && s.len() > 1) || s.starts_with("http://") || s.starts_with("https://")
}

impl PageView {
    /// A page from its JSON form.
    pub fn from_json(url: &str, value: &Value) -> PageView {
        let mut page = PageView { url: url.to_string(), ..PageView::default() };
        let obj = match value {
            Value::Object(o) => o.clone(),
            Value::Array(a) => {
                let mut o = serde_json::Map::new();
                o.insert("items".into(), Value::Array(a.clone()));
                o
            }
            other => {
                page.title = url.to_string();
                page.fields.push(("value".into(), scalar(other)));
                return page;
            }
        };
        page.title = ["title", "name", "handle", "username", "market"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(Value::as_str))
            .map(str::to_string)
            .unwrap_or_else(|| url.to_string());
        page.collect(url, "", &Value::Object(obj.clone()));
        page.market_links(url, &obj);
        page
    }

    /// The market's JSON names listings by `id` and vendors by handle rather than by URL:
    /// its pages' links (`/listing/{id}`, its photo, `/vendor/{handle}`) are rebuilt here.
    fn market_links(&mut self, url: &str, obj: &serde_json::Map<String, Value>) {
        let mut records: Vec<&serde_json::Map<String, Value>> = vec![obj];
        for v in obj.values() {
            if let Value::Array(items) = v {
                records.extend(items.iter().filter_map(Value::as_object));
            }
        }
        for (i, r) in records.into_iter().enumerate() {
            let id = r.get("id").and_then(Value::as_i64);
            let vendor = r.get("vendor").and_then(Value::as_str);
            if let (Some(id), Some(vendor)) = (id, vendor) {
                let title = r.get("title").and_then(Value::as_str).unwrap_or("listing");
                self.push_link(title, join(url, &format!("/listing/{id}")));
                self.push_link(&format!("vendor {vendor}"), join(url, &format!("/vendor/{vendor}")));
                if i == 0 {
                    self.images.push(join(url, &format!("/listing/{id}/photo.jpg")));
                }
            }
        }
    }

    fn push_link(&mut self, label: &str, url: String) {
        if !self.links.iter().any(|l| l.url == url) {
            self.links.push(PageLink { label: label.to_string(), url });
        }
    }

    fn collect(&mut self, url: &str, prefix: &str, value: &Value) {
        let Value::Object(obj) = value else { return };
        for (k, v) in obj {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                Value::Object(_) => self.collect(url, &key, v),
                Value::Array(items) if items.iter().any(Value::is_object) => {
                    let mut columns: Vec<String> = Vec::new();
                    for item in items {
                        if let Value::Object(o) = item {
                            for c in o.keys() {
                                if !columns.contains(c) {
                                    columns.push(c.clone());
                                }
                            }
                        }
                    }
                    let rows =
                        items.iter().map(|item| columns.iter().map(|c| item.get(c).map(scalar).unwrap_or_default()).collect()).collect();
                    for item in items {
                        if let Value::Object(o) = item {
                            for (ck, cv) in o {
                                self.note_link(url, ck, cv);
                            }
                        }
                    }
                    self.tables.push(PageTable { name: key, columns, rows });
                }
                _ => {
                    self.note_link(url, &key, v);
                    self.fields.push((key, scalar(v)));
                }
            }
        }
    }

    fn note_link(&mut self, url: &str, key: &str, v: &Value) {
        let Some(s) = v.as_str() else { return };
        if !looks_like_link(s) {
            return;
        }
        let abs = join(url, s);
        if is_image(key, s) {
            if !self.images.contains(&abs) {
                self.images.push(abs);
            }
        } else {
            self.push_link(key, abs);
        }
    }
}

/// The browser's state.
#[derive(Clone, Debug, Default)]
pub struct Browser {
    /// What the address bar holds.
    pub address: String,
    /// Visited URLs, oldest first.
    pub history: Vec<String>,
    /// Where in the history the current page is.
    pub position: usize,
    /// The page shown.
    pub page: Option<PageView>,
    /// An image the trainee asked to see, with what is known of it.
    pub image: Option<ImageInfo>,
}

/// What the browser shows of an image on request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// Its URL.
    pub url: String,
    /// Size in bytes.
    pub size: usize,
    /// Metadata found in the file (format, dimensions, EXIF tags).
    pub metadata: Vec<(String, String)>,
}

impl Browser {
    /// The URL the address bar means: a URL as is, a `.onion` name or `.example` host with
    /// `http://`, a site id through the lab's directory of sites.
    pub fn resolve(input: &str, sites: &BTreeMap<String, String>) -> Option<String> {
        let input = input.trim();
        if input.is_empty() {
            return None;
        }
        if input.starts_with("http://") || input.starts_with("https://") {
            return Some(input.to_string());
        }
        let host = input.split('/').next().unwrap_or(input);
        if host.ends_with(".onion") || host.contains('.') || host.contains(':') {
            return Some(format!("http://{input}"));
        }
        let (site, rest) = input.split_once('/').map(|(s, r)| (s, format!("/{r}"))).unwrap_or((input, String::new()));
        sites.get(site).map(|base| format!("{}{rest}", base.trim_end_matches('/')))
    }

    /// Records a visit (dropping any forward history).
    pub fn visit(&mut self, url: &str) {
        if self.history.get(self.position) == Some(&url.to_string()) && !self.history.is_empty() {
            return;
        }
        if !self.history.is_empty() {
            self.history.truncate(self.position + 1);
        }
        self.history.push(url.to_string());
        self.position = self.history.len() - 1;
        self.address = url.to_string();
    }

    /// The previous URL, moving back.
    pub fn back(&mut self) -> Option<String> {
        (self.position > 0).then(|| {
            self.position -= 1;
            self.address = self.history[self.position].clone();
            self.address.clone()
        })
    }

    /// The next URL, moving forward.
    pub fn forward(&mut self) -> Option<String> {
        (self.position + 1 < self.history.len()).then(|| {
            self.position += 1;
            self.address = self.history[self.position].clone();
            self.address.clone()
        })
    }
}

/// What can be read from an image file without decoding it: format, dimensions (PNG) and
/// the EXIF tags of a JPEG.
pub fn image_metadata(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        out.push(("format".into(), "PNG".into()));
        if bytes.len() >= 24 {
            let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
            let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
            out.push(("dimensions".into(), format!("{w} × {h}")));
        }
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        out.push(("format".into(), "JPEG".into()));
        // Printable ASCII runs inside the APP1 (EXIF) segment: camera make, model, dates, GPS refs.
        if let Some(start) = bytes.windows(6).position(|w| w == b"Exif\0\0") {
            let len = bytes
                .get(start.saturating_sub(4)..start.saturating_sub(2))
                .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                .unwrap_or(0);
            let seg = &bytes[start..(start + len).min(bytes.len())];
            let mut run = Vec::new();
            for &b in seg.iter().chain(std::iter::once(&0u8)) {
                if (0x20..0x7f).contains(&b) {
                    run.push(b);
                } else {
                    if run.len() >= 4 && !run.starts_with(b"Exif") {
                        out.push(("exif".into(), String::from_utf8_lossy(&run).into_owned()));
                    }
                    run.clear();
                }
            }
        }
    } else {
        out.push(("format".into(), "unknown".into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses_resolve_from_onion_names_site_ids_and_urls() {
        let sites = BTreeMap::from([("silk-lane".to_string(), "http://abc.onion".to_string())]);
        assert_eq!(Browser::resolve("abc.onion/listings", &sites).as_deref(), Some("http://abc.onion/listings"));
        assert_eq!(Browser::resolve("silk-lane/vendor/x", &sites).as_deref(), Some("http://abc.onion/vendor/x"));
        assert_eq!(Browser::resolve("http://h.example/", &sites).as_deref(), Some("http://h.example/"));
        assert_eq!(Browser::resolve("nowhere", &sites), None);
        assert_eq!(Browser::resolve("  ", &sites), None);
    }

    #[test]
    fn history_goes_back_and_forward_and_a_new_visit_drops_the_forward_part() {
        let mut b = Browser::default();
        b.visit("http://a.onion/1");
        b.visit("http://a.onion/2");
        b.visit("http://a.onion/3");
        assert_eq!(b.back().as_deref(), Some("http://a.onion/2"));
        assert_eq!(b.back().as_deref(), Some("http://a.onion/1"));
        assert_eq!(b.back(), None);
        assert_eq!(b.forward().as_deref(), Some("http://a.onion/2"));
        b.visit("http://a.onion/9");
        assert_eq!(b.forward(), None);
        assert_eq!(b.history, vec!["http://a.onion/1", "http://a.onion/2", "http://a.onion/9"]);
    }

    #[test]
    fn pages_show_fields_tables_links_and_images() {
        let page = json!({"title": "GreenLeafUK", "bio": "Contact me", "vendor": {"url": "/vendor/GreenLeafUK"},
            "listings": [{"title": "Weed", "price": 10, "photo": "/img/1.jpg", "url": "/listing/1"}]});
        let v = PageView::from_json("http://abc.onion/vendor/x", &page);
        assert_eq!(v.title, "GreenLeafUK");
        assert!(v.fields.contains(&("bio".into(), "Contact me".into())));
        assert_eq!(v.tables[0].columns, vec!["photo", "price", "title", "url"]);
        assert_eq!(v.tables[0].rows[0][1], "10");
        assert_eq!(v.images, vec!["http://abc.onion/img/1.jpg"]);
        assert!(v.links.iter().any(|l| l.url == "http://abc.onion/listing/1"));
        assert!(v.links.iter().any(|l| l.url == "http://abc.onion/vendor/GreenLeafUK" && l.label == "vendor.url"));
        assert_eq!(join("http://a.onion/x/y", "z"), "http://a.onion/x/z");
        let home = json!({"market": "Silk Lane", "listings": [{"id": 4, "title": "Weed", "vendor": "GreenLeafUK"}]});
        let v = PageView::from_json("http://abc.onion", &home);
        assert_eq!(v.links[0], PageLink { label: "Weed".into(), url: "http://abc.onion/listing/4".into() });
        assert_eq!(v.links[1].url, "http://abc.onion/vendor/GreenLeafUK");
        let listing = json!({"id": 4, "title": "Weed", "vendor": "GreenLeafUK", "description": "x"});
        assert_eq!(PageView::from_json("http://abc.onion/listing/4", &listing).images, vec!["http://abc.onion/listing/4/photo.jpg"]);
        assert_eq!(join("http://a.onion", "z"), "http://a.onion/z");
    }

    #[test]
    fn image_metadata_reads_png_dimensions_and_jpeg_exif_text() {
        let mut png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_metadata(&png)[1], ("dimensions".into(), "640 × 480".into()));
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 30];
        jpeg.extend_from_slice(b"Exif\0\0");
        jpeg.extend_from_slice(b"\0\0Canon EOS 5D\0\0\0\0\0\0\0\0\0\0\0");
        assert!(image_metadata(&jpeg).contains(&("exif".into(), "Canon EOS 5D".into())));
        assert_eq!(image_metadata(b"xx")[0].1, "unknown");
    }
}
