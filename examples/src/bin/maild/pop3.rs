//! POP3 and POP3S connections: pop3-proto's `ServerSession` over a user's
//! Maildir. The maildrop is locked for the session ([IN-USE] for a second
//! one), listed at login (UIDL from the Maildir unique name, see
//! `Entry::uidls`; sizes with CRLF line ends, see `Entry::size`),
//! deleted from only on QUIT; messages retrieved and kept move to `cur/`
//! with the Seen flag. A message another Maildir reader moves meanwhile is
//! found by its unique name (`Maildir::relocate`).

use crate::Shared;
use crate::smtp::{MECHANISMS, verify_password};
use bytes::Bytes;
use examples::maildir::{Entry, Maildir, MaildropLock};
use examples::net::{Conn, Read};
use pop3_proto::{
    AuthOutcome, LoginFailure, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession,
};
use proto_core::Session;
use sasl::{Mechanism, ServerMechanism, ServerOptions, ServerStep};
use std::collections::BTreeSet;
use std::io::{self, Read as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::watch;

struct Open {
    maildir: Maildir,
    entries: Vec<Entry>,
    retrieved: BTreeSet<usize>,
    _lock: MaildropLock,
}

impl Open {
    /// Opens message `index`, where it is now: another reader may have
    /// moved it since the listing (to `cur/`, or to other flags), and the
    /// entry then follows it, for the Seen flag at QUIT.
    fn open_message(&mut self, index: usize) -> Option<std::fs::File> {
        let entry = self.entries.get_mut(index)?;
        match std::fs::File::open(&entry.path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let moved = self.maildir.relocate(entry).ok()??;
                let f = std::fs::File::open(&moved.path).ok()?;
                *entry = moved;
                Some(f)
            }
            Err(_) => None,
        }
    }
}

struct Pop {
    shared: Arc<Shared>,
    peer: SocketAddr,
    mech: Option<Box<dyn ServerMechanism>>,
    open: Option<Open>,
}

/// Serves one POP3 connection (`implicit`: TLS from the first byte).
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    implicit: bool,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::Plain(tcp);
    if implicit {
        let acceptor = shared
            .acceptor
            .as_ref()
            .ok_or_else(|| io::Error::other("no TLS configured"))?;
        tokio::time::timeout(shared.tls_timeout, conn.start_server_tls(acceptor))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    }
    let mut cfg = ServerConfig::default();
    cfg.greeting = format!("{} POP3 maild ready", shared.hostname);
    cfg.stls = shared.acceptor.is_some() && !implicit;
    cfg.tls_active = implicit;
    cfg.sasl_mechanisms = MECHANISMS.iter().map(|m| (*m).to_owned()).collect();
    cfg.failed_login_delay = shared.login_delay;
    cfg.limits = shared.pop3_limits;
    cfg.implementation = Some("maild".into());
    cfg.expire = Some("NEVER".into());
    let mut session = ServerSession::new(cfg, Instant::now());
    let mut p = Pop {
        shared,
        peer,
        mech: None,
        open: None,
    };
    let mut buf = vec![0u8; 16 * 1024];
    let mut eof = false;
    'outer: loop {
        loop {
            let ev = match session.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "pop3 session ended");
                    break 'outer;
                }
            };
            match ev {
                ServerEvent::StartTls => {
                    conn.flush_session_within(&mut session, p.shared.pop3_limits.autologout)
                        .await?;
                    let acceptor = p
                        .shared
                        .acceptor
                        .clone()
                        .ok_or_else(|| io::Error::other("no TLS configured"))?;
                    tokio::time::timeout(p.shared.tls_timeout, conn.start_server_tls(&acceptor))
                        .await
                        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
                    session
                        .tls_established()
                        .map_err(|e| io::Error::other(e.to_string()))?;
                }
                ServerEvent::Retrieve { index, top_lines, .. } => {
                    p.retrieve(&mut session, &mut conn, index, top_lines.is_none())
                        .await?;
                }
                ServerEvent::Closed(reason) => {
                    tracing::debug!(%peer, ?reason, "pop3 closed");
                }
                other => p.event(&mut session, other).await,
            }
        }
        // Commands still buffered behind a full transmit queue go on once it
        // is written, without waiting for input the client may never send.
        let blocked = session.output_blocked();
        // Bounded: a client that never reads must not hold its slot for ever.
        conn.flush_session_within(&mut session, p.shared.pop3_limits.autologout)
            .await?;
        if blocked {
            continue;
        }
        if session.is_closed() || eof {
            break;
        }
        let got = tokio::select! {
            r = conn.read_into(&mut session, &mut buf, Instant::now) => Some(r?),
            _ = shutdown.changed() => None,
        };
        match got {
            Some(Read::Eof) => eof = true,
            Some(_) => {}
            None => {
                use tokio::io::AsyncWriteExt;
                let _ = tokio::time::timeout(
                    p.shared.tls_timeout,
                    conn.write_all(b"-ERR [SYS/TEMP] server shutting down\r\n"),
                )
                .await;
                break;
            }
        }
    }
    let _ = tokio::time::timeout(
        p.shared.tls_timeout,
        tokio::io::AsyncWriteExt::shutdown(&mut conn),
    )
    .await;
    Ok(())
}

/// The login failure for stored credentials the server cannot use: a
/// temporary system problem, `-ERR [SYS/TEMP]` (RFC 3206 section 4), that
/// says no more.
fn temporary_auth_failure() -> LoginFailure {
    LoginFailure::sys_temp("temporary authentication failure")
}

impl Pop {
    async fn event(&mut self, s: &mut ServerSession, ev: ServerEvent) {
        match ev {
            ServerEvent::Login { user, password } => {
                let user = String::from_utf8_lossy(&user).into_owned();
                let pw = String::from_utf8_lossy(password.expose()).into_owned();
                let outcome = match verify_password(&self.shared, &user, &pw) {
                    Ok(Some(account)) => self.open(&account),
                    Ok(None) => {
                        tracing::info!(peer = %self.peer, %user, "pop3 login failed");
                        AuthOutcome::Failure(LoginFailure::bad_credentials())
                    }
                    Err(e) => {
                        tracing::error!(peer = %self.peer, %user, error = %e, "pop3 login impossible");
                        AuthOutcome::Failure(temporary_auth_failure())
                    }
                };
                self.finish_login(s, outcome);
            }
            ServerEvent::AuthStart {
                mechanism,
                initial_response,
            } => {
                let started = Mechanism::from_name(&mechanism)
                    .filter(|m| MECHANISMS.contains(&m.name()))
                    .and_then(|m| sasl::server(m, &ServerOptions::default()).ok());
                match started {
                    Some(mut mech) => {
                        let ir = initial_response.as_ref().map(|r| r.expose().as_slice());
                        let step = tokio::task::block_in_place(|| mech.start(ir, &self.shared.accounts));
                        self.mech = Some(mech);
                        self.auth_step(s, step);
                    }
                    None => {
                        self.finish_login(s, AuthOutcome::Failure(LoginFailure::bad_credentials()));
                    }
                }
            }
            ServerEvent::AuthResponse(r) => {
                let step = match self.mech.as_mut() {
                    Some(m) => tokio::task::block_in_place(|| m.step(r.expose(), &self.shared.accounts)),
                    None => Err(sasl::SaslError::WrongState("no exchange")),
                };
                self.auth_step(s, step);
            }
            ServerEvent::AuthCancelled => self.mech = None,
            ServerEvent::LoginFailed { failures, .. } => {
                tracing::info!(peer = %self.peer, failures, "pop3 login refused");
            }
            ServerEvent::Update { delete } => {
                let result = tokio::task::block_in_place(|| self.update(&delete));
                let _ = s.update_finish(result.map_err(|e| format!("some messages were not deleted: {e}")));
            }
            _ => {}
        }
    }

    fn auth_step(&mut self, s: &mut ServerSession, step: Result<ServerStep, sasl::SaslError>) {
        match step {
            Ok(ServerStep::Challenge(c)) => {
                let _ = s.auth_challenge(&c);
            }
            Ok(ServerStep::Success { identity, .. }) => {
                self.mech = None;
                let outcome = match self.shared.accounts.resolve(identity.effective()) {
                    Some(a) => self.open(&a),
                    None => AuthOutcome::Failure(LoginFailure::bad_credentials()),
                };
                self.finish_login(s, outcome);
            }
            Err(e @ sasl::SaslError::StoreFailure(_)) => {
                self.mech = None;
                tracing::error!(peer = %self.peer, error = %e, "pop3 authentication impossible");
                self.finish_login(s, AuthOutcome::Failure(temporary_auth_failure()));
            }
            Err(e) => {
                self.mech = None;
                tracing::info!(peer = %self.peer, error = %e, "pop3 authentication failed");
                self.finish_login(s, AuthOutcome::Failure(LoginFailure::bad_credentials()));
            }
        }
    }

    /// Ends a login attempt. A listing the session refuses (it cannot be
    /// sent as RFC 1939 says) unlocks the maildrop and fails the login with
    /// [SYS/TEMP]: the session waits for a decision, and without one the
    /// client would wait for ever with the maildrop locked.
    fn finish_login(&mut self, s: &mut ServerSession, outcome: AuthOutcome) {
        if let Err(e) = s.auth_finish(outcome) {
            tracing::error!(peer = %self.peer, error = %e, "pop3 login refused by the session");
            self.open = None;
            let _ = s.auth_finish(AuthOutcome::Failure(LoginFailure::sys_temp(
                "cannot open the maildrop",
            )));
        }
    }

    /// Locks and lists the account's maildrop.
    fn open(&mut self, account: &str) -> AuthOutcome {
        let result = (|| -> io::Result<Option<Open>> {
            let maildir = self.shared.store.maildir(account)?;
            let Some(lock) = maildir.lock()? else {
                return Ok(None);
            };
            let entries = maildir.list()?;
            Ok(Some(Open {
                maildir,
                entries,
                retrieved: BTreeSet::new(),
                _lock: lock,
            }))
        })();
        match result {
            Ok(Some(open)) => {
                let messages = open
                    .entries
                    .iter()
                    .zip(Entry::uidls(&open.entries))
                    .map(|(e, uid)| MessageInfo {
                        size: e.size,
                        uid: Bytes::from(uid),
                    })
                    .collect();
                tracing::info!(peer = %self.peer, %account, messages = open.entries.len(), "pop3 login");
                self.open = Some(open);
                AuthOutcome::Success(Maildrop { messages })
            }
            Ok(None) => AuthOutcome::Failure(LoginFailure::in_use()),
            Err(e) => {
                tracing::error!(peer = %self.peer, %account, error = %e, "opening maildrop");
                AuthOutcome::Failure(LoginFailure::sys_temp("cannot open the maildrop"))
            }
        }
    }

    /// Streams one message into the session, writing as it goes.
    async fn retrieve(
        &mut self,
        s: &mut ServerSession,
        conn: &mut Conn,
        index: usize,
        whole: bool,
    ) -> io::Result<()> {
        let Some(mut file) = self.open.as_mut().and_then(|o| o.open_message(index)) else {
            let _ = s.message_unavailable("message is gone");
            return Ok(());
        };
        let mut chunk = vec![0u8; 64 * 1024];
        let mut sent = false;
        loop {
            let n = match file.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Never end the message as if complete: before any data,
                    // -ERR [SYS/TEMP]; after some, only closing the
                    // connection tells the client the message is cut.
                    tracing::error!(peer = %self.peer, error = %e, "reading message");
                    if sent {
                        return Err(e);
                    }
                    let _ = s.message_unavailable("cannot read the message");
                    return Ok(());
                }
            };
            if n == 0 {
                break;
            }
            sent = true;
            let more = s.message_data(&chunk[..n]).unwrap_or(false);
            conn.flush_session_within(s, self.shared.pop3_limits.autologout)
                .await?;
            if !more {
                break;
            }
        }
        let _ = s.message_end();
        if whole && let Some(o) = self.open.as_mut() {
            o.retrieved.insert(index);
        }
        Ok(())
    }

    /// QUIT: delete what was marked, mark what was read as seen.
    fn update(&mut self, delete: &[u32]) -> io::Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let mut first_err = None;
        let mut gone = BTreeSet::new();
        for &n in delete {
            let i = (n as usize).saturating_sub(1);
            if let Some(e) = open.entries.get(i) {
                gone.insert(i);
                if let Err(err) = open.maildir.delete(e) {
                    first_err.get_or_insert(err);
                }
            }
        }
        for &i in &open.retrieved {
            if gone.contains(&i) {
                continue;
            }
            if let Some(e) = open.entries.get(i)
                && !e.flags.contains('S')
            {
                let flags = format!("{}S", e.flags);
                // A failure here loses only the Seen flag.
                let _ = open.maildir.set_flags(e, &flags);
            }
        }
        // The +OK says the deletions are done (RFC 1939 6): a removal is
        // durable only once its directory is fsynced, and deleted messages
        // may be in new/ as well as cur/ (where the Seen moves went too).
        for sub in ["new", "cur"] {
            let synced = std::fs::File::open(open.maildir.path().join(sub)).and_then(|d| d.sync_all());
            if let Err(err) = synced
                && !gone.is_empty()
            {
                first_err.get_or_insert(err);
            }
        }
        tracing::info!(peer = %self.peer, deleted = delete.len(), "pop3 update");
        first_err.map_or(Ok(()), Err)
    }
}
