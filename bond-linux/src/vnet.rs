//! The `virtio_net_hdr` that carries offload state beside a frame, so bondd moves whole TCP
//! super-frames (up to 64 KiB) and leaves checksums to the kernel instead of handling one
//! 1500-byte segment per system call.
//!
//! With `IFF_VNET_HDR` on the TAP and `PACKET_VNET_HDR` on the ports, every frame read from
//! or written to either is preceded by this 10-byte header. The kernel fills it on reads (GSO
//! type and segment size, "checksum still to do from here") and honours it on writes: a port
//! whose device cannot segment or checksum gets the work done in software by the kernel, just
//! before the driver, as for a kernel bond's members. bondd passes the header through
//! unchanged, except when it puts a VLAN tag back into a received frame (offsets grow by 4).
//!
//! Both the TAP and packet sockets use the legacy header in native byte order.

/// Length of the header (`struct virtio_net_hdr`).
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` is still to be computed.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_NONE`: a single frame.
pub const GSO_NONE: u8 = 0;

/// The fields of the header bondd reads or adjusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VnetHdr {
    /// `VIRTIO_NET_HDR_F_*`.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*` (plus the ECN bit).
    pub gso_type: u8,
    /// Bytes of headers before the payload that GSO splits.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Where checksumming starts, from the start of the frame.
    pub csum_start: u16,
    /// Where the checksum goes, from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// A header saying "one frame, nothing left to do": what control frames carry.
    pub const PLAIN: Self = Self {
        flags: 0,
        gso_type: GSO_NONE,
        hdr_len: 0,
        gso_size: 0,
        csum_start: 0,
        csum_offset: 0,
    };

    /// Read the header from its bytes.
    pub fn parse(b: &[u8; VNET_HDR_LEN]) -> Self {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Self {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    /// The header's bytes.
    pub fn emit(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }

    /// The same header for the frame with `n` more bytes inserted before the network header
    /// (a VLAN tag put back): the offsets that count from the start of the frame grow.
    pub fn shifted(self, n: u16) -> Self {
        let grow = |v: u16| if v == 0 { 0 } else { v.saturating_add(n) };
        Self {
            hdr_len: grow(self.hdr_len),
            csum_start: if self.flags & F_NEEDS_CSUM != 0 {
                self.csum_start.saturating_add(n)
            } else {
                self.csum_start
            },
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCPv4 super-frame with its checksum still to do.
    const TSO: VnetHdr = VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: 1,
        hdr_len: 66,
        gso_size: 1448,
        csum_start: 34,
        csum_offset: 16,
    };

    #[test]
    fn parse_emit_round_trip() {
        assert_eq!(VnetHdr::parse(&TSO.emit()), TSO);
        assert_eq!(VnetHdr::PLAIN.emit(), [0; VNET_HDR_LEN]);
    }

    #[test]
    fn vlan_shift_moves_frame_offsets_only() {
        let s = TSO.shifted(4);
        assert_eq!((s.hdr_len, s.csum_start, s.csum_offset), (70, 38, 16));
        assert_eq!(s.gso_size, 1448);
        // Without NEEDS_CSUM the checksum fields mean nothing and stay; no hdr_len stays 0.
        let plain = VnetHdr::PLAIN.shifted(4);
        assert_eq!(plain, VnetHdr::PLAIN);
    }
}
