//! A minimal pcapng writer (and the reader its tests need): one Section Header Block, one
//! Interface Description Block per captured interface (with `if_name`, `if_description` and
//! microsecond `if_tsresol`), and one Enhanced Packet Block per frame with its direction in
//! `epb_flags`. Timestamps are the simulator's virtual microseconds, so Wireshark shows the run
//! as starting on 1970-01-01 00:00:00. The capture is kept in memory (runs are short) and written
//! out in one go.

use std::io;
use std::path::Path;

use bond_core::Instant;

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const LINKTYPE_ETHERNET: u16 = 1;
const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;
const SNAPLEN: u32 = 65_535;

/// Direction of a captured frame, as seen from the capturing interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received by the interface.
    Inbound,
    /// Sent by the interface.
    Outbound,
}

/// Builds a pcapng capture in memory.
#[derive(Debug, Clone)]
pub struct PcapngWriter {
    buf: Vec<u8>,
    interfaces: u32,
    packets: u64,
}

impl Default for PcapngWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapngWriter {
    /// An empty capture (just the section header).
    pub fn new() -> Self {
        let mut w = Self {
            buf: Vec::new(),
            interfaces: 0,
            packets: 0,
        };
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major
        body.extend_from_slice(&0u16.to_le_bytes()); // minor
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        push_option(
            &mut body,
            OPT_COMMENT,
            b"bond-sim: deterministic simulation, virtual time",
        );
        end_options(&mut body);
        w.block(SHB, &body);
        w
    }

    /// Describe a new interface; returns its id for [`Self::packet`].
    pub fn add_interface(&mut self, name: &str, description: &str) -> u32 {
        let mut body = Vec::new();
        body.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&SNAPLEN.to_le_bytes());
        push_option(&mut body, IF_NAME, name.as_bytes());
        push_option(&mut body, IF_DESCRIPTION, description.as_bytes());
        push_option(&mut body, IF_TSRESOL, &[6]); // 10^-6 s
        end_options(&mut body);
        self.block(IDB, &body);
        self.interfaces += 1;
        self.interfaces - 1
    }

    /// Record `frame` on interface `iface` at virtual time `at`.
    ///
    /// # Panics
    /// If `iface` was not returned by [`Self::add_interface`].
    pub fn packet(&mut self, iface: u32, at: Instant, dir: Direction, frame: &[u8]) {
        assert!(iface < self.interfaces, "pcapng: unknown interface {iface}");
        let ts = at.total_micros();
        let mut body = Vec::with_capacity(32 + frame.len());
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        body.extend_from_slice(frame);
        pad(&mut body);
        let flags: u32 = match dir {
            Direction::Inbound => 1,
            Direction::Outbound => 2,
        };
        push_option(&mut body, EPB_FLAGS, &flags.to_le_bytes());
        end_options(&mut body);
        self.block(EPB, &body);
        self.packets += 1;
    }

    /// Number of packets recorded.
    pub fn packet_count(&self) -> u64 {
        self.packets
    }

    /// The capture so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Write the capture to `path`.
    pub fn write_to(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, &self.buf)
    }

    fn block(&mut self, ty: u32, body: &[u8]) {
        let total = (12 + body.len()) as u32;
        self.buf.extend_from_slice(&ty.to_le_bytes());
        self.buf.extend_from_slice(&total.to_le_bytes());
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(&total.to_le_bytes());
    }
}

fn pad(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    pad(body);
}

fn end_options(body: &mut Vec<u8>) {
    body.extend_from_slice(&OPT_ENDOFOPT.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
}

/// A block read back by [`read_blocks`] (only what the tests check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Section header (version).
    Section {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// Interface description.
    Interface {
        /// Link type.
        linktype: u16,
        /// `if_name`.
        name: String,
        /// `if_tsresol`.
        tsresol: Option<u8>,
    },
    /// Enhanced packet.
    Packet {
        /// Interface id.
        iface: u32,
        /// Timestamp in interface units (µs here).
        ts: u64,
        /// Captured bytes.
        data: Vec<u8>,
        /// `epb_flags`.
        flags: Option<u32>,
    },
    /// Any other block type.
    Other(u32),
}

/// Parse a little-endian pcapng capture, checking every block's framing: both length fields
/// equal, 4-byte alignment, options that fit their block.
pub fn read_blocks(mut bytes: &[u8]) -> Result<Vec<Block>, String> {
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 12 {
            return Err(format!(
                "truncated block header ({} bytes left)",
                bytes.len()
            ));
        }
        let ty = u32_at(bytes, 0);
        let len = u32_at(bytes, 4) as usize;
        if len < 12 || !len.is_multiple_of(4) || len > bytes.len() {
            return Err(format!("bad block length {len}"));
        }
        if u32_at(bytes, len - 4) as usize != len {
            return Err("trailing block length differs".into());
        }
        let body = &bytes[8..len - 4];
        let options = |mut o: &[u8]| -> Result<Vec<(u16, Vec<u8>)>, String> {
            let mut v = Vec::new();
            while o.len() >= 4 {
                let (code, l) = (u16_at(o, 0), u16_at(o, 2) as usize);
                if code == OPT_ENDOFOPT {
                    return Ok(v);
                }
                let padded = (l + 3) & !3;
                if 4 + padded > o.len() {
                    return Err(format!("option {code} overruns its block"));
                }
                v.push((code, o[4..4 + l].to_vec()));
                o = &o[4 + padded..];
            }
            if o.is_empty() {
                Ok(v)
            } else {
                Err("stray option bytes".into())
            }
        };
        out.push(match ty {
            SHB => {
                if u32_at(body, 0) != BYTE_ORDER_MAGIC {
                    return Err("bad byte-order magic".into());
                }
                options(&body[16..])?;
                Block::Section {
                    major: u16_at(body, 4),
                    minor: u16_at(body, 6),
                }
            }
            IDB => {
                let opts = options(&body[8..])?;
                let get = |c| opts.iter().find(|(k, _)| *k == c).map(|(_, v)| v.clone());
                Block::Interface {
                    linktype: u16_at(body, 0),
                    name: String::from_utf8_lossy(&get(IF_NAME).unwrap_or_default()).into_owned(),
                    tsresol: get(IF_TSRESOL).and_then(|v| v.first().copied()),
                }
            }
            EPB => {
                let cap = u32_at(body, 12) as usize;
                let data_end = 20 + ((cap + 3) & !3);
                if data_end > body.len() {
                    return Err("packet data overruns its block".into());
                }
                let opts = options(&body[data_end..])?;
                let flags = opts
                    .iter()
                    .find(|(k, _)| *k == EPB_FLAGS)
                    .map(|(_, v)| u32_at(v, 0));
                Block::Packet {
                    iface: u32_at(body, 0),
                    ts: u64::from(u32_at(body, 4)) << 32 | u64::from(u32_at(body, 8)),
                    data: body[20..20 + cap].to_vec(),
                    flags,
                }
            }
            other => Block::Other(other),
        });
        bytes = &bytes[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip() {
        let mut w = PcapngWriter::new();
        let eth0 = w.add_interface("eth0", "router eth0");
        let eth1 = w.add_interface("eth1", "router eth1");
        w.packet(
            eth1,
            Instant::from_micros(0x1_0000_0005),
            Direction::Outbound,
            &[1, 2, 3],
        );
        w.packet(eth0, Instant::from_micros(7), Direction::Inbound, &[9; 60]);
        assert_eq!(w.packet_count(), 2);
        let blocks = read_blocks(w.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 5);
        assert_eq!(blocks[0], Block::Section { major: 1, minor: 0 });
        assert_eq!(
            blocks[1],
            Block::Interface {
                linktype: 1,
                name: "eth0".into(),
                tsresol: Some(6)
            }
        );
        assert_eq!(
            blocks[2],
            Block::Interface {
                linktype: 1,
                name: "eth1".into(),
                tsresol: Some(6)
            }
        );
        assert_eq!(
            blocks[3],
            Block::Packet {
                iface: 1,
                ts: 0x1_0000_0005,
                data: vec![1, 2, 3],
                flags: Some(2)
            }
        );
        assert_eq!(
            blocks[4],
            Block::Packet {
                iface: 0,
                ts: 7,
                data: vec![9; 60],
                flags: Some(1)
            }
        );
    }

    #[test]
    fn reader_rejects_broken_framing() {
        let w = PcapngWriter::new();
        let mut b = w.as_bytes().to_vec();
        let n = b.len();
        b[n - 4] ^= 4;
        assert!(read_blocks(&b).is_err());
        assert!(read_blocks(&w.as_bytes()[..10]).is_err());
    }
}
