//! Listing photos: real JPEG files drawn from a seed, with real EXIF metadata.
//!
//! Vendors photograph their goods; a careless one uploads the camera's file as it is, and
//! its EXIF block gives away the camera's make, model and serial number and, where the
//! scenario plants the slip, the GPS position where it was taken. The EXIF block written
//! here is a plain little-endian TIFF structure (IFD0 → Exif IFD → GPS IFD) in an APP1
//! segment, so exiftool and any EXIF library read it.
//!
//! Determinism: the picture comes from a ChaCha20 stream seeded by the caller and the
//! metadata from the arguments; same inputs → same bytes.

use rand_chacha_03::ChaCha20Rng;
use rand_chacha_03::rand_core::{RngCore, SeedableRng};
use sim_core::clock::SimTime;

/// Largest accepted photo upload, in bytes.
pub const PHOTO_MAX_BYTES: usize = 2 * 1024 * 1024;

/// The camera metadata written into a photo's EXIF block.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhotoExif {
    /// Camera maker (EXIF `Make`), e.g. "Canon".
    pub make: String,
    /// Camera model (EXIF `Model`), e.g. "Canon EOS 2000D".
    pub model: String,
    /// Camera body serial number (EXIF `BodySerialNumber`), if the camera writes one.
    #[serde(default)]
    pub serial: Option<String>,
    /// Where the photo was taken, as (latitude, longitude) in decimal degrees, if the
    /// camera or phone recorded it.
    #[serde(default)]
    pub gps: Option<(f64, f64)>,
    /// When it was taken (EXIF `DateTimeOriginal`, written in UTC).
    pub taken_at: SimTime,
}

/// Why a photo could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Width or height zero or above 4096.
    #[error("photo dimensions must be 1-4096 pixels")]
    BadSize,
    /// Latitude outside ±90 or longitude outside ±180 (or not a number).
    #[error("GPS position must be latitude -90..90 and longitude -180..180")]
    BadGps,
    /// A text field is longer than 64 bytes or holds a NUL.
    #[error("EXIF text fields must be at most 64 bytes without NUL")]
    BadText,
    /// Uploaded bytes are not a JPEG file.
    #[error("photo must be a JPEG file (starting FF D8 FF)")]
    NotJpeg,
    /// Uploaded bytes are too large.
    #[error("photo must be at most 2 MiB")]
    TooLarge,
    /// The encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
}

/// Draws a product photo from `seed` and encodes it as a JPEG carrying `exif` in an
/// APP1 segment.
pub fn render_listing_photo(seed: [u8; 32], width: u16, height: u16, exif: &PhotoExif) -> Result<Vec<u8>, PhotoError> {
    let app1 = exif_tiff(exif)?;
    encode(seed, width, height, Some(&app1))
}

/// Draws the same kind of photo without any EXIF block (what a careful vendor uploads).
pub fn render_plain_photo(seed: [u8; 32], width: u16, height: u16) -> Result<Vec<u8>, PhotoError> {
    encode(seed, width, height, None)
}

/// Checks uploaded bytes: a JPEG (FF D8 FF …) of at most [`PHOTO_MAX_BYTES`].
pub fn check_upload(bytes: &[u8]) -> Result<(), PhotoError> {
    if bytes.len() > PHOTO_MAX_BYTES {
        return Err(PhotoError::TooLarge);
    }
    if bytes.len() < 4 || bytes[..3] != [0xFF, 0xD8, 0xFF] {
        return Err(PhotoError::NotJpeg);
    }
    Ok(())
}

fn encode(seed: [u8; 32], width: u16, height: u16, exif: Option<&[u8]>) -> Result<Vec<u8>, PhotoError> {
    if width == 0 || height == 0 || width > 4096 || height > 4096 {
        return Err(PhotoError::BadSize);
    }
    let pixels = draw(seed, width, height);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 82);
    if let Some(tiff) = exif {
        enc.add_exif_metadata(tiff).map_err(|e| PhotoError::Encode(e.to_string()))?;
    }
    enc.encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb).map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

/// A table-top scene: a wooden gradient, a soft shadow and a coloured package with a
/// label, plus sensor noise. Integer arithmetic only.
fn draw(seed: [u8; 32], width: u16, height: u16) -> Vec<u8> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    let (w, h) = (i64::from(width), i64::from(height));
    let mut pick = |lo: i64, hi: i64| lo + i64::from(rng.next_u32() % u32::try_from(hi - lo).unwrap_or(1).max(1));
    let table = [pick(120, 200), pick(80, 140), pick(40, 90)];
    let pack = [pick(20, 230), pick(20, 230), pick(20, 230)];
    let (pw, ph) = (w * pick(35, 60) / 100, h * pick(35, 60) / 100);
    let (px, py) = ((w - pw) / 2 + pick(-w / 10, w / 10 + 1), (h - ph) / 2 + pick(-h / 10, h / 10 + 1));
    let grain = pick(3, 9);
    let mut noise = ChaCha20Rng::from_seed(seed.map(|b| b ^ 0x5a));
    let mut px_out = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..h {
        for x in 0..w {
            // Wood: vertical gradient with stripes.
            let stripe = ((x * 7 + y * 3 + (y * y) / (h + 1)) / grain) % 9 - 4;
            let shade = 80 + 40 * y / h.max(1);
            let mut c = [table[0] * shade / 100 + stripe, table[1] * shade / 100 + stripe, table[2] * shade / 100 + stripe];
            // Shadow, offset down-right.
            if x >= px + 12 && x < px + pw + 12 && y >= py + 12 && y < py + ph + 12 {
                c = c.map(|v| v * 60 / 100);
            }
            // Package with a white label and a seam.
            if x >= px && x < px + pw && y >= py && y < py + ph {
                let edge = (x - px).min(px + pw - 1 - x).min(y - py).min(py + ph - 1 - y);
                let light = 70 + 30 * (px + pw - x) / pw.max(1);
                c = pack.map(|v| v * light / 100);
                if edge < 3 {
                    c = c.map(|v| v * 70 / 100);
                }
                let (lx, ly) = (px + pw / 4, py + ph / 3);
                if x >= lx && x < lx + pw / 2 && y >= ly && y < ly + ph / 4 {
                    c = [235, 235, 228];
                    if (y - ly) % 8 < 2 && x > lx + 6 && x < lx + pw / 2 - 6 {
                        c = [40, 40, 40];
                    }
                }
                if y == py + ph / 8 {
                    c = c.map(|v| v * 80 / 100);
                }
            }
            let n = i64::from(noise.next_u32() % 13) - 6;
            for v in c {
                px_out.push(u8::try_from((v + n).clamp(0, 255)).unwrap_or(0));
            }
        }
    }
    px_out
}

// --- EXIF (TIFF) writer -----------------------------------------------------------

const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const UNDEFINED: u16 = 7;
const BYTE: u16 = 1;

struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    data: Vec<u8>,
}

fn ascii(tag: u16, s: &str) -> Result<Entry, PhotoError> {
    if s.len() > 64 || s.contains('\0') {
        return Err(PhotoError::BadText);
    }
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    let count = u32::try_from(data.len()).map_err(|_| PhotoError::BadText)?;
    Ok(Entry { tag, typ: ASCII, count, data })
}

fn long(tag: u16, v: u32) -> Entry {
    Entry { tag, typ: LONG, count: 1, data: v.to_le_bytes().to_vec() }
}

fn rationals(tag: u16, parts: &[(u32, u32)]) -> Entry {
    let mut data = Vec::new();
    for (n, d) in parts {
        data.extend_from_slice(&n.to_le_bytes());
        data.extend_from_slice(&d.to_le_bytes());
    }
    Entry { tag, typ: RATIONAL, count: u32::try_from(parts.len()).unwrap_or(0), data }
}

/// The byte size of an IFD with `entries` and its out-of-line values.
fn ifd_size(entries: &[Entry]) -> usize {
    2 + 12 * entries.len() + 4 + entries.iter().map(|e| if e.data.len() > 4 { e.data.len() + e.data.len() % 2 } else { 0 }).sum::<usize>()
}

/// Writes an IFD at `offset` (from the TIFF header) into `out`; values longer than four
/// bytes follow the IFD. Entries must be sorted by tag.
fn write_ifd(out: &mut Vec<u8>, entries: &[Entry], offset: usize) {
    let count = u16::try_from(entries.len()).unwrap_or(0);
    out.extend_from_slice(&count.to_le_bytes());
    let mut data_at = offset + 2 + 12 * entries.len() + 4;
    let mut data = Vec::new();
    for e in entries {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.typ.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        if e.data.len() <= 4 {
            let mut v = e.data.clone();
            v.resize(4, 0);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(&u32::try_from(data_at).unwrap_or(0).to_le_bytes());
            data.extend_from_slice(&e.data);
            if e.data.len() % 2 == 1 {
                data.push(0);
            }
            data_at += e.data.len() + e.data.len() % 2;
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    out.extend_from_slice(&data);
}

/// EXIF `YYYY:MM:DD HH:MM:SS` of a simulated time.
fn exif_time(t: SimTime) -> String {
    // SimTime displays as ISO-8601 `YYYY-MM-DDTHH:MM:SSZ`.
    let iso = t.to_string();
    let iso = iso.trim_end_matches('Z');
    match iso.split_once('T') {
        Some((date, time)) => format!("{} {}", date.replace('-', ":"), time),
        None => "0000:00:00 00:00:00".to_string(),
    }
}

/// Degrees as EXIF's three rationals (degrees, minutes, seconds × 10 000).
fn dms(value: f64) -> [(u32, u32); 3] {
    let v = value.abs();
    let total = (v * 36_000_000.0).round(); // in 1/10 000 s
    let total = if total.is_finite() && total >= 0.0 { total as u64 } else { 0 };
    let deg = total / 36_000_000;
    let min = (total / 600_000) % 60;
    let sec = total % 600_000;
    [(u32::try_from(deg).unwrap_or(0), 1), (u32::try_from(min).unwrap_or(0), 1), (u32::try_from(sec).unwrap_or(0), 10_000)]
}

/// The TIFF structure of an EXIF block (without the `Exif\0\0` prefix).
fn exif_tiff(exif: &PhotoExif) -> Result<Vec<u8>, PhotoError> {
    let when = exif_time(exif.taken_at);
    let mut exif_ifd =
        vec![Entry { tag: 0x9000, typ: UNDEFINED, count: 4, data: b"0232".to_vec() }, ascii(0x9003, &when)?, ascii(0x9004, &when)?];
    if let Some(serial) = &exif.serial {
        exif_ifd.push(ascii(0xA431, serial)?);
    }
    let gps_ifd = match exif.gps {
        None => None,
        Some((lat, lon)) => {
            if !(lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
                return Err(PhotoError::BadGps);
            }
            Some(vec![
                Entry { tag: 0x0000, typ: BYTE, count: 4, data: vec![2, 3, 0, 0] },
                ascii(0x0001, if lat < 0.0 { "S" } else { "N" })?,
                rationals(0x0002, &dms(lat)),
                ascii(0x0003, if lon < 0.0 { "W" } else { "E" })?,
                rationals(0x0004, &dms(lon)),
            ])
        }
    };
    // IFD0 with placeholder pointers (their size does not depend on their values).
    let mut ifd0 = vec![
        ascii(0x010F, &exif.make)?,
        ascii(0x0110, &exif.model)?,
        Entry { tag: 0x0112, typ: SHORT, count: 1, data: 1u16.to_le_bytes().to_vec() },
        ascii(0x0132, &when)?,
        long(0x8769, 0),
    ];
    if gps_ifd.is_some() {
        ifd0.push(long(0x8825, 0));
    }
    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd_size(&ifd0);
    let gps_at = exif_at + ifd_size(&exif_ifd);
    for e in &mut ifd0 {
        match e.tag {
            0x8769 => e.data = u32::try_from(exif_at).unwrap_or(0).to_le_bytes().to_vec(),
            0x8825 => e.data = u32::try_from(gps_at).unwrap_or(0).to_le_bytes().to_vec(),
            _ => {}
        }
    }
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    write_ifd(&mut out, &ifd0, ifd0_at);
    write_ifd(&mut out, &exif_ifd, exif_at);
    if let Some(gps) = &gps_ifd {
        write_ifd(&mut out, gps, gps_at);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exif() -> PhotoExif {
        PhotoExif {
            make: "Canon".into(),
            model: "Canon EOS 2000D".into(),
            serial: Some("293021001234".into()),
            gps: Some((52.370216, 4.895168)),
            taken_at: SimTime(1_772_352_000),
        }
    }

    #[test]
    fn photos_are_deterministic_jpegs() {
        let a = render_listing_photo([1; 32], 160, 120, &exif()).unwrap();
        let b = render_listing_photo([1; 32], 160, 120, &exif()).unwrap();
        assert_eq!(a, b);
        assert!(check_upload(&a).is_ok());
        assert!(a.windows(6).any(|w| w == b"Exif\0\0"));
        let plain = render_plain_photo([1; 32], 160, 120).unwrap();
        assert!(!plain.windows(6).any(|w| w == b"Exif\0\0"));
        assert_eq!(exif_time(SimTime(1_772_352_000)), "2026:03:01 08:00:00");
    }

    #[test]
    fn bad_inputs_are_refused() {
        let mut e = exif();
        e.gps = Some((91.0, 0.0));
        assert_eq!(render_listing_photo([1; 32], 10, 10, &e), Err(PhotoError::BadGps));
        e.gps = Some((f64::NAN, 0.0));
        assert_eq!(render_listing_photo([1; 32], 10, 10, &e), Err(PhotoError::BadGps));
        assert_eq!(render_listing_photo([1; 32], 0, 10, &exif()), Err(PhotoError::BadSize));
        assert_eq!(check_upload(b"<svg>"), Err(PhotoError::NotJpeg));
        assert_eq!(dms(52.5), [(52, 1), (30, 1), (0, 10_000)]);
    }
}
