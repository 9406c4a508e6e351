//! Application pieces for the example programs (mail store, queue, FTP file
//! tree) live here; the protocol crates never hold application state.
//!
//! Status: the programs (maild, smtp-send, pop3-fetch, ftpd, ftp, mime-tree)
//! land with their issues; no program exists yet.
#![forbid(unsafe_code)]
