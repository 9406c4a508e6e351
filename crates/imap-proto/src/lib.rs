//! Sans-IO IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051): framing, commands and responses.
//!
//! Status: skeleton. The codec lands with the imap-proto codec issue; nothing is exported yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
