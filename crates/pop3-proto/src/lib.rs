//! Sans-IO POP3 (RFC 1939, 2449, 2595, 5034, 6856): codec and sessions.
//!
//! Status: skeleton. The codec and sessions land with the pop3-proto issue; nothing is exported yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
