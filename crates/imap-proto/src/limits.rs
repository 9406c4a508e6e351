//! [`Limits`]: every size and depth bound of the codec in one place.

/// Hard bounds applied by the [`Framer`](crate::Framer) and the parsers.
///
/// The defaults follow RFC 9051 (section 4 and 6: a server SHOULD accept
/// command lines of at least 8000 octets) and keep recursion well below any
/// stack limit. Exceeding a bound is always a clear error, never unbounded
/// memory, a stack overflow or an endless "need more data".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (one CRLF-terminated segment of a unit), CRLF included.
    pub max_line_len: usize,
    /// Largest literal that is buffered inside a unit.
    pub max_literal_len: u64,
    /// Largest unit (all its lines and buffered literals).
    ///
    /// This also bounds the memory a parsed unit takes, but not 1:1: a unit
    /// made of many tiny items (search keys, fetch items, `{0+}` APPEND
    /// messages, a few bytes each on the wire) parses into values of about
    /// 100 bytes each, which [`max_items`](Self::max_items) bounds (some
    /// 13 MB at its default; without it a 32 MiB APPEND of empty messages
    /// took some 460 MB). Where memory is tight, lower this limit (a server
    /// that takes messages of up to N bytes needs little more than N here)
    /// or stream literals.
    pub max_unit_len: usize,
    /// Literals longer than this are streamed as chunks instead of buffered
    /// (`None`: never stream; such literals are refused when above
    /// `max_literal_len`). A literal of at most
    /// [`ALWAYS_BUFFERED`](Self::ALWAYS_BUFFERED) octets is buffered
    /// whatever this says.
    pub stream_literals_over: Option<u64>,
    /// Largest literal that may be streamed.
    pub max_streamed_literal_len: u64,
    /// Largest non-synchronizing literal (`{n+}`) the framer accepts from a
    /// client. The default, 4096, is the bound of IMAP4rev2 (RFC 9051
    /// section 4.3) and of LITERAL- (RFC 7888 section 5); a server that
    /// offers LITERAL+ raises it. A larger one is refused and its data
    /// skipped (RFC 7888 section 4, choice 1), so the next command is read
    /// in step; the server answers the command with `BAD [TOOBIG]`.
    pub max_nonsync_literal_len: u64,
    /// Most values the lists of one unit may hold, all lists counted
    /// together: the elements of every list the parse fills (messages of
    /// a MULTIAPPEND, search keys, sequence-set ranges, SEARCH numbers,
    /// flags, FETCH items, addresses, body parts, parameters...). A unit
    /// with more is refused ([`ParseError::is_over_limit`](crate::ParseError::is_over_limit)).
    /// This bounds what a parsed unit takes in memory where
    /// `max_unit_len` does not (values of some 100 bytes each, from a few
    /// bytes on the wire). RFC 9051 sets no such bound; the default,
    /// 131,072, is four times what the longest default line (64 KiB, at
    /// least two octets a value) can hold, and 32 times what a line of the
    /// 8000 octets RFC 9051 section 4 asks a server to take can. A client
    /// that raises `max_line_len` for very long SEARCH results raises this
    /// too.
    pub max_items: usize,
    /// Deepest nesting of any recursive rule (parenthesised lists, body
    /// structures, search keys, threads, extension values).
    pub max_depth: usize,
    /// How many bytes of an offending unit an error keeps.
    pub error_snippet: usize,
}

impl Limits {
    /// Literals of at most this many octets are never streamed, whatever
    /// [`stream_literals_over`](Self::stream_literals_over) says (they still
    /// count against `max_literal_len` and `max_unit_len`). The parser
    /// reads some short strings by their content, which a streamed literal
    /// does not hold: a BODYSTRUCTURE media type and subtype decide which
    /// fields follow (RFC 9051 section 9: `"TEXT"` is followed by a line
    /// count, `"MESSAGE" "RFC822"` and `"MESSAGE" "GLOBAL"` by an envelope,
    /// a body and a line count), and `INBOX` is one name in any case
    /// (section 5.1; [`Mailbox`](crate::Mailbox) equality). Each of those
    /// values is a literal in the grammar's `string = quoted / literal`.
    /// None is longer than this, so a longer literal cannot be one of them
    /// and reads the same streamed or buffered: how a unit parses does not
    /// depend on the streaming threshold. (Streaming so short a literal
    /// would save nothing either: a [`Str`](crate::Str) holds up to 38
    /// bytes inline.)
    pub const ALWAYS_BUFFERED: u64 = 16;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_len: 64 * 1024,
            max_literal_len: 16 * 1024 * 1024,
            max_unit_len: 32 * 1024 * 1024,
            stream_literals_over: None,
            max_streamed_literal_len: 1 << 40,
            max_nonsync_literal_len: 4096,
            max_items: 128 * 1024,
            max_depth: 64,
            error_snippet: 512,
        }
    }
}
