//! Keys of the private network: authority identities and signing keys made with
//! `tor-gencert`, relay fingerprints read with `tor --list-fingerprint`, and each onion
//! service's key written in tor's `HiddenServiceDir` format from the world's own key.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use market_sim::world::onion;

use super::NetError;

/// Creates a directory readable only by its owner (tor refuses group-readable ones).
pub fn private_dir(dir: &Path) -> Result<(), NetError> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Runs a helper program and returns its standard output, or its error output as the error.
fn run(mut cmd: Command, program: &str, stdin: &[u8]) -> Result<String, NetError> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { NetError::Missing { program: program.into() } } else { e.into() })?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let message = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
        return Err(NetError::Tool { program: program.into(), message: message.trim().to_string() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Makes an authority's v3 keys in `data_dir/keys` with `tor-gencert` (empty passphrase,
/// 12-month certificate for `dir_addr`) and returns its v3 identity (hex fingerprint of the
/// identity key). Keys already there are kept.
pub fn authority_keys(data_dir: &Path, dir_addr: &str) -> Result<String, NetError> {
    let keys = data_dir.join("keys");
    private_dir(&keys)?;
    let cert = keys.join("authority_certificate");
    if !cert.exists() {
        let gencert = super::find_program("tor-gencert")?;
        let mut cmd = Command::new(gencert);
        cmd.current_dir(&keys).args([
            "--create-identity-key",
            "--passphrase-fd",
            "0",
            "-m",
            "12",
            "-a",
            dir_addr,
            "-i",
            "authority_identity_key",
            "-s",
            "authority_signing_key",
            "-c",
            "authority_certificate",
        ]);
        run(cmd, "tor-gencert", b"\n")?;
    }
    let text = std::fs::read_to_string(&cert)?;
    cert_fingerprint(&text).ok_or_else(|| NetError::Tool {
        program: "tor-gencert".into(),
        message: format!("{} has no fingerprint line of 40 hex digits", cert.display()),
    })
}

/// The v3 identity in an authority certificate (its `fingerprint` line): 40 hex digits, or
/// `None`. What is read here goes into every torrc's `DirAuthority` line, so anything else
/// (spaces, a second word) is refused rather than copied.
pub fn cert_fingerprint(text: &str) -> Option<String> {
    let f = text.lines().find_map(|l| l.strip_prefix("fingerprint "))?.trim();
    is_rsa_fingerprint(f).then(|| f.to_string())
}

/// A relay's `fingerprint` file (`nick FINGERPRINT`): its RSA fingerprint, 40 hex digits.
pub fn rsa_fingerprint_file(text: &str) -> Option<String> {
    text.split_whitespace().last().filter(|f| is_rsa_fingerprint(f)).map(String::from)
}

/// A relay's `fingerprint-ed25519` file (`nick IDENTITY`): its ed25519 identity, 43
/// characters of unpadded base64.
pub fn ed25519_fingerprint_file(text: &str) -> Option<String> {
    let id = text.split_whitespace().last()?;
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    (id.len() == 43 && id.bytes().all(base64)).then(|| id.to_string())
}

fn is_rsa_fingerprint(f: &str) -> bool {
    f.len() == 40 && f.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Makes a router's identity keys in `data_dir` (through `tor --list-fingerprint`) and
/// returns its RSA fingerprint (40 hex digits) and its ed25519 identity (base64).
pub fn router_identity(data_dir: &Path, nick: &str) -> Result<(String, String), NetError> {
    private_dir(data_dir)?;
    let fp_file = data_dir.join("fingerprint");
    let ed_file = data_dir.join("fingerprint-ed25519");
    if !fp_file.exists() || !ed_file.exists() {
        let tor = super::find_program("tor")?;
        let empty = data_dir.join("empty-torrc");
        std::fs::write(&empty, "")?;
        let mut cmd = Command::new(tor);
        cmd.arg("--list-fingerprint")
            .args(["-f"])
            .arg(&empty)
            .args(["--defaults-torrc"])
            .arg(&empty)
            .args(["--orport", "1", "--Address", "127.0.0.1", "--nickname", nick, "--DataDirectory"])
            .arg(data_dir)
            .args(["--dirserver", "x 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff", "--Log", "err stderr"]);
        run(cmd, "tor", b"")?;
    }
    let read = |path: &Path, parse: fn(&str) -> Option<String>| -> Result<String, NetError> {
        parse(&std::fs::read_to_string(path)?)
            .ok_or_else(|| NetError::Tool { program: "tor".into(), message: format!("{} holds no fingerprint", path.display()) })
    };
    Ok((read(&fp_file, rsa_fingerprint_file)?, read(&ed_file, ed25519_fingerprint_file)?))
}

/// Writes an onion service's directory for tor: the secret key made from the world's key
/// seed. Tor derives the public key and writes `hostname` itself (see [`check_onion_name`]).
pub fn onion_service_dir(dir: &Path, key_seed: [u8; 32]) -> Result<(), NetError> {
    private_dir(dir)?;
    let _ = std::fs::remove_file(dir.join("hostname"));
    let _ = std::fs::remove_file(dir.join("hs_ed25519_public_key"));
    std::fs::write(dir.join("hs_ed25519_secret_key"), onion::tor_secret_key_file(key_seed))?;
    std::fs::set_permissions(dir.join("hs_ed25519_secret_key"), std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// Checks that tor derived `host` from the key in `dir` (its `hostname` file): tor mode
/// must serve each site under the same `.onion` name as direct mode.
pub fn check_onion_name(dir: &Path, site: &str, host: &str) -> Result<(), NetError> {
    let path = dir.join("hostname");
    let written = std::fs::read_to_string(&path).map_err(|e| NetError::File { path: path.clone(), message: e.to_string() })?;
    match onion_hostname(&written) {
        Some(name) if name == host => Ok(()),
        Some(name) => Err(NetError::Plan(format!("tor serves site {site} as {name}, not as {host}"))),
        None => Err(NetError::File { path, message: "not a v3 onion name".into() }),
    }
}

/// An onion service's `hostname` file as tor writes it: one v3 name (56 base32 letters and
/// digits, then `.onion`), or `None`.
pub fn onion_hostname(text: &str) -> Option<&str> {
    let name = text.trim();
    let label = name.strip_suffix(".onion")?;
    (label.len() == 56 && label.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tor_key_files_are_read_or_refused() {
        let fp = "A".repeat(40);
        assert_eq!(cert_fingerprint(&format!("dir-key-certificate-version 3\nfingerprint {fp}\n")), Some(fp.clone()));
        assert_eq!(cert_fingerprint("fingerprint AB CD\n"), None, "a second word would reach the torrc");
        assert_eq!(cert_fingerprint("dir-key-certificate-version 3\n"), None);
        assert_eq!(rsa_fingerprint_file(&format!("relay1 {fp}\n")), Some(fp));
        assert_eq!(rsa_fingerprint_file("relay1 XYZ\n"), None);
        assert_eq!(rsa_fingerprint_file(""), None);
        let ed = "b".repeat(42) + "+";
        assert_eq!(ed25519_fingerprint_file(&format!("relay1 {ed}\n")), Some(ed));
        assert_eq!(ed25519_fingerprint_file("relay1 abc=\n"), None);
        let host = format!("{}.onion", "a".repeat(52) + "2345");
        assert_eq!(onion_hostname(&format!("{host}\n")), Some(host.as_str()));
        assert_eq!(onion_hostname("example.onion\n"), None);
        assert_eq!(onion_hostname(&format!("{}.onion", "A".repeat(56))), None, "tor writes lower case");
    }
}
