//! `--pcap FILE`: control frames sent and received, in classic pcap (LINKTYPE_ETHERNET).
//!
//! Every record is flushed at once: control frames are a few per second, and a file that is
//! whole up to the last frame matters more than throughput when the daemon is killed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest frame recorded whole; longer ones are cut (pcap records both lengths).
const SNAPLEN: u32 = 65535;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;

/// A pcap file being written.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl PcapWriter<BufWriter<File>> {
    /// Create (or truncate) `path` and write the file header.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::new(BufWriter::new(File::create(path)?))
    }
}

impl<W: Write> PcapWriter<W> {
    /// Write the pcap file header to `out`.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut hdr = Vec::with_capacity(24);
        hdr.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // microsecond timestamps
        hdr.extend_from_slice(&2u16.to_le_bytes());
        hdr.extend_from_slice(&4u16.to_le_bytes());
        hdr.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        hdr.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        hdr.extend_from_slice(&SNAPLEN.to_le_bytes());
        hdr.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&hdr)?;
        out.flush()?;
        Ok(Self { out })
    }

    /// Record `frame`, stamped with the wall clock.
    pub fn write_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.write_frame_at(ts.as_secs() as u32, ts.subsec_micros(), frame)
    }

    /// Record `frame` with an explicit timestamp.
    pub fn write_frame_at(&mut self, secs: u32, micros: u32, frame: &[u8]) -> io::Result<()> {
        let incl = frame.len().min(SNAPLEN as usize);
        let mut rec = Vec::with_capacity(16 + incl);
        rec.extend_from_slice(&secs.to_le_bytes());
        rec.extend_from_slice(&micros.to_le_bytes());
        rec.extend_from_slice(&(incl as u32).to_le_bytes());
        rec.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        rec.extend_from_slice(&frame[..incl]);
        self.out.write_all(&rec)?;
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_frame_at(0x0102_0304, 5, &[0xaa; 60]).unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 24 + 16 + 60);
        assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&bytes[4..8], &[2, 0, 4, 0]);
        assert_eq!(&bytes[20..24], &[1, 0, 0, 0]);
        assert_eq!(&bytes[24..28], &[4, 3, 2, 1]);
        assert_eq!(&bytes[28..32], &[5, 0, 0, 0]);
        assert_eq!(&bytes[32..36], &[60, 0, 0, 0]);
        assert_eq!(&bytes[36..40], &[60, 0, 0, 0]);
        assert!(bytes[40..].iter().all(|&b| b == 0xaa));
    }
}
