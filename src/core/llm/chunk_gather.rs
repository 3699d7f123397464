//! Gathers a streamed body's chunks between two deliveries to the reader.
//!
//! A stream arrives in many small pieces (one per server-sent event, often). Waking the code
//! that parses them once per piece costs a poll of everything above the read (the client, the
//! run driver, a batch's scheduler) per piece; with many streams at once that is most of the
//! page's work. The transport instead keeps the pieces that arrive between two deliveries and
//! hands them over together, once per short interval ([`GATHER_INTERVAL_MS`]), except where
//! waiting would be seen: the first piece of a body (its time to first token), its end, and a
//! backlog past [`DELIVER_AT_BYTES`]. A body longer than its limit fails at once, as a whole
//! body's read does ([`TransportError::TooLarge`]).
//!
//! Each piece keeps the time it arrived, so what is timed from the pieces (the time to the
//! first answer token after thinking) stays the time it came, not the time it was handed over.

use super::transport::TransportError;

/// How long pieces may wait to be handed over together, ms: about a frame, so what is drawn
/// from them moves as smoothly as it would piece by piece.
pub const GATHER_INTERVAL_MS: i32 = 16;

/// A backlog at least this large is handed over at once, so a fast stream never holds much.
pub const DELIVER_AT_BYTES: usize = 64 * 1024;

/// When the reader should have what was gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Now: the body's first piece, or a large backlog.
    Now,
    /// With the next gathering interval's delivery.
    Later,
}

/// Where a piece ends in the gathered bytes, and when it arrived (ms, the caller's clock).
pub type Arrival = (usize, f64);

/// The pieces of one streamed body not yet handed to its reader (see the module doc).
#[derive(Debug)]
pub struct ChunkGather {
    pending: Vec<u8>,
    /// Where each waiting piece ends in `pending`, and when it arrived.
    arrivals: Vec<Arrival>,
    received: usize,
    limit: usize,
    delivered: bool,
}

impl ChunkGather {
    /// A gatherer for a body of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        ChunkGather {
            pending: Vec::new(),
            arrivals: Vec::new(),
            received: 0,
            limit,
            delivered: false,
        }
    }

    /// Keeps `chunk`, which arrived at `arrived_ms`, and says when it should be delivered; past
    /// the limit nothing is kept and the body has failed.
    pub fn push(&mut self, chunk: &[u8], arrived_ms: f64) -> Result<Delivery, TransportError> {
        self.received += chunk.len();
        if self.received > self.limit {
            self.pending = Vec::new();
            self.arrivals = Vec::new();
            return Err(TransportError::TooLarge {
                limit_bytes: self.limit,
            });
        }
        self.pending.extend_from_slice(chunk);
        self.arrivals.push((self.pending.len(), arrived_ms));
        if !self.delivered || self.pending.len() >= DELIVER_AT_BYTES {
            Ok(Delivery::Now)
        } else {
            Ok(Delivery::Later)
        }
    }

    /// Whether pieces wait to be delivered.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Moves what waits into `into` and its pieces' ends and arrival times into `arrivals`
    /// (both emptied first), keeping the buffers' room for reuse.
    pub fn take_into(&mut self, into: &mut Vec<u8>, arrivals: &mut Vec<Arrival>) {
        into.clear();
        arrivals.clear();
        std::mem::swap(&mut self.pending, into);
        std::mem::swap(&mut self.arrivals, arrivals);
        if !into.is_empty() {
            self.delivered = true;
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_piece_goes_at_once_and_the_next_ones_wait_together() {
        let mut gather = ChunkGather::new(1024);
        assert_eq!(gather.push(b"data: a\n\n", 1.0), Ok(Delivery::Now));
        let (mut out, mut arrivals) = (Vec::new(), Vec::new());
        gather.take_into(&mut out, &mut arrivals);
        assert_eq!(out, b"data: a\n\n");
        assert_eq!(arrivals, [(9, 1.0)]);
        assert!(!gather.has_pending());

        assert_eq!(gather.push(b"data: b\n", 5.0), Ok(Delivery::Later));
        assert_eq!(gather.push(b"\ndata: c\n\n", 12.0), Ok(Delivery::Later));
        gather.take_into(&mut out, &mut arrivals);
        assert_eq!(out, b"data: b\n\ndata: c\n\n");
        // Handed over together, each piece still says where it ends and when it came.
        assert_eq!(arrivals, [(8, 5.0), (18, 12.0)]);
        assert_eq!(gather.received(), 27);
    }

    #[test]
    fn an_empty_take_does_not_count_as_the_first_delivery() {
        let mut gather = ChunkGather::new(1024);
        let (mut out, mut arrivals) = (vec![1, 2, 3], vec![(1, 1.0)]);
        gather.take_into(&mut out, &mut arrivals);
        assert!(out.is_empty() && arrivals.is_empty());
        assert_eq!(gather.push(b"x", 0.0), Ok(Delivery::Now));
    }

    #[test]
    fn a_large_backlog_goes_at_once() {
        let mut gather = ChunkGather::new(MAX);
        gather.push(b"first", 0.0).unwrap();
        gather.take_into(&mut Vec::new(), &mut Vec::new());
        let piece = vec![b'x'; DELIVER_AT_BYTES / 2];
        assert_eq!(gather.push(&piece, 1.0), Ok(Delivery::Later));
        assert_eq!(gather.push(&piece, 2.0), Ok(Delivery::Now));
    }

    const MAX: usize = 1 << 20;

    #[test]
    fn a_body_past_its_limit_fails_and_keeps_nothing() {
        let mut gather = ChunkGather::new(8);
        assert_eq!(gather.push(b"12345", 0.0), Ok(Delivery::Now));
        assert_eq!(
            gather.push(b"6789", 1.0),
            Err(TransportError::TooLarge { limit_bytes: 8 })
        );
        assert!(!gather.has_pending());
    }
}
