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
    text.lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .map(|f| f.trim().to_string())
        .ok_or_else(|| NetError::Tool { program: "tor-gencert".into(), message: format!("{} has no fingerprint line", cert.display()) })
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
    let last_word = |path: &Path| -> Result<String, NetError> {
        let text = std::fs::read_to_string(path)?;
        text.split_whitespace()
            .last()
            .map(String::from)
            .ok_or_else(|| NetError::Tool { program: "tor".into(), message: format!("{} is empty", path.display()) })
    };
    Ok((last_word(&fp_file)?, last_word(&ed_file)?))
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
    if written.trim() != host {
        return Err(NetError::Plan(format!("tor serves site {site} as {}, not as {host}", written.trim())));
    }
    Ok(())
}
