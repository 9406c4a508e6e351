//! The mechanisms, one module each, and the call-order guard shared by clients.

pub(crate) mod anonymous;
pub(crate) mod cram_md5;
pub(crate) mod external;
pub(crate) mod login;
pub(crate) mod oauth;
pub(crate) mod plain;
pub(crate) mod scram;

use crate::client::ClientMechanism;
use crate::{Limits, Mechanism, SaslError, Secret};

/// The per-mechanism part of a client; [`ClientGuard`] adds the length limit,
/// the call-order checks and the "empty challenge asks for the initial
/// response" rule (RFC 4422 section 5) common to all.
pub(crate) trait ClientSteps: Send + std::fmt::Debug {
    fn mechanism(&self) -> Mechanism;
    /// Called once, first; again only if [`repeats_initial`](Self::repeats_initial).
    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError>;
    /// True if [`initial`](Self::initial) may be called again, before any
    /// challenge, and gives the same message: the mechanism keeps it, so the
    /// guard keeps no copy of its own for a re-send.
    fn repeats_initial(&self) -> bool {
        false
    }
    /// Called after `initial`, for each challenge.
    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError>;
    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError>;
    fn server_error(&self) -> Option<&str> {
        None
    }
}

#[derive(Debug)]
enum ClientState {
    New,
    /// The initial response was produced; kept in case the protocol could not
    /// send it and the server asks for it with an empty challenge.
    AfterInitial(Option<Secret<Vec<u8>>>),
    /// The initial response was produced, and the mechanism can produce it
    /// again ([`ClientSteps::repeats_initial`]).
    AfterRepeatableInitial,
    Running,
    Done,
}

#[derive(Debug)]
pub(crate) struct ClientGuard<M> {
    inner: M,
    limits: Limits,
    state: ClientState,
}

impl<M: ClientSteps + 'static> ClientGuard<M> {
    pub(crate) fn boxed(inner: M, limits: Limits) -> Box<dyn ClientMechanism> {
        Self::new_boxed(inner, limits)
    }

    /// [`boxed`](Self::boxed) with the concrete type, for a mechanism that
    /// writes its secret into the box afterwards (in place, so that no copy
    /// is left on the stack).
    pub(crate) fn new_boxed(inner: M, limits: Limits) -> Box<Self> {
        Box::new(ClientGuard {
            inner,
            limits,
            state: ClientState::New,
        })
    }
}

impl<M> ClientGuard<M> {
    fn fail<T>(&mut self, e: SaslError) -> Result<T, SaslError> {
        self.state = ClientState::Done;
        Err(e)
    }
}

impl<M: ClientSteps> ClientMechanism for ClientGuard<M> {
    fn mechanism(&self) -> Mechanism {
        self.inner.mechanism()
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        if !matches!(self.state, ClientState::New) {
            return Err(SaslError::WrongState(
                "initial_response must be called once, first",
            ));
        }
        match self.inner.initial() {
            Ok(ir) => {
                self.state = if ir.is_some() && self.inner.repeats_initial() {
                    ClientState::AfterRepeatableInitial
                } else {
                    ClientState::AfterInitial(ir.clone())
                };
                Ok(ir)
            }
            Err(e) => self.fail(e),
        }
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        if let Err(e) = self.limits.check_len(challenge) {
            return self.fail(e);
        }
        match std::mem::replace(&mut self.state, ClientState::Running) {
            ClientState::Done => {
                self.state = ClientState::Done;
                return Err(SaslError::WrongState("the exchange is over"));
            }
            ClientState::New => match self.inner.initial() {
                // The protocol did not ask for an initial response: the server's
                // empty challenge asks for it now.
                Ok(Some(ir)) if challenge.is_empty() => return Ok(ir),
                Ok(Some(_)) => {
                    return self.fail(SaslError::Malformed(
                        "non-empty first challenge for a client-first mechanism",
                    ));
                }
                Ok(None) => {}
                Err(e) => return self.fail(e),
            },
            ClientState::AfterInitial(Some(ir)) if challenge.is_empty() => return Ok(ir),
            ClientState::AfterRepeatableInitial if challenge.is_empty() => match self.inner.initial() {
                Ok(Some(ir)) => return Ok(ir),
                Ok(None) => {}
                Err(e) => return self.fail(e),
            },
            ClientState::AfterInitial(_) | ClientState::AfterRepeatableInitial | ClientState::Running => {}
        }
        match self.inner.respond(challenge) {
            Ok(r) => Ok(r),
            Err(e) => self.fail(e),
        }
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        if let Some(data) = success_data
            && let Err(e) = self.limits.check_len(data)
        {
            return self.fail(e);
        }
        match std::mem::replace(&mut self.state, ClientState::Done) {
            ClientState::New => Err(SaslError::WrongState("finish before the exchange started")),
            ClientState::Done => Err(SaslError::WrongState("the exchange is over")),
            ClientState::AfterInitial(_) | ClientState::AfterRepeatableInitial | ClientState::Running => {
                self.inner.finish(success_data)
            }
        }
    }

    fn server_error(&self) -> Option<&str> {
        self.inner.server_error()
    }
}

/// Decodes a field the RFC defines as UTF-8.
pub(crate) fn utf8<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, SaslError> {
    std::str::from_utf8(bytes).map_err(|_| SaslError::Malformed(what))
}

/// Success data must be absent or empty for mechanisms that have none.
pub(crate) fn no_success_data(data: Option<&[u8]>) -> Result<(), SaslError> {
    match data {
        Some(d) if !d.is_empty() => Err(SaslError::Malformed("unexpected additional data with success")),
        _ => Ok(()),
    }
}

/// Random octets from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], SaslError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| SaslError::Random)?;
    Ok(buf)
}
