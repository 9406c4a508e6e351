//! PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in one message.

use std::borrow::Cow;

use proto_core::Wipe as _;

use super::{ClientSteps, no_success_data};
use crate::client::{ClientOptions, Credentials, prepared_name, usable_password};
use crate::server::{CredentialStore, ServerStep, ServerSteps, authorized};
use crate::{Mechanism, SaslError, Secret, saslprep};

/// Messages up to this many octets live inside the client's own box (an
/// ASCII user name and password of some 30 characters each).
const INLINE: usize = 64;
// The wipe on drop covers the whole buffer in 32-octet pieces.
const _: () = assert!(INLINE.is_multiple_of(32));

/// The client's copy of its message. The one it hands out is made from this
/// at each [`ClientSteps::initial`], so the copy kept for a re-send (RFC 4422
/// section 5, the server asks with an empty challenge) is this one, not a
/// second heap buffer: a message that fits is held inline in the client's box
/// and costs no allocation of its own.
enum Message {
    Inline(InlineMessage),
    Heap(Secret<Vec<u8>>),
}

impl Message {
    fn as_slice(&self) -> &[u8] {
        match self {
            Message::Inline(m) => m.bytes.get(..m.len).unwrap_or_default(),
            Message::Heap(m) => m.expose(),
        }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message(<redacted>)")
    }
}

/// A message of at most [`INLINE`] octets, wiped on drop.
struct InlineMessage {
    len: usize,
    bytes: [u8; INLINE],
}

impl InlineMessage {
    /// Writes `part` at `at` if it fits (the caller has checked the total
    /// length, and checks the message afterwards).
    #[inline(always)]
    fn put(&mut self, at: usize, part: &[u8]) {
        if let Some(to) = self.bytes.get_mut(at..at + part.len())
            && !part.is_empty()
        {
            to.copy_from_slice(part);
        }
    }
}

impl Drop for InlineMessage {
    /// Zeroes the buffer with the wipe [`Secret`] uses, in the 32-octet
    /// pieces it is defined on.
    fn drop(&mut self) {
        let (pieces, _) = self.bytes.as_chunks_mut::<32>();
        pieces.iter_mut().for_each(proto_core::Wipe::wipe);
    }
}

#[derive(Debug)]
pub(crate) struct PlainClient {
    message: Message,
}

impl PlainClient {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let password = creds.password()?.expose();
        let authzid = creds.authzid().unwrap_or("");
        if creds.username.is_empty() {
            return Err(SaslError::MissingCredentials("PLAIN needs a user name"));
        }
        if password.is_empty() {
            return Err(SaslError::InvalidCredentials(
                "PLAIN needs a non-empty password (RFC 4616 section 2)",
            ));
        }
        let parts = [
            authzid.as_bytes(),
            &[0],
            creds.username.as_bytes(),
            &[0],
            password.as_bytes(),
        ];
        let len: usize = parts.iter().map(|p| p.len()).sum();
        // The message is written straight into its final place (the heap
        // buffer, or the client's box): built on the stack and then moved,
        // the password would leave copies in stack frames that no wipe reaches.
        let message = if len <= INLINE {
            Message::Inline(InlineMessage {
                len: 0,
                bytes: [0; INLINE],
            })
        } else {
            Message::Heap(Secret::new(Vec::with_capacity(len)))
        };
        let mut guard = super::ClientGuard::new_boxed(PlainClient { message }, options.limits);
        match &mut guard.inner.message {
            Message::Inline(inline) => {
                // The buffer is all zeros: the separators are in place, the
                // three fields go around them.
                let [authzid, _, authcid, _, password] = parts;
                inline.put(0, authzid);
                inline.put(authzid.len() + 1, authcid);
                inline.put(authzid.len() + authcid.len() + 2, password);
                inline.len = len;
            }
            Message::Heap(msg) => parts
                .into_iter()
                .for_each(|p| msg.expose_mut().extend_from_slice(p)),
        }
        // The two separators must be the only NULs the message holds (a
        // refused message is wiped with the client it was built in).
        let bytes = guard.inner.message.as_slice();
        if bytes.len() != len || count_nuls(bytes) != 2 {
            return Err(SaslError::InvalidCredentials("NUL inside a PLAIN field"));
        }
        // RFC 4616 section 2: the server prepares the authcid and the
        // authzid and fails one that does not prepare or prepares to
        // nothing; refused here, before anything is sent.
        prepared_name(&creds.username, "PLAIN user name fails SASLprep")?;
        if !authzid.is_empty() {
            prepared_name(authzid, "PLAIN authzid fails SASLprep")?;
        }
        usable_password(creds.password()?.expose(), "PLAIN password fails SASLprep")?;
        Ok(guard)
    }
}

/// The number of NULs in `bytes`, eight octets at a time.
fn count_nuls(bytes: &[u8]) -> u64 {
    let mut count = 0;
    saslprep::all_words(bytes, |_, word, new| {
        // One bit per NUL, at the top of its octet: the multiplication adds
        // the eight octets up into the top one (at most 8, no overflow).
        count += ((saslprep::nul(word) & new) >> 7).wrapping_mul(saslprep::ONES) >> 56;
        true
    });
    count
}

impl ClientSteps for PlainClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(Some(Secret::new(self.message.as_slice().to_vec())))
    }

    fn repeats_initial(&self) -> bool {
        true
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        Err(SaslError::Malformed(
            "PLAIN expects no challenge after its message",
        ))
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        no_success_data(success_data)
    }
}

#[derive(Debug, Default)]
pub(crate) struct PlainServer;

/// Splits and checks a PLAIN message (RFC 4616 section 2 ABNF).
/// The password is borrowed: the one copy the store is shown is made by
/// [`check_password`], after SASLprep.
///
/// NUL is a one-octet character in UTF-8 and never part of a longer
/// sequence, so the message is UTF-8 exactly when each of its three fields
/// is: one check covers them all, and the fields are cut from the checked
/// string. Only a message that fails it is checked field by field, to say
/// which field is at fault.
fn parse(msg: &[u8]) -> Result<(&str, &str, &str), SaslError> {
    let Some(first) = msg.iter().position(|b| *b == 0) else {
        return Err(SaslError::Malformed("PLAIN message needs two NUL separators"));
    };
    let Some(second) = msg
        .get(first + 1..)
        .and_then(|rest| rest.iter().position(|b| *b == 0))
        .map(|at| first + 1 + at)
    else {
        return Err(SaslError::Malformed("PLAIN message needs two NUL separators"));
    };
    if msg.get(second + 1..).is_some_and(|passwd| passwd.contains(&0)) {
        return Err(SaslError::Malformed(
            "PLAIN message has more than two NUL separators",
        ));
    }
    if second == first + 1 || second + 1 == msg.len() {
        return Err(SaslError::Malformed(
            "PLAIN authcid and password must not be empty",
        ));
    }
    let Ok(text) = std::str::from_utf8(msg) else {
        return Err(not_utf8(msg, first, second));
    };
    // Both separators are one-octet characters, so every cut below is on a
    // character boundary and `get` cannot miss.
    match (
        text.get(..first),
        text.get(first + 1..second),
        text.get(second + 1..),
    ) {
        (Some(authzid), Some(authcid), Some(passwd)) => Ok((authzid, authcid, passwd)),
        _ => Err(not_utf8(msg, first, second)),
    }
}

/// The fast path of [`parse`] and [`check_password`] together, for the
/// common message: printable ASCII (0x20..=0x7E) apart from exactly two NUL
/// separators, with a non-empty authcid and password. One pass over the
/// message, eight octets at a time, finds the separators and any other
/// octet; such fields are UTF-8, and SASLprep leaves them as they are
/// ([`saslprep::not_printable`] says why), so they are the prepared
/// authzid, authcid and password, and need no second look.
///
/// `None` for every other message, which [`parse`] and [`check_password`]
/// then take the general way, with the same outcome: the tests compare the
/// two on all kinds of messages.
fn parse_printable(msg: &[u8]) -> Option<(&str, &str, &str)> {
    let mut nuls = [0usize; 2];
    let mut count = 0;
    let scanned = saslprep::all_words(msg, |at, word, new| {
        let mut nul = saslprep::nul(word) & new;
        if saslprep::not_printable(word) & new & !nul != 0 {
            return false;
        }
        while nul != 0 {
            // A third NUL has no slot: not this path.
            let Some(slot) = nuls.get_mut(count) else {
                return false;
            };
            *slot = at + (nul.trailing_zeros() / 8) as usize;
            count += 1;
            nul &= nul - 1;
        }
        true
    });
    let [first, second] = nuls;
    if !scanned || count != 2 || second == first + 1 || second + 1 == msg.len() {
        return None;
    }
    // Printable ASCII and NUL: this cannot fail, but it is the safe way to a `str`.
    let text = std::str::from_utf8(msg).ok()?;
    Some((
        text.get(..first)?,
        text.get(first + 1..second)?,
        text.get(second + 1..)?,
    ))
}

/// The error for a PLAIN message that is not UTF-8, naming the first field
/// at fault (`first` and `second` are the separators' offsets).
#[cold]
fn not_utf8(msg: &[u8], first: usize, second: usize) -> SaslError {
    let field =
        |range: std::ops::Range<usize>| msg.get(range).is_none_or(|f| std::str::from_utf8(f).is_err());
    SaslError::Malformed(if field(0..first) {
        "PLAIN authzid is not UTF-8"
    } else if field(first + 1..second) {
        "PLAIN authcid is not UTF-8"
    } else {
        "PLAIN password is not UTF-8"
    })
}

/// Checks a user name and password the way PLAIN and LOGIN do: SASLprep both,
/// then ask the store. RFC 4616 section 2: "if preparation fails or results in
/// an empty string, verification SHALL fail", so an empty prepared name or
/// password never reaches the store (where an empty password may mean an
/// unauthenticated directory bind that "succeeds").
///
/// Both are queries ([`saslprep::Profile::Query`], RFC 4616 section 4). The
/// password is copied once: SASLprep borrows ASCII input, and a prepared
/// non-ASCII password is moved, not copied, into the [`Secret`] the store
/// sees. That buffer, sized for the user name too, then serves again: once
/// the store has answered it is wiped (every octet the password held is
/// zeroed) and takes the prepared user name, which is returned for the
/// [`Identity`](crate::Identity). One allocation serves both, and the
/// password is wiped all the same.
pub(crate) fn check_password(
    store: &dyn CredentialStore,
    authcid: &str,
    password: &str,
) -> Result<String, SaslError> {
    let user = saslprep::prepare_name(authcid).ok_or(SaslError::AuthenticationFailed)?;
    let prepped = saslprep::saslprep(password).map_err(|_| SaslError::AuthenticationFailed)?;
    if prepped.is_empty() {
        return Err(SaslError::AuthenticationFailed);
    }
    verify_prepared(store, &user, prepped)
}

/// The second half of [`check_password`]: asks the store about a prepared,
/// non-empty user name and password, and returns the user name in the
/// buffer that held the password, wiped in between.
#[inline]
fn verify_prepared(
    store: &dyn CredentialStore,
    user: &str,
    prepped: Cow<'_, str>,
) -> Result<String, SaslError> {
    let mut secret = Secret::new(match prepped {
        Cow::Owned(p) => p,
        Cow::Borrowed(p) => {
            let mut buf = String::with_capacity(p.len().max(user.len()));
            buf.push_str(p);
            buf
        }
    });
    if !store.verify_password(user, &secret)? {
        return Err(SaslError::AuthenticationFailed);
    }
    // Zero all of the buffer's capacity (where the password was) and empty
    // it, so that what the user name is written over holds no trace of the
    // password.
    let buf = secret.expose_mut();
    buf.wipe();
    buf.push_str(user);
    Ok(secret.into_inner())
}

impl ServerSteps for PlainServer {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    #[inline]
    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.step(msg, store),
        }
    }

    #[inline]
    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let (authzid, user) = match parse_printable(response) {
            Some((authzid, authcid, passwd)) => {
                (authzid, verify_prepared(store, authcid, Cow::Borrowed(passwd))?)
            }
            None => {
                let (authzid, authcid, passwd) = parse(response)?;
                (authzid, check_password(store, authcid, passwd)?)
            }
        };
        let identity = authorized(store, user, Some(authzid))?;
        Ok(ServerStep::Success {
            identity,
            additional_data: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use proptest::prelude::*;

    use super::*;
    use crate::Identity;

    /// Accepts the password "pw" (and its prepared forms) for any user, and
    /// remembers what it was shown.
    #[derive(Default)]
    struct Store {
        shown: RefCell<Vec<(String, String)>>,
    }

    impl CredentialStore for Store {
        fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, SaslError> {
            self.shown
                .borrow_mut()
                .push((authcid.to_owned(), password.expose().clone()));
            Ok(password.expose() == "pw" || authcid.len() == 3)
        }
        fn authorize(&self, authcid: &str, authzid: &str) -> bool {
            authzid.len() != authcid.len()
        }
    }

    /// The general path alone: parse, SASLprep both, ask the store, authorize.
    fn general(msg: &[u8], store: &Store) -> Result<Identity, SaslError> {
        let (authzid, authcid, passwd) = parse(msg)?;
        let user = check_password(store, authcid, passwd)?;
        authorized(store, user, Some(authzid))
    }

    fn served(msg: &[u8], store: &Store) -> Result<Identity, SaslError> {
        match PlainServer.step(msg, store)? {
            ServerStep::Success { identity, .. } => Ok(identity),
            ServerStep::Challenge(_) => Err(SaslError::WrongState("a challenge")),
        }
    }

    /// A field of octets where the paths differ: printable ASCII (most),
    /// space, NUL, other ASCII controls and DEL, UTF-8 of non-ASCII spaces,
    /// characters mapped to nothing, compatibility characters, prohibited
    /// and right-to-left ones, and octets that are not UTF-8.
    fn field() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            24 => (0x20u8..=0x7E).prop_map(|b| vec![b]),
            1 => Just(vec![b' ']),
            1 => Just(vec![0]),
            1 => prop::sample::select(vec![1u8, 9, 0x0A, 0x0D, 0x1F, 0x7F]).prop_map(|b| vec![b]),
            1 => prop::sample::select(vec!['\u{A0}', '\u{3000}', '\u{AD}', '\u{200B}', '\u{FEFF}', '\u{AA}', '\u{2168}', '\u{FF21}', '\u{301}', '\u{85}', '\u{E000}', '\u{202E}', '\u{5D0}', '\u{627}', '\u{221}'])
                .prop_map(|c| c.to_string().into_bytes()),
            1 => prop::sample::select(vec![0x80u8, 0xC3, 0xE2, 0xFF]).prop_map(|b| vec![b]),
        ];
        prop::collection::vec(piece, 0..10).prop_map(|v| v.concat())
    }

    #[test]
    fn fast_path_takes_the_plain_messages() {
        for msg in [
            &b"\0user\0pencil"[..],
            b"u\0u\0p",
            b"admin\0user 1\0a long pass phrase!~",
        ] {
            assert!(parse_printable(msg).is_some(), "{msg:?}");
        }
        for msg in [
            &b"user\0pencil"[..],
            b"\0\0pencil",
            b"\0user\0",
            b"\0user\0pen\0cil",
            b"\0us\ter\0pencil",
            b"\0user\0pen\x7Fcil",
            b"\0user\0p\xC3\xA4ss",
            b"\0user\0p\xFFss",
            b"",
        ] {
            assert!(parse_printable(msg).is_none(), "{msg:?}");
        }
    }

    /// RFC 4616 section 2: NUL separates the fields, so none may hold one;
    /// checked on the fields before the message is built, inline or on the heap.
    #[test]
    fn client_refuses_nul_in_any_field() {
        let long = "x".repeat(INLINE);
        for (user, password, authzid) in [
            ("u\0", "p", None),
            ("u", "\0p", None),
            ("u", "p", Some("\0")),
            ("u", "p", Some("a\0b")),
            (long.as_str(), "p\0", None),
            ("u", long.as_str(), Some("z\0")),
        ] {
            let mut creds = Credentials::with_password(user, password);
            creds.authzid = authzid.map(str::to_owned);
            assert!(
                matches!(
                    crate::client(Mechanism::Plain, &creds),
                    Err(SaslError::InvalidCredentials("NUL inside a PLAIN field"))
                ),
                "{user:?} {authzid:?}"
            );
        }
        let mut creds = Credentials::with_password(long.as_str(), long.as_str());
        creds.authzid = Some("z".into());
        let mut c = crate::client(Mechanism::Plain, &creds).expect("long fields");
        let ir = c.initial_response().expect("ir").expect("PLAIN has one");
        assert_eq!(ir.expose(), format!("z\0{long}\0{long}").as_bytes());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The one-pass fast path and the general path agree on every
        /// message: the same identity or the same error, and the store is
        /// shown the same user name and password.
        #[test]
        fn fast_path_is_the_general_path(z in field(), c in field(), p in field(), seps in prop_oneof![6 => Just(2usize), 1 => Just(1), 1 => Just(3)]) {
            // Mostly two separators; sometimes one, or a third at the end.
            let mut msg = z;
            for (i, part) in [c, p].into_iter().enumerate() {
                if i < seps.min(2) {
                    msg.push(0);
                }
                msg.extend(part);
            }
            if seps == 3 {
                msg.push(0);
            }
            let (a, b) = (Store::default(), Store::default());
            prop_assert_eq!(served(&msg, &a), general(&msg, &b));
            prop_assert_eq!(a.shown.take(), b.shown.take());
            if let Some((authzid, authcid, passwd)) = parse_printable(&msg) {
                prop_assert_eq!(parse(&msg), Ok((authzid, authcid, passwd)));
                for f in [authzid, authcid, passwd] {
                    prop_assert!(matches!(saslprep::saslprep(f), Ok(Cow::Borrowed(g)) if g == f));
                }
                prop_assert!(!authcid.is_empty() && !passwd.is_empty());
            }
        }
    }
}
