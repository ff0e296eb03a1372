//! Integration tests of scenario loading: shipped scenarios load cleanly, deliberately
//! broken ones give the expected first diagnostic, and no input makes the loader panic.
//!
//! Set `DARKLAB_BLESS=1` to rewrite the `.expected` files from the current output.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod fuzz_regressions;

use std::fs;
use std::path::{Path, PathBuf};

use sim_core::scenario::check::{check, possible_facts, summary};
use sim_core::scenario::solve::{Solvability, solve};
use sim_core::scenario::{Diagnostics, load_file, load_str};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn ron_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "ron")).collect();
    files.sort();
    files
}

fn first_line(d: &Diagnostics, color: bool) -> String {
    d.render(color).lines().next().unwrap_or_default().to_string()
}

#[test]
fn shipped_scenarios_load_cleanly() {
    let files = ron_files(&workspace().join("scenarios"));
    assert!(!files.is_empty());
    let mut levels = std::collections::BTreeSet::new();
    let mut challenges = 0;
    for f in files {
        match load_file(&f) {
            Ok(s) => {
                // `check` solves the scenario and every variant it declares.
                assert!(check(&s).is_empty());
                assert!(!possible_facts(&s).is_empty());
                assert!(summary(&s).contains(&s.meta.title));
                let count = s.variants.as_ref().map_or(0, |v| v.count);
                for k in 1..=count {
                    let v = sim_core::scenario::variant::variant(&s, k);
                    assert!(matches!(solve(&v), Solvability::Solved(_)), "{} variant {k} does not solve", f.display());
                }
                // What the instructor needs to teach it.
                assert!(s.meta.learning_goals.len() >= 2, "{}: learning goals", f.display());
                assert!(s.meta.debrief.trim().len() >= 200, "{}: a debrief for the instructor", f.display());
                levels.insert(format!("{:?}", s.meta.difficulty));
                challenges += usize::from(count >= 4);
            }
            Err(d) => panic!("{} does not load:\n{}", f.display(), d.render(false)),
        }
    }
    // The shipped set: beginner, intermediate, advanced, and a challenge with variants for teams.
    for level in ["Introductory", "Intermediate", "Advanced"] {
        assert!(levels.contains(level), "no shipped {level} scenario: {levels:?}");
    }
    assert!(challenges >= 1, "a challenge scenario declares variants for several teams");
}

/// Taking one slip out of a shipped case: where no lawful path is left, `check` fails and
/// names the first fact no lawful path reveals; every shipped case needs some slip.
#[test]
fn removing_a_slip_a_shipped_case_needs_fails_the_check_naming_the_fact() {
    for f in ron_files(&workspace().join("scenarios")) {
        let s = load_file(&f).unwrap_or_else(|d| panic!("{}", d.render(false)));
        let mut needed = Vec::new();
        for (a, actor) in s.cast.iter().enumerate() {
            for k in 0..actor.slips.len() {
                let mut t = s.clone();
                let slip = t.cast[a].slips.remove(k);
                // Variants with slip options would put the slip back; the scenario itself.
                t.variants = None;
                let Solvability::Unsolvable { missing, .. } = solve(&t) else { continue };
                let problems = check(&t);
                let named = format!("no lawful path reveals `{missing}` ({:?})", missing.kind);
                assert!(
                    problems.iter().any(|p| p.message.contains(&named)),
                    "{} without slip {}: no problem names {missing}: {problems:#?}",
                    f.display(),
                    slip.id
                );
                needed.push(slip.id);
            }
        }
        assert!(!needed.is_empty(), "{}: the case needs none of its slips", f.display());
    }
}

#[test]
fn broken_scenarios_give_the_expected_first_diagnostic() {
    let dir = workspace().join("tests/broken");
    let files = ron_files(&dir);
    assert!(files.len() >= 10, "expected at least 10 broken scenarios");
    let bless = std::env::var_os("DARKLAB_BLESS").is_some();
    let mut failures = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let display = format!("tests/broken/{name}");
        let text = fs::read_to_string(&f).unwrap();
        let err = match load_str(&display, &text) {
            Ok(_) => {
                failures.push(format!("{display}: loaded without errors"));
                continue;
            }
            Err(e) => e,
        };
        assert!(!err.is_empty());
        let plain = err.render(false);
        // The colourless and coloured renderings share the same headline.
        assert_eq!(first_line(&err, false), first_line(&err, true));
        if !text.trim().is_empty() {
            assert!(plain.contains('│'), "{display}: no source snippet in\n{plain}");
        }
        let got = first_line(&err, false);
        let expected_path = f.with_extension("expected");
        if bless {
            fs::write(&expected_path, format!("{got}\n")).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim_end() != got {
            failures.push(format!("{display}:\n  expected: {}\n  got:      {got}\n{plain}", expected.trim_end()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn load_file_names_the_path_and_reports_io_errors() {
    let missing = workspace().join("tests/broken/does-not-exist.ron");
    let err = load_file(&missing).unwrap_err();
    let line = first_line(&err, false);
    assert!(line.starts_with(&format!("{}:1:1: error: <root>: cannot read the file", missing.display())), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    fs::write(&bad, b"Scenario(\n  format: 1,\xff\n)").unwrap();
    let err = load_file(&bad).unwrap_err();
    assert!(first_line(&err, false).ends_with("error: <root>: expected UTF-8 text, found an invalid byte"), "{err}");
    assert_eq!(err.items()[0].line, 2);
}

#[test]
fn semantic_checks_report_every_problem() {
    let text = fs::read_to_string(workspace().join("scenarios/careless-vendor.ron")).unwrap();
    let text = text
        .replace(r#"(actor: "buyer-3", amount"#, r#"(actor: "buyer-9", amount"#)
        .replace("wrong_accusation: -60", "wrong_accusation: 60")
        .replace(r#"listing: "kush-28g")"#, r#"listing: "kush-29g")"#);
    let err = load_str("x.ron", &text).unwrap_err();
    let paths: Vec<&str> = err.iter().map(|d| d.path.as_str()).collect();
    assert!(paths.contains(&"coin.initial_funds[2].actor"), "{paths:?}");
    assert!(paths.contains(&"rubric.wrong_accusation"), "{paths:?}");
    assert!(paths.contains(&"cast[2].script[1].action.Order.listing"), "{paths:?}");
    // Diagnostics come in document order.
    let lines: Vec<usize> = err.iter().map(|d| d.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
    // Display gives one headline per problem.
    assert_eq!(err.to_string().lines().count(), err.len());
}

/// A tiny deterministic generator (no RNG crate needed for a smoke test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn assert_located(name: &str, text: &str) {
    let result = std::panic::catch_unwind(|| load_str(name, text));
    let Ok(result) = result else { panic!("loader panicked on {name}: {text:?}") };
    if let Err(err) = result {
        assert!(!err.is_empty());
        for d in err.iter() {
            assert!(d.line >= 1 && d.column >= 1, "{name}: {d:?}");
            let lines = text.lines().count().max(1);
            assert!(d.line <= lines + 1, "{name}: line {} of {lines}", d.line);
        }
        let rendered = err.render(false);
        assert!(rendered.starts_with(&format!("{name}:")), "{rendered}");
    }
}

#[test]
fn truncations_and_garbage_never_panic() {
    let text = fs::read_to_string(workspace().join("scenarios/careless-vendor.ron")).unwrap();
    let mut cut = 0;
    while cut < text.len() {
        let mut end = cut;
        while !text.is_char_boundary(end) {
            end += 1;
        }
        assert_located("trunc.ron", &text[..end]);
        cut += 97;
    }
    let mut rng = Lcg(7);
    let alphabet: Vec<char> = "()[]{}:,\"'/*#r_ab1.-\n \\éZ".chars().collect();
    for _ in 0..300 {
        let len = usize::try_from(rng.next() % 200).unwrap();
        let s: String = (0..len).map(|_| alphabet[usize::try_from(rng.next()).unwrap() % alphabet.len()]).collect();
        assert_located("garbage.ron", &s);
    }
    // Single-byte mutations of the real scenario.
    let bytes: Vec<char> = text.chars().collect();
    for _ in 0..300 {
        let mut m = bytes.clone();
        let i = usize::try_from(rng.next()).unwrap() % m.len();
        m[i] = alphabet[usize::try_from(rng.next()).unwrap() % alphabet.len()];
        assert_located("mutant.ron", &m.into_iter().collect::<String>());
    }
}

/// The shape of fuzz crash `deployment_load/oom-b785f5…` (`r#` then whitespace) in a
/// scenario: the loader's locator once looped on it until memory ran out. Refused, located.
#[test]
fn a_raw_identifier_prefix_without_a_name_is_a_located_error() {
    let text = fs::read_to_string(workspace().join("scenarios/careless-vendor.ron")).unwrap();
    let broken = text.replacen("cast:", "r#       cast:", 1);
    assert_ne!(broken, text);
    let err = load_str("s.ron", &broken).unwrap_err();
    let d = err.iter().next().unwrap();
    let line = text.lines().position(|l| l.contains("cast:")).unwrap() + 1;
    assert_eq!((d.line, d.column), (line, broken.lines().nth(line - 1).unwrap().find("r#").unwrap() + 1), "{err}");
    assert!(d.help.as_deref().is_some_and(|h| h.contains("`r#` starts a raw identifier")), "{d:?}");
    assert_located("s.ron", "(\n r#       (id: \"board2\"rel.y2\", \"onionhost\"]),\n    ],\n)\n");
}

#[test]
fn rendering_shows_snippet_label_and_did_you_mean() {
    let text = fs::read_to_string(workspace().join("scenarios/careless-vendor.ron")).unwrap();
    let text = text.replacen(r#"handle: "GreenLeafUK")"#, r#"handel: "GreenLeafUK")"#, 1);
    let err = load_str("scenarios/x.ron", &text).unwrap_err();
    assert_eq!(err.len(), 1);
    let d = &err.items()[0];
    let line = line_of(&text, "handel:");
    assert_eq!((d.line, d.column, d.path.as_str()), (line, 54, "cast[0].personas[0].handel"));
    assert_eq!(d.help.as_deref(), Some("did you mean `handle`?"));
    let out = err.render(false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("scenarios/x.ron:{line}:54: error: cast[0].personas[0].handel: unknown field `handel`"));
    assert!(out.contains(r#"handel: "GreenLeafUK""#), "{out}");
    assert!(out.contains("unknown field\n") || out.contains("── unknown field"), "{out}");
    assert!(out.contains("help: did you mean `handle`?"), "{out}");
    // Colour only adds escape codes.
    assert!(err.render(true).contains('\u{1b}'));
}

#[test]
fn semantic_paths_through_variants_point_at_the_payload() {
    let text = fs::read_to_string(workspace().join("scenarios/careless-vendor.ron")).unwrap();
    let text = text.replacen(r#"ExplorerAddress(FirstIn("profile"))"#, r#"ExplorerAddress(FirstIn("profle"))"#, 1);
    let err = load_str("x.ron", &text).unwrap_err();
    let d = &err.items()[0];
    assert_eq!(d.path, "solution[1].Capture.target.ExplorerAddress.FirstIn");
    assert_eq!((d.line, d.column), (line_of(&text, "\"profle\""), 67));
    assert_eq!(d.help.as_deref(), Some("did you mean `profile`?"));
}

#[test]
fn summary_of_the_shipped_scenario() {
    let s = load_file(&workspace().join("scenarios/careless-vendor.ron")).unwrap();
    let text = summary(&s);
    // 2 × 5 steps + 30 × 1 attribution (mark, greenleaf) + 20 × 2 elements.
    assert_eq!(sim_core::scenario::summary::max_score(&s), 80);
    assert!(text.contains("maximum score   80"), "{text}");
    assert!(text.lines().count() <= 40, "{text}");
}

#[test]
#[ignore = "prints sample renderings; run with --ignored --nocapture"]
fn print_samples() {
    for name in ["wrong-type-handle", "unprovable-element", "syntax-missing-paren"] {
        let text = fs::read_to_string(workspace().join(format!("tests/broken/{name}.ron"))).unwrap();
        let err = load_str(&format!("tests/broken/{name}.ron"), &text).unwrap_err();
        println!("{}", err.render(false));
    }
}

/// The 1-based line of the first occurrence of `needle` (the shipped file grows; the
/// diagnostic must point where the mistake is, wherever that is).
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("the needle is in the text");
    text[..at].lines().count() + usize::from(text[..at].ends_with('\n'))
}
