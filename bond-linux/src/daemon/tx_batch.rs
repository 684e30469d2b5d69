//! Frames read from the TAP in one turn, and which port each goes out on, so that each port's
//! share leaves with one `sendmmsg`.

use std::io;

use crate::packet::BATCH;
use crate::vnet::VNET_HDR_LEN;

/// [`BATCH`] frame slots and, per port, the slots queued for it (in the order read).
#[derive(Debug)]
pub(crate) struct TxBatch {
    buf: Vec<u8>,
    slot_len: usize,
    lens: [usize; BATCH],
    queues: Vec<Vec<u8>>,
}

// Slot indexes are stored as u8.
const _: () = assert!(BATCH <= u8::MAX as usize);

impl TxBatch {
    /// Slots for frames of up to `max_frame` bytes (plus header), queues for `ports` ports.
    pub(crate) fn new(max_frame: usize, ports: usize) -> Self {
        let slot_len = VNET_HDR_LEN + max_frame;
        Self {
            buf: vec![0; slot_len * BATCH],
            slot_len,
            lens: [0; BATCH],
            queues: (0..ports).map(|_| Vec::with_capacity(BATCH)).collect(),
        }
    }

    /// Fill slots with `read` (which returns `None` when nothing is waiting) until the batch is
    /// full or nothing is left; returns how many were filled. Queues must be empty.
    pub(crate) fn fill(
        &mut self,
        mut read: impl FnMut(&mut [u8]) -> io::Result<Option<usize>>,
    ) -> io::Result<usize> {
        debug_assert!(self.queues.iter().all(Vec::is_empty));
        for i in 0..BATCH {
            let slot = &mut self.buf[i * self.slot_len..(i + 1) * self.slot_len];
            match read(slot)? {
                // A TAP read never returns more than the slot; the largest TAP frame (64 KiB
                // + Ethernet, VLAN and virtio-net headers) fits a slot of FRAME_BUF.
                Some(n) => self.lens[i] = n.min(self.slot_len),
                None => return Ok(i),
            }
        }
        Ok(BATCH)
    }

    /// Slot `i`'s frame as read (header included).
    pub(crate) fn frame(&self, i: usize) -> &[u8] {
        &self.buf[i * self.slot_len..i * self.slot_len + self.lens[i]]
    }

    /// Queue slot `i` for the port of index `port` ([`bond_core::PortId::index`]).
    pub(crate) fn queue(&mut self, port: usize, i: usize) {
        if let Some(q) = self.queues.get_mut(port) {
            q.push(i as u8);
        }
    }

    /// The slots queued for port index `index`.
    pub(crate) fn queued(&self, index: usize) -> &[u8] {
        self.queues.get(index).map_or(&[], Vec::as_slice)
    }

    /// Empty every queue (the frames were sent).
    pub(crate) fn clear_queues(&mut self) {
        self.queues.iter_mut().for_each(Vec::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_stops_when_nothing_is_waiting_and_queues_keep_read_order() {
        let mut b = TxBatch::new(64, 2);
        let mut left = 3u8;
        let n = b
            .fill(|buf| {
                if left == 0 {
                    return Ok(None);
                }
                left -= 1;
                buf[0] = left;
                Ok(Some(1 + usize::from(left)))
            })
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(b.frame(0), &[2, 0, 0]);
        assert_eq!(b.frame(2), &[0]);
        b.queue(1, 2);
        b.queue(1, 0);
        b.queue(0, 1);
        assert_eq!(b.queued(0), &[1]);
        assert_eq!(b.queued(1), &[2, 0]);
        assert!(b.queued(7).is_empty());
        b.clear_queues();
        assert!(b.queued(1).is_empty());
    }

    #[test]
    fn fill_stops_at_a_full_batch_and_passes_errors_on() {
        let mut b = TxBatch::new(16, 1);
        assert_eq!(b.fill(|_| Ok(Some(99))).unwrap(), BATCH);
        // A length beyond the slot (a read never returns one) is clamped, not trusted.
        assert_eq!(b.frame(BATCH - 1).len(), VNET_HDR_LEN + 16);
        let err = b.fill(|_| Err(io::Error::other("gone"))).unwrap_err();
        assert_eq!(err.to_string(), "gone");
    }
}
