//! Helpers shared by the session tests: what a session sends, and its events
//! as text.
#![allow(dead_code, unreachable_pub)]

use smtp_proto::checks::ServerApp;
use smtp_proto::{ClientSession, Error, ServerConfig, ServerSession};
use std::time::Instant;

/// Everything the session has to send, as text.
pub fn out_of<S: proto_core::Session>(s: &mut S) -> String {
    String::from_utf8_lossy(&proto_core::drain_transmit(s)).into_owned()
}

/// Events until none is ready, each as its `Debug` text; a fatal error ends
/// the list as `error <kind>`.
pub fn drain<E: std::fmt::Debug>(mut poll: impl FnMut() -> Result<Option<E>, Error>) -> Vec<String> {
    let mut v = Vec::new();
    loop {
        match poll() {
            Ok(Some(e)) => v.push(format!("{e:?}")),
            Ok(None) => return v,
            Err(e) => {
                v.push(format!("error {:?}", e.kind()));
                return v;
            }
        }
    }
}

/// [`drain`] for a server session.
pub fn server_events(s: &mut ServerSession) -> Vec<String> {
    drain(|| s.poll_event())
}

/// [`drain`] for a client session.
pub fn client_events(c: &mut ClientSession) -> Vec<String> {
    drain(|| c.poll_event())
}

/// A server session under `cfg` fed `turns` one after the other, each
/// followed by [`ServerApp::drive`] (which accepts every decision): what it
/// sent, and the app's log of events.
pub fn serve(cfg: ServerConfig, turns: &[&[u8]]) -> (String, Vec<String>) {
    let now = Instant::now();
    let mut s = ServerSession::new(cfg, now);
    let mut app = ServerApp::with_auto_tls();
    for t in turns {
        s.handle_input(t);
        app.drive(&mut s, now).unwrap();
    }
    (out_of(&mut s), app.log)
}
