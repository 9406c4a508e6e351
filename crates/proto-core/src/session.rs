//! The session contract shared by every protocol crate, and the small pieces
//! that every session needs: an outgoing byte queue and a deadline.

use bytes::{Buf, BytesMut};
use std::time::{Duration, Instant};

/// The sans-IO shape of every client and server session in this workspace.
///
/// A driver owns the socket and the clock; the session owns the protocol:
///
/// ```text
/// read bytes  -> handle_input(bytes)             (only buffers)
///             -> while let Some(ev) = poll_event()? { application decides,
///                  calls back into the session (accept/reject/...) }
/// write bytes <- while let Some(out) = poll_transmit() { write; advance_transmit(n) }
/// timers      <- poll_timeout() -> arm; on expiry handle_timeout(now)
/// peer closed -> handle_eof()
/// ```
///
/// `poll_event` returning `Err` is fatal: the session is closed and only its
/// pending transmit bytes (a last reply such as 421) are still to be written.
/// Every protocol crate's `ServerSession` and `ClientSession` implement this
/// trait, with the same method names also available as inherent methods.
pub trait Session {
    /// What the session reports to the application.
    type Event;
    /// A fatal error.
    type Error;

    /// Appends bytes received from the peer. Never parses, never fails.
    fn handle_input(&mut self, data: &[u8]);

    /// Runs the protocol until the next event for the application.
    ///
    /// # Errors
    ///
    /// A fatal protocol or limit violation; the session is then closed.
    fn poll_event(&mut self) -> Result<Option<Self::Event>, Self::Error>;

    /// Bytes waiting to be sent to the peer, if any.
    fn poll_transmit(&self) -> Option<&[u8]>;

    /// Marks `n` bytes from [`poll_transmit`](Self::poll_transmit) as written.
    fn advance_transmit(&mut self, n: usize);

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Tells the session the time is now `now` (at or after the deadline).
    fn handle_timeout(&mut self, now: Instant);

    /// Tells the session the peer closed its side of the connection.
    fn handle_eof(&mut self);
}

/// Outgoing bytes of a session: replies are written into it and the driver
/// drains it with `poll_transmit` / `advance_transmit`.
///
/// ```
/// let mut q = proto_core::TransmitQueue::default();
/// q.push(b"220 ready\r\n");
/// assert_eq!(q.peek(), Some(&b"220 ready\r\n"[..]));
/// q.advance(4);
/// assert_eq!(q.peek(), Some(&b"ready\r\n"[..]));
/// q.advance(7);
/// assert_eq!(q.peek(), None);
/// ```
///
/// Its `Debug` output gives the number of queued bytes, never the bytes:
/// they may be credentials not yet written (an AUTH or PASS line).
#[derive(Default, Clone)]
pub struct TransmitQueue {
    buf: BytesMut,
}

impl std::fmt::Debug for TransmitQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransmitQueue")
            .field("queued", &self.buf.len())
            .finish()
    }
}

impl TransmitQueue {
    /// Queues bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Direct access to the queue for encoders that write in place.
    pub fn buf_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The bytes waiting to be written, or `None` when the queue is empty.
    #[must_use]
    pub fn peek(&self) -> Option<&[u8]> {
        (!self.buf.is_empty()).then_some(&self.buf[..])
    }

    /// Drops `n` written bytes (clamped to what is queued).
    pub fn advance(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.advance(n);
    }

    /// Number of queued bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything queued.
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

/// A restartable deadline, for idle and per-command timeouts. Time is always
/// passed in; nothing here reads the clock.
///
/// ```
/// use std::time::{Duration, Instant};
/// let t0 = Instant::now();
/// let mut d = proto_core::Deadline::new(Duration::from_secs(600));
/// d.restart(t0);
/// assert_eq!(d.at(), Some(t0 + Duration::from_secs(600)));
/// assert!(!d.expired(t0 + Duration::from_secs(599)));
/// assert!(d.expired(t0 + Duration::from_secs(600)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    period: Duration,
    /// When it fires; `None` when stopped, or running with a period too
    /// long for `Instant` (it never fires then).
    at: Option<Instant>,
    /// Started and not stopped since.
    running: bool,
}

impl Deadline {
    /// A stopped deadline that lasts `period` once started.
    #[must_use]
    pub fn new(period: Duration) -> Self {
        Deadline {
            period,
            at: None,
            running: false,
        }
    }

    /// The configured period.
    #[must_use]
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Changes the period; a running deadline is restarted from `now`.
    pub fn set_period(&mut self, period: Duration, now: Instant) {
        self.period = period;
        if self.running {
            self.restart(now);
        }
    }

    /// Starts (or restarts) the deadline at `now + period`. A period too
    /// long for `Instant` (such as `Duration::MAX`) never fires, but the
    /// deadline runs: [`set_period`](Self::set_period) restarts it.
    pub fn restart(&mut self, now: Instant) {
        self.at = now.checked_add(self.period);
        self.running = true;
    }

    /// Stops the deadline.
    pub fn stop(&mut self) {
        self.at = None;
        self.running = false;
    }

    /// When it fires, if running (`None` as well for a period too long
    /// for `Instant`).
    #[must_use]
    pub fn at(&self) -> Option<Instant> {
        self.at
    }

    /// True if running and `now` is at or past the deadline.
    #[must_use]
    pub fn expired(&self, now: Instant) -> bool {
        self.at.is_some_and(|at| now >= at)
    }
}

/// The earliest of several optional instants (for `poll_timeout`).
#[must_use]
pub fn earliest(times: &[Option<Instant>]) -> Option<Instant> {
    times.iter().flatten().min().copied()
}

/// Moves everything `from` has to transmit into `to`'s input, in pieces of at
/// most `max_chunk` bytes (at least 1), and returns how many bytes moved.
///
/// For in-memory client/server tests: wire two sessions together, then drain
/// each one's events between transfers.
pub fn transfer<A: Session + ?Sized, B: Session + ?Sized>(
    from: &mut A,
    to: &mut B,
    max_chunk: usize,
) -> usize {
    let mut moved = 0;
    // An empty slice is taken as nothing to send, as `None` is: the loop
    // would make no progress on it.
    while let Some(out) = from.poll_transmit().filter(|b| !b.is_empty()) {
        let n = out.len().min(max_chunk.max(1));
        to.handle_input(&out[..n]);
        from.advance_transmit(n);
        moved += n;
    }
    moved
}

/// Takes everything `session` has to send (as a driver writing it all out
/// would); for tests and tools.
///
/// ```
/// # use proto_core::Session;
/// # fn demo<S: Session>(s: &mut S) {
/// let wire: Vec<u8> = proto_core::drain_transmit(s);
/// assert!(s.poll_transmit().is_none());
/// # }
/// ```
pub fn drain_transmit<S: Session + ?Sized>(session: &mut S) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = session.poll_transmit().filter(|b| !b.is_empty()) {
        let n = b.len();
        out.extend_from_slice(b);
        session.advance_transmit(n);
    }
    out
}

/// Implements [`Session`] for a type whose inherent methods already have the
/// contract's names and signatures, so each crate writes the delegation once
/// in a line instead of seven methods.
///
/// ```
/// use std::time::Instant;
/// struct Echo(proto_core::TransmitQueue);
/// impl Echo {
///     fn handle_input(&mut self, data: &[u8]) { self.0.push(data) }
///     fn poll_event(&mut self) -> Result<Option<()>, std::convert::Infallible> { Ok(None) }
///     fn poll_transmit(&self) -> Option<&[u8]> { self.0.peek() }
///     fn advance_transmit(&mut self, n: usize) { self.0.advance(n) }
///     fn poll_timeout(&self) -> Option<Instant> { None }
///     fn handle_timeout(&mut self, _now: Instant) {}
///     fn handle_eof(&mut self) {}
/// }
/// proto_core::impl_session!(Echo, (), std::convert::Infallible);
///
/// fn drive<S: proto_core::Session>(s: &mut S) -> usize {
///     s.handle_input(b"hi");
///     s.poll_transmit().map_or(0, <[u8]>::len)
/// }
/// assert_eq!(drive(&mut Echo(Default::default())), 2);
/// ```
#[macro_export]
macro_rules! impl_session {
    ($ty:ty, $event:ty, $error:ty) => {
        impl $crate::Session for $ty {
            type Event = $event;
            type Error = $error;
            fn handle_input(&mut self, data: &[u8]) {
                <$ty>::handle_input(self, data);
            }
            fn poll_event(&mut self) -> ::core::result::Result<::core::option::Option<$event>, $error> {
                <$ty>::poll_event(self)
            }
            fn poll_transmit(&self) -> ::core::option::Option<&[u8]> {
                <$ty>::poll_transmit(self)
            }
            fn advance_transmit(&mut self, n: usize) {
                <$ty>::advance_transmit(self, n);
            }
            fn poll_timeout(&self) -> ::core::option::Option<::std::time::Instant> {
                <$ty>::poll_timeout(self)
            }
            fn handle_timeout(&mut self, now: ::std::time::Instant) {
                <$ty>::handle_timeout(self, now);
            }
            fn handle_eof(&mut self) {
                <$ty>::handle_eof(self);
            }
        }
    };
}
