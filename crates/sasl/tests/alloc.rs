//! Heap allocations of a PLAIN exchange, measured with a counting global
//! allocator (the `allocation-counter` crate installs one in this test
//! binary and counts the allocations of the measuring thread).
//!
//! A PLAIN exchange allocates only what the API hands out or must keep:
//! the user's credentials, the client's message, the two boxed step
//! machines and one buffer on the server that first holds the prepared
//! password the store is shown (`&Secret<String>`) and then, wiped, the
//! identity's user name. The copy of the message the client keeps in case
//! the server asks for it again with an empty challenge (RFC 4422 section
//! 5) lives inside the client's box. SASLprep borrows ASCII input, so the
//! password is not copied once per step, and every copy that exists is
//! wiped.
//!
//! The SCRAM server's steps are counted too: besides what the store hands
//! over and the messages it must keep or send, they allocate nothing.
//!
//! One test only, so no other test thread runs while it measures.

use sasl::{CredentialStore, Credentials, Mechanism, Secret, ServerOptions, ServerStep};

struct Store;
impl CredentialStore for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, sasl::SaslError> {
        Ok((authcid == "user" && password.expose() == "pencil")
            || (authcid == "j\u{f6}rg" && password.expose() == "p\u{e4}ss word"))
    }
}

/// One exchange, built as `benches/benches/sasl.rs` builds it.
fn exchange(user: &str, password: &str) -> usize {
    let creds = Credentials::with_password(user, password);
    let mut c = sasl::client(Mechanism::Plain, &creds).expect("client");
    let mut s = sasl::server(Mechanism::Plain, &ServerOptions::default()).expect("server");
    let ir = c.initial_response().expect("ir").expect("PLAIN has one");
    match s.start(Some(ir.expose()), &Store).expect("start") {
        ServerStep::Success {
            identity,
            additional_data,
        } => {
            c.finish(additional_data.as_deref()).expect("finish");
            identity.authcid.len()
        }
        ServerStep::Challenge(_) => unreachable!("PLAIN succeeds at once"),
    }
}

/// The server side alone, from the client's message.
fn serve(msg: &[u8]) -> usize {
    let mut s = sasl::server(Mechanism::Plain, &ServerOptions::default()).expect("server");
    match s.start(Some(msg), &Store).expect("start") {
        ServerStep::Success { identity, .. } => identity.authcid.len(),
        ServerStep::Challenge(_) => unreachable!("PLAIN succeeds at once"),
    }
}

#[test]
fn plain_exchange_allocations_are_bounded() {
    // Sanity: the counter is live in this binary (a vacuous zero would prove nothing).
    let probe = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert_eq!(probe.count_total, 1, "the counting allocator is not installed");
    // Warm-up (one-time initialisation, if any).
    assert_eq!(exchange("user", "pencil"), 4);

    // The whole exchange as the bench runs it: credentials (2), the client
    // message (1; the copy kept for a re-send is in the client's box), the
    // two boxes (2), the buffer that holds the prepared password for the
    // store and then the identity's user name (1).
    let mut n = 0;
    let info = allocation_counter::measure(|| n = exchange("user", "pencil"));
    assert_eq!(n, 4);
    assert!(
        info.count_total <= 6,
        "a PLAIN exchange allocated {} times ({} bytes)",
        info.count_total,
        info.bytes_total
    );

    // The server alone: its box, the password for the store that becomes
    // the identity's user name.
    let info = allocation_counter::measure(|| n = serve(b"\0user\0pencil"));
    assert_eq!(n, 4);
    assert!(
        info.count_total <= 2,
        "the PLAIN server allocated {} times ({} bytes)",
        info.count_total,
        info.bytes_total
    );
    // With an authzid equal to the user name: nothing more.
    let info = allocation_counter::measure(|| n = serve(b"user\0user\0pencil"));
    assert!(info.count_total <= 2, "{} allocations", info.count_total);

    // Non-ASCII: SASLprep builds the prepared strings (the user name's and the
    // password's, whose non-breaking space maps to a space) in one buffer each,
    // sized in advance, so no grown-out-of buffer with password bytes is left
    // behind unwiped; the password's then takes the user name.
    let info = allocation_counter::measure(|| n = serve("\0j\u{f6}rg\0p\u{e4}ss\u{a0}word".as_bytes()));
    assert_eq!(n, "j\u{f6}rg".len());
    assert!(
        info.count_total <= 3,
        "the PLAIN server allocated {} times on non-ASCII ({} bytes)",
        info.count_total,
        info.bytes_total
    );

    // SCRAM, server side. Client-first: the user name, the store's copy of
    // the keys (salt, StoredKey, ServerKey: 3), the client-first message kept
    // for AuthMessage, the server-first message and the challenge handed out.
    // Client-final: the server-final message only; HMACs and hashes are on
    // the stack and AuthMessage is fed to HMAC in parts.
    scram_server_allocations();
    let (first, last) = scram_server_allocations();
    assert!(first <= 7, "SCRAM client-first allocated {first} times");
    assert!(last <= 1, "SCRAM client-final allocated {last} times");
}

/// The SCRAM-SHA-256 server's allocations: (client-first, client-final).
fn scram_server_allocations() -> (u64, u64) {
    use sasl::{ClientOptions, Limits, ScramHash, ScramKeys};
    struct Keys(ScramKeys);
    impl CredentialStore for Keys {
        fn scram_keys(&self, _hash: ScramHash, user: &str) -> Option<ScramKeys> {
            (user == "user").then(|| self.0.clone())
        }
    }
    let store = Keys(ScramKeys::derive(ScramHash::Sha256, "pencil", b"saltsalt", 1).expect("keys"));
    let copts = ClientOptions {
        limits: Limits {
            scram_min_iterations: 1,
            ..Limits::default()
        },
        ..ClientOptions::default()
    };
    let creds = Credentials::with_password("user", "pencil");
    let mut c = sasl::client_with(Mechanism::ScramSha256, &creds, &copts).expect("client");
    let mut s = sasl::server(Mechanism::ScramSha256, &ServerOptions::default()).expect("server");
    let ir = c.initial_response().expect("ir").expect("SCRAM has one");
    let mut step = None;
    let first = allocation_counter::measure(|| {
        step = Some(s.start(Some(ir.expose()), &store).expect("first"));
    });
    let Some(ServerStep::Challenge(server_first)) = step.take() else {
        panic!("no server-first")
    };
    let answer = c.respond(&server_first).expect("client-final");
    let last = allocation_counter::measure(|| {
        step = Some(s.step(answer.expose(), &store).expect("final"));
    });
    let Some(ServerStep::Challenge(server_final)) = step.take() else {
        panic!("no server-final")
    };
    assert!(c.respond(&server_final).expect("verified").expose().is_empty());
    (first.count_total, last.count_total)
}
