//! Key files tor writes and the network reads back: an authority's certificate (its v3
//! identity goes into every torrc), a relay's `fingerprint` and `fingerprint-ed25519`
//! files and an onion service's `hostname`. Read or refused, never a panic; what is read
//! has its format, and written back as tor writes it reads the same (round trip).
#![no_main]

use game::net::keys::{cert_fingerprint, ed25519_fingerprint_file, onion_hostname, rsa_fingerprint_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(fp) = cert_fingerprint(&text) {
        assert!(fp.len() == 40 && fp.bytes().all(|b| b.is_ascii_hexdigit()), "{fp:?}");
        assert_eq!(cert_fingerprint(&format!("dir-key-certificate-version 3\nfingerprint {fp}\n")), Some(fp));
    }
    if let Some(fp) = rsa_fingerprint_file(&text) {
        assert!(!fp.contains(char::is_whitespace), "{fp:?}");
        assert_eq!(rsa_fingerprint_file(&format!("relay {fp}\n")), Some(fp));
    }
    if let Some(id) = ed25519_fingerprint_file(&text) {
        assert_eq!(id.len(), 43, "{id:?}");
        assert_eq!(ed25519_fingerprint_file(&format!("relay {id}\n")), Some(id));
    }
    if let Some(name) = onion_hostname(&text) {
        assert!(name.ends_with(".onion") && !name.contains(char::is_whitespace), "{name:?}");
        assert_eq!(onion_hostname(&format!("{name}\n")), Some(name));
    }
});
