//! Every string the workstation shows comes from a locale file (`assets/locales/<lang>.lang`,
//! `key = value` lines, `#` comments, `{name}` placeholders). English and Japanese ship
//! inside the binary; a missing key shows the key itself, so a gap is visible, never a panic.

use std::collections::BTreeMap;

/// The languages the workstation ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// The language for a code such as `en`, `ja` or `ja_JP.UTF-8`.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code.get(..2)? {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The shipped text of this language's file.
    pub fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../../assets/locales/en.lang"),
            Lang::Ja => include_str!("../../../assets/locales/ja.lang"),
        }
    }
}

/// Why a locale file could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocaleError {
    /// A line that is not `key = value`.
    #[error("line {line}: expected `key = value`")]
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// The same key twice.
    #[error("line {line}: key {key} defined twice")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
    },
}

/// One language's strings.
#[derive(Clone, Debug, Default)]
pub struct Locale {
    strings: BTreeMap<String, String>,
}

impl Locale {
    /// Parses a locale file.
    pub fn parse(text: &str) -> Result<Locale, LocaleError> {
        let mut strings = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').ok_or(LocaleError::Syntax { line: i + 1 })?;
            let key = k.trim();
            if key.is_empty() || key.contains(' ') {
                return Err(LocaleError::Syntax { line: i + 1 });
            }
            if strings.insert(key.to_string(), v.trim().replace("\\n", "\n")).is_some() {
                return Err(LocaleError::Duplicate { line: i + 1, key: key.to_string() });
            }
        }
        Ok(Locale { strings })
    }

    /// A shipped language.
    pub fn shipped(lang: Lang) -> Result<Locale, LocaleError> {
        Locale::parse(lang.source())
    }

    /// The string for `key` (the key itself when missing).
    pub fn t(&self, key: &str) -> String {
        self.strings.get(key).cloned().unwrap_or_else(|| key.to_string())
    }

    /// The string for `key` with `{name}` placeholders filled.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key);
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.strings.keys().map(String::as_str)
    }

    /// Whether `key` exists.
    pub fn has(&self, key: &str) -> bool {
        self.strings.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn files_parse_and_errors_name_the_line() {
        let l = Locale::parse("# c\na = Hello {who}\n\nb=x").unwrap();
        assert_eq!(l.tf("a", &[("who", "team")]), "Hello team");
        assert_eq!(l.t("missing.key"), "missing.key");
        assert_eq!(Locale::parse("a = 1\nnot a pair").unwrap_err(), LocaleError::Syntax { line: 2 });
        assert_eq!(Locale::parse("a = 1\na = 2").unwrap_err(), LocaleError::Duplicate { line: 2, key: "a".into() });
        assert_eq!(Lang::from_code("ja_JP.UTF-8"), Some(Lang::Ja));
        assert_eq!(Lang::from_code("fr"), None);
    }

    #[test]
    fn english_and_japanese_have_exactly_the_same_keys() {
        let en: BTreeSet<String> = Locale::shipped(Lang::En).unwrap().keys().map(str::to_string).collect();
        let ja: BTreeSet<String> = Locale::shipped(Lang::Ja).unwrap().keys().map(str::to_string).collect();
        assert!(!en.is_empty());
        assert_eq!(en.difference(&ja).collect::<Vec<_>>(), Vec::<&String>::new(), "keys missing in ja");
        assert_eq!(ja.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "keys missing in en");
    }

    /// Every `t("…")`/`tf("…"` key in the workstation's code (logic and rendering) exists.
    #[test]
    fn every_key_the_code_uses_exists() {
        let en = Locale::shipped(Lang::En).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for dir in [root.join("workstation"), root.join("bin/darklab-workstation")] {
            if let Ok(rd) = std::fs::read_dir(&dir) {
                files.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
        }
        let mut used = 0;
        // This file's own tests use made-up keys.
        for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "rs") && !f.ends_with("locale.rs")) {
            let text = std::fs::read_to_string(f).unwrap();
            for pat in ["t(\"", "tf(\""] {
                for (i, _) in text.match_indices(pat) {
                    // A call of `t`/`tf` itself, not of `visit(` or `set(`.
                    let before = text[..i].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' {
                        continue;
                    }
                    let key = text[i + pat.len()..].split('"').next().unwrap();
                    if key.contains('.') && !key.contains(' ') && !key.contains('{') && !key.contains('/') {
                        used += 1;
                        assert!(en.has(key), "{} uses missing key {key}", f.display());
                    }
                }
            }
        }
        assert!(used > 20, "only {used} keys found: is the scan still finding the code?");
    }
}
