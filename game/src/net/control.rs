//! Tor's control port, the little of it the watchdog needs: cookie authentication and
//! `SIGNAL` (a HUP makes a relay republish its descriptor to the authorities and an
//! authority reload, so the next vote counts every relay). Replies are parsed by
//! [`parse_reply`]; every read and write has a deadline, so a frozen tor cannot hang us.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use super::NetError;

/// How long one exchange with a router's control port may take.
const DEADLINE: Duration = Duration::from_secs(3);

/// The largest reply we read (tor's replies to our commands are a few bytes).
const MAX_REPLY: usize = 64 * 1024;

/// One reply of the control protocol: its status code and the text of each line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit status (250 is success).
    pub code: u16,
    /// Each line's text after the code and its separator (data blocks as one line each).
    pub lines: Vec<String>,
}

/// A control-port reply that does not follow the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A line that does not start with a three-digit code and a separator.
    #[error("malformed control reply line {0:?}")]
    Malformed(String),
    /// Lines of one reply with different codes.
    #[error("control reply mixes codes {0} and {1}")]
    MixedCodes(u16, u16),
}

/// Parses one complete reply from `text` (lines ending in CRLF or LF): `None` while more
/// lines are needed (no end line `NNN text` yet, or an open `+` data block).
pub fn parse_reply(text: &str) -> Result<Option<Reply>, ReplyError> {
    let mut code = None;
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(line) = next_line(&mut rest) {
        let (head, tail) = (line.get(..3), line.get(4..).unwrap_or(""));
        let this: u16 = head
            .filter(|h| h.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| ReplyError::Malformed(line.to_string()))?;
        if let Some(c) = code
            && c != this
        {
            return Err(ReplyError::MixedCodes(c, this));
        }
        code = Some(this);
        match line.as_bytes().get(3) {
            Some(b' ') => {
                lines.push(tail.to_string());
                return Ok(Some(Reply { code: this, lines }));
            }
            Some(b'-') => lines.push(tail.to_string()),
            Some(b'+') => {
                // A data block: lines until a lone "." (a leading ".." stands for ".").
                let mut data = Vec::new();
                loop {
                    let Some(d) = next_line(&mut rest) else { return Ok(None) };
                    if d == "." {
                        break;
                    }
                    data.push(d.strip_prefix('.').filter(|_| d.starts_with("..")).unwrap_or(d));
                }
                lines.push(format!("{tail}\n{}", data.join("\n")));
            }
            _ => return Err(ReplyError::Malformed(line.to_string())),
        }
    }
    Ok(None)
}

/// The next complete line of `rest` (without its CRLF or LF), `None` when none is complete.
fn next_line<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let end = rest.find('\n')?;
    let line = rest[..end].trim_end_matches('\r');
    *rest = &rest[end + 1..];
    Some(line)
}

/// An authenticated connection to one router's control port.
struct Control {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Control {
    /// Connects to `addr` and authenticates with the cookie tor wrote in `data_dir`.
    fn open(addr: SocketAddr, data_dir: &Path) -> Result<Control, NetError> {
        let cookie = std::fs::read(data_dir.join("control_auth_cookie"))?;
        let stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
        stream.set_read_timeout(Some(DEADLINE))?;
        stream.set_write_timeout(Some(DEADLINE))?;
        let mut control = Control { stream, buf: Vec::new() };
        control.command(&format!("AUTHENTICATE {}", hex::encode(cookie)))?;
        Ok(control)
    }

    /// Sends one command and reads its reply; a code other than 250 is an error.
    fn command(&mut self, line: &str) -> Result<Reply, NetError> {
        self.stream.write_all(format!("{line}\r\n").as_bytes())?;
        let verb = line.split_whitespace().next().unwrap_or(line);
        let fail = |message: String| NetError::Tool { program: format!("tor control port ({verb})"), message };
        loop {
            if let Some(reply) = parse_reply(&String::from_utf8_lossy(&self.buf)).map_err(|e| fail(e.to_string()))? {
                self.buf.clear();
                return if reply.code == 250 { Ok(reply) } else { Err(fail(format!("{} {}", reply.code, reply.lines.join(" / ")))) };
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 || self.buf.len() + n > MAX_REPLY {
                return Err(fail("connection closed before a complete reply".into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Sends `SIGNAL <signal>` (e.g. `HUP`) to the router whose control port is `addr` and
/// whose data directory is `data_dir`.
pub fn signal(addr: SocketAddr, data_dir: &Path, signal: &str) -> Result<(), NetError> {
    Control::open(addr, data_dir)?.command(&format!("SIGNAL {signal}")).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_as_tor_writes_them() {
        assert_eq!(parse_reply("250 OK\r\n"), Ok(Some(Reply { code: 250, lines: vec!["OK".into()] })));
        assert_eq!(parse_reply("250-version=0.4.9.11\r\n"), Ok(None));
        let multi = "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n250 OK\r\n";
        let reply = parse_reply(multi).unwrap().unwrap();
        assert_eq!(reply.lines.len(), 2);
        assert!(reply.lines[0].contains("PROGRESS=100"));
        let data = "250+config-text=\r\nSocksPort 0\r\nNickname auth1\r\n.\r\n250 OK\r\n";
        let reply = parse_reply(data).unwrap().unwrap();
        assert_eq!(reply.lines, vec!["config-text=\nSocksPort 0\nNickname auth1".to_string(), "OK".into()]);
        assert_eq!(parse_reply("250+x=\r\nopen block\r\n"), Ok(None));
        let refused = parse_reply("515 Authentication failed: Wrong length on authentication cookie.\r\n").unwrap().unwrap();
        assert_eq!(refused.code, 515);
        assert!(matches!(parse_reply("OK\r\n"), Err(ReplyError::Malformed(_))));
        assert!(matches!(parse_reply("250-a\r\n551 b\r\n"), Err(ReplyError::MixedCodes(250, 551))));
        assert!(matches!(parse_reply("25\n"), Err(ReplyError::Malformed(_))));
        assert!(matches!(parse_reply("2500K\n"), Err(ReplyError::Malformed(_))));
    }
}
