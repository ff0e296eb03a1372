//! Control-port replies as tor (or anything listening there) may send them: parsed into
//! a reply, "need more", or a typed error — never a panic; a complete reply stays complete
//! when more bytes follow it.
#![no_main]

use game::net::control::parse_reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(Some(reply)) = parse_reply(&text) {
        assert!(reply.code <= 999 && !reply.lines.is_empty(), "{reply:?}");
        let more = format!("{text}250 OK\r\n");
        assert_eq!(parse_reply(&more), Ok(Some(reply)), "bytes after a complete reply changed it");
    }
});
