//! SASL (RFC 4422) mechanisms as sans-IO step machines, client and server side.
//!
//! Status: skeleton. The mechanisms land with the sasl issue; nothing is exported yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
