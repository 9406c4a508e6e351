//! SASL exchanges, client against server in memory: this workspace's `sasl`
//! next to the xmpp-rs `sasl` crate (renamed `peer_sasl`), which has both sides
//! on the same RustCrypto primitives.
//!
//! * SCRAM-SHA-256 with 4096 iterations: a realistic login, dominated by the
//!   client's PBKDF2 (same `pbkdf2` crate on both sides).
//! * SCRAM-SHA-256 with 1 iteration: the message building, parsing and HMAC
//!   work around PBKDF2.
//! * PLAIN: building and checking one message.

use benches::report_ratio;
use criterion::{Criterion, criterion_group, criterion_main};
use peer_sasl::client::Mechanism as _;
use peer_sasl::server::Mechanism as _;
use sasl::{
    ClientOptions, CredentialStore, Credentials, Limits, Mechanism, ScramHash, ScramKeys, Secret,
    ServerOptions, ServerStep,
};

const USER: &str = "user";
const PASSWORD: &str = "pencil";
const SALT: &[u8] = b"0123456789abcdef";

struct OurStore {
    keys: ScramKeys,
}

impl CredentialStore for OurStore {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, sasl::SaslError> {
        Ok(authcid == USER && proto_core::ct_eq(password.expose().as_bytes(), PASSWORD.as_bytes()))
    }
    fn scram_keys(&self, _hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        (authcid == USER).then(|| self.keys.clone())
    }
}

/// One full exchange with our crate; returns the authenticated user's name length.
fn ours(mech: Mechanism, store: &OurStore) -> usize {
    let creds = Credentials::with_password(USER, PASSWORD);
    let copts = ClientOptions {
        limits: Limits {
            scram_min_iterations: 1,
            ..Limits::default()
        },
        ..ClientOptions::default()
    };
    let mut c = sasl::client_with(mech, &creds, &copts).expect("client");
    let mut s = sasl::server(mech, &ServerOptions::default()).expect("server");
    let ir = c.initial_response().expect("ir");
    let mut step = s
        .start(ir.as_ref().map(|m| &m.expose()[..]), store)
        .expect("start");
    loop {
        match step {
            ServerStep::Challenge(ch) => {
                let answer = c.respond(&ch).expect("respond");
                step = s.step(answer.expose(), store).expect("step");
            }
            ServerStep::Success {
                identity,
                additional_data,
            } => {
                c.finish(additional_data.as_deref()).expect("verified");
                return identity.authcid.len();
            }
        }
    }
}

struct PeerStore {
    iterations: u32,
    digest: Vec<u8>,
}

impl peer_sasl::server::Validator<peer_sasl::secret::Plain> for PeerStore {
    fn validate(
        &self,
        identity: &peer_sasl::common::Identity,
        value: &peer_sasl::secret::Plain,
    ) -> Result<(), peer_sasl::server::ValidatorError> {
        let ok = matches!(identity, peer_sasl::common::Identity::Username(u) if u == USER)
            && proto_core::ct_eq(value.0.as_bytes(), PASSWORD.as_bytes());
        if ok {
            Ok(())
        } else {
            Err(peer_sasl::server::ValidatorError::AuthenticationFailed)
        }
    }
}

impl peer_sasl::server::Provider<peer_sasl::secret::Pbkdf2Sha256> for PeerStore {
    fn provide(
        &self,
        identity: &peer_sasl::common::Identity,
    ) -> Result<peer_sasl::secret::Pbkdf2Sha256, peer_sasl::server::ProviderError> {
        match identity {
            peer_sasl::common::Identity::Username(u) if u == USER => Ok(peer_sasl::secret::Pbkdf2Sha256 {
                salt: SALT.to_vec(),
                iterations: self.iterations,
                digest: self.digest.clone(),
            }),
            _ => Err(peer_sasl::server::ProviderError::AuthenticationFailed),
        }
    }
}

peer_sasl::impl_validator_using_provider!(PeerStore, peer_sasl::secret::Pbkdf2Sha256);

fn peer_scram(store: PeerStore) -> usize {
    use peer_sasl::common::ChannelBinding;
    use peer_sasl::common::scram::Sha256;
    let mut c =
        peer_sasl::client::mechanisms::Scram::<Sha256>::new(USER, PASSWORD, ChannelBinding::Unsupported)
            .expect("client");
    let mut s = peer_sasl::server::mechanisms::Scram::<Sha256, _>::new(store, ChannelBinding::Unsupported);
    let mut msg = c.initial();
    loop {
        match s.respond(&msg).expect("server") {
            peer_sasl::server::Response::Proceed(ch) => msg = c.response(&ch).expect("client"),
            peer_sasl::server::Response::Success(peer_sasl::common::Identity::Username(u), data) => {
                c.success(&data).expect("verified");
                return u.len();
            }
            peer_sasl::server::Response::Success(..) => return 0,
        }
    }
}

fn peer_plain(store: PeerStore) -> usize {
    let creds = peer_sasl::common::Credentials::default()
        .with_username(USER)
        .with_password(PASSWORD);
    let mut c = peer_sasl::client::mechanisms::Plain::from_credentials(creds).expect("client");
    let mut s = peer_sasl::server::mechanisms::Plain::new(store);
    match s.respond(&c.initial()).expect("server") {
        peer_sasl::server::Response::Success(peer_sasl::common::Identity::Username(u), _) => u.len(),
        _ => 0,
    }
}

fn stores(iterations: u32) -> (OurStore, PeerStore) {
    let keys = ScramKeys::derive(ScramHash::Sha256, PASSWORD, SALT, iterations).expect("keys");
    let digest = peer_sasl::secret::Pbkdf2Sha256::derive(PASSWORD, SALT, iterations)
        .expect("derive")
        .digest;
    (OurStore { keys }, PeerStore { iterations, digest })
}

fn bench(c: &mut Criterion) {
    for (name, mech, iterations, rounds) in [
        ("sasl_scram_sha256_i4096", Mechanism::ScramSha256, 4096, 31),
        ("sasl_scram_sha256_i1", Mechanism::ScramSha256, 1, 2001),
        ("sasl_plain", Mechanism::Plain, 1, 20001),
    ] {
        let (our_store, _) = stores(iterations);
        let peer = |s: PeerStore| {
            if mech == Mechanism::Plain {
                peer_plain(s)
            } else {
                peer_scram(s)
            }
        };
        let mut g = c.benchmark_group(name);
        g.sample_size(20);
        g.bench_function("sasl (ours)", |b| b.iter(|| ours(mech, &our_store)));
        g.bench_function("peer_sasl 0.5", |b| {
            b.iter_batched(|| stores(iterations).1, peer, criterion::BatchSize::SmallInput);
        });
        g.finish();
        // One exchange per round; the "bytes" figure is one exchange, so the GB/s
        // columns are meaningless here: read the times and the ratio.
        report_ratio(
            name,
            1,
            rounds,
            || stores(iterations),
            |(o, _)| ours(mech, &o),
            |(_, p)| peer(p),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
