//! ftpd: an FTP server on ftp-proto's sans-IO `ServerSession`.
//!
//! `cargo run --release -p examples --bin ftpd` serves `./ftproot` on
//! 127.0.0.1:2121 with a demo account it prints. Every command ftp-proto
//! knows is carried out on the file tree (`examples::ftpfs`, which keeps every
//! path inside the root, symlinks included, and writes uploads under a
//! temporary name renamed on completion). Passive and active data
//! connections, IPv4 and IPv6; explicit (AUTH TLS) and implicit FTPS with the
//! data connection resuming the control connection's TLS session.

mod control;
mod data;
mod listing;
mod users;

use clap::Parser;
use control::Shared;
use examples::ftpfs::FileTree;
use ftp_proto::server::TlsPolicy;
use ftp_proto::{Limits, ServerConfig};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use users::{User, Users};

/// An FTP server (RFC 959 with the FTPS, IPv6, MLSx, SIZE/MDTM/REST extensions).
#[derive(Parser, Debug)]
#[command(name = "ftpd", version)]
struct Args {
    /// Directory served as `/` (created if missing).
    #[arg(long, default_value = "ftproot")]
    root: PathBuf,
    /// Control-connection address to listen on; repeat for more (e.g. `[::1]:2121`).
    /// Port 0 lets the system choose; the address bound is printed.
    #[arg(long = "listen", default_value = "127.0.0.1:2121")]
    listen: Vec<SocketAddr>,
    /// Implicit FTPS listener (TLS from the first byte, like port 990); repeatable.
    #[arg(long = "implicit-listen")]
    implicit_listen: Vec<SocketAddr>,
    /// An account `NAME:PASSWORD[:rw|ro]` (read-write unless `:ro`); repeatable.
    /// Without any, a demo account with a fresh password is created and
    /// printed: read-write, or read-only when a probe file cannot be
    /// created in the root.
    #[arg(long = "user", value_name = "NAME:PASSWORD[:rw|ro]")]
    users: Vec<String>,
    /// Allow read-only anonymous logins (`anonymous` or `ftp`, any password).
    #[arg(long)]
    anonymous: bool,
    /// Passive data ports `LOW-HIGH`; `0` lets the system choose.
    #[arg(long, default_value = "0", value_parser = parse_range)]
    passive_ports: RangeInclusive<u16>,
    /// Source port of active-mode data connections (`0`: any). Default: the
    /// control port minus one (the classic port 20 rule).
    #[arg(long)]
    active_port: Option<u16>,
    /// PEM certificate chain for TLS (with --key).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key for TLS (with --cert).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Where the self-signed certificate is kept when --cert is not given.
    #[arg(long, default_value = "ftpd-tls")]
    tls_dir: PathBuf,
    /// Offer no TLS at all (AUTH TLS is refused).
    #[arg(long, conflicts_with_all = ["require_tls", "implicit_listen"])]
    no_tls: bool,
    /// Require AUTH TLS before login and PROT P for data; data connections
    /// must also resume the control connection's TLS session.
    #[arg(long)]
    require_tls: bool,
    /// Idle seconds before a control connection is closed with 421, at
    /// least 1.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds a data connection may stall (connect, each read or write),
    /// at least 1.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    transfer_timeout: u64,
    /// Most simultaneous control connections, at least 1; more get 421.
    #[arg(long, default_value_t = 64, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_sessions: usize,
    /// Milliseconds before a 530 after a failed login.
    #[arg(long, default_value_t = 1000)]
    login_delay_ms: u64,
    /// Failed logins after which the connection is closed, at least 1.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    max_login_failures: u32,
    /// fsync each upload before renaming it over the real name, with write-back
    /// started every 32 MiB during the transfer. On by default so that a 226
    /// reply means the file survives a crash, and a crash can never leave a
    /// truncated file under the real name; `false` trades that for speed
    /// (uploads stay in the page cache, as with vsftpd, which never fsyncs).
    /// The same setting fsyncs the directory that MKD, RMD, DELE or RNTO
    /// changed (both of a rename across directories) before the success reply.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "true|false")]
    fsync_uploads: bool,
    /// Named leniency: take a protected (PROT P) upload whose data
    /// connection ends without a TLS close_notify as complete. Off by
    /// default: such an end may be a truncation by an attacker (RFC 4217
    /// 12.6, RFC 8446 6.1), so the upload fails with 426 and nothing is
    /// renamed into place. For clients that never send close_notify on
    /// data connections; this lets their uploads through, at that risk
    /// (vsftpd's `strict_ssl_read_eof=NO`).
    #[arg(long)]
    accept_tls_upload_eof: bool,
    /// Longest command line in bytes (CRLF included), at least 64; longer
    /// ones get 500.
    #[arg(long, default_value_t = 4096, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(64..))]
    max_line: usize,
}

fn parse_range(s: &str) -> Result<RangeInclusive<u16>, String> {
    if s == "0" {
        return Ok(0..=0);
    }
    let (lo, hi) = s.split_once('-').ok_or("expected LOW-HIGH or 0")?;
    let lo: u16 = lo.trim().parse().map_err(|e| format!("{e}"))?;
    let hi: u16 = hi.trim().parse().map_err(|e| format!("{e}"))?;
    if lo == 0 || lo > hi {
        return Err("need 0 < LOW <= HIGH".into());
    }
    Ok(lo..=hi)
}

/// The TLS acceptors for control and for data connections. Resumption uses
/// stateless tickets (and several per handshake): FTP clients resume the
/// control connection's session on every data connection, and some
/// (Python's ftplib with `session=`, lftp's ftp:ssl-copy-sid) offer the same
/// ticket each time, which rustls's default stateful cache accepts only once.
/// The ticket carries the control connection's token, so a data connection
/// can still be tied to its own control connection.
///
/// Data connections share the ticket key (they resume the control
/// connection's tickets) but are sent no tickets of their own: a client
/// never reads from an upload's data connection, and closing a socket with
/// unread data (the tickets) makes the kernel answer with a reset, which can
/// reach ftpd before the last of the upload and fail it (curl's FTPS
/// uploads of a few hundred KiB did).
fn acceptors(
    id: examples::tls::Identity,
) -> Result<(tokio_rustls::TlsAcceptor, tokio_rustls::TlsAcceptor), String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(id.certs, id.key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| format!("TLS tickets: {e}"))?;
    config.send_tls13_tickets = 4;
    let mut data = config.clone();
    data.send_tls13_tickets = 0;
    Ok((
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(data)),
    ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    examples::init_logging("info");
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ftpd: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let tree = FileTree::new(&args.root)
        .map_err(|e| format!("root {}: {e}", args.root.display()))?
        .with_durable_uploads(args.fsync_uploads);
    let mut list = Vec::new();
    for spec in &args.users {
        list.push(users::parse_user(spec)?);
    }
    // Said at start rather than learnt from the first failed upload: a
    // root that cannot be written makes the demo account read-only (its
    // uploads get 550 at once), and read-write accounts are warned about.
    let writable = tree
        .probe_writable()
        .map_err(|e| format!("{} cannot be written: {e}", tree.root().display()));
    if list.is_empty() {
        let password = users::demo_password();
        let mode = match &writable {
            Ok(()) => "read-write".to_owned(),
            Err(why) => format!("read-only: {why}"),
        };
        println!("ftpd: demo account: user demo, password {password} ({mode})");
        list.push(User {
            name: "demo".into(),
            password,
            writable: writable.is_ok(),
        });
    } else if let Err(why) = &writable
        && list.iter().any(|u| u.writable)
    {
        tracing::warn!("{why}: uploads of read-write accounts will fail");
    }
    let (acceptor, data_acceptor) = if args.no_tls {
        (None, None)
    } else {
        let id = match (&args.cert, &args.key) {
            (Some(c), Some(k)) => examples::tls::load_pem(c, k),
            _ => examples::tls::load_or_create_self_signed(
                &args.tls_dir,
                &["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()],
            ),
        }
        .map_err(|e| format!("TLS certificate: {e}"))?;
        let (control, data) = acceptors(id)?;
        (Some(control), Some(data))
    };
    let limits = Limits {
        line: args.max_line,
        idle_timeout: Duration::from_secs(args.idle_timeout),
        failed_login_delay: Duration::from_millis(args.login_delay_ms),
        failed_login_limit: args.max_login_failures,
        ..Limits::default()
    };
    let config = ServerConfig {
        limits,
        greeting: b"ftpd (ftp-proto) ready".to_vec(),
        allow_anonymous: args.anonymous,
        tls: if args.no_tls {
            TlsPolicy::Unavailable
        } else if args.require_tls {
            TlsPolicy::Required
        } else {
            TlsPolicy::Optional
        },
        ..ServerConfig::default()
    };
    let first_port = args.listen.first().map_or(2121, SocketAddr::port);
    let shared = Arc::new(Shared {
        tree,
        users: Users::new(list, args.anonymous),
        acceptor,
        data_acceptor,
        config,
        passive_ports: args.passive_ports.clone(),
        active_port: args.active_port.unwrap_or(first_port.saturating_sub(1)),
        transfer_timeout: Duration::from_secs(args.transfer_timeout),
        require_tls_reuse: args.require_tls,
        accept_tls_upload_eof: args.accept_tls_upload_eof,
    });
    let limit = Arc::new(Semaphore::new(args.max_sessions));
    let (mut int, mut term) = examples::stop_signals().map_err(|e| format!("signal: {e}"))?;
    let mut tasks = tokio::task::JoinSet::new();
    for (addrs, implicit) in [(&args.listen, false), (&args.implicit_listen, true)] {
        for addr in addrs {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("listen {addr}: {e}"))?;
            // The bound address: with port 0 the system chose the port.
            let local = l.local_addr().map_err(|e| format!("listen {addr}: {e}"))?;
            println!(
                "ftpd: serving {} on {local}{}",
                shared.tree.root().display(),
                if implicit { " (implicit TLS)" } else { "" }
            );
            tasks.spawn(accept_loop(l, shared.clone(), limit.clone(), implicit));
        }
    }
    tokio::select! {
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        Some(r) = tasks.join_next() => return Err(format!("listener stopped: {r:?}")),
    }
    tasks.shutdown().await;
    Ok(())
}

async fn accept_loop(l: TcpListener, shared: Arc<Shared>, limit: Arc<Semaphore>, implicit: bool) {
    loop {
        let (tcp, peer) = match l.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "session limit reached");
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut tcp = tcp;
                if !implicit {
                    let _ = tcp
                        .write_all(b"421 Too many connections, try again later\r\n")
                        .await;
                }
                let _ = tcp.shutdown().await;
            });
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            tracing::debug!(%peer, "connection");
            if let Err(e) = control::serve(tcp, peer, shared, implicit).await {
                tracing::info!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_range("0").unwrap(), 0..=0);
        assert_eq!(parse_range("50000-50010").unwrap(), 50000..=50010);
        assert!(parse_range("10-5").is_err());
        assert!(parse_range("0-5").is_err());
        assert!(parse_range("x").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
        let a = Args::try_parse_from(["ftpd", "--user", "a:b:ro", "--passive-ports", "40000-40100"]).unwrap();
        assert_eq!(a.listen, vec!["127.0.0.1:2121".parse::<SocketAddr>().unwrap()]);
        assert_eq!(a.passive_ports, 40000..=40100);
        assert!(a.fsync_uploads, "durable uploads by default");
        let a = Args::try_parse_from(["ftpd", "--fsync-uploads", "false"]).unwrap();
        assert!(!a.fsync_uploads);
    }
}
