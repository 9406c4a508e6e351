//! Internet message (RFC 5322, 6532) and MIME (RFC 2045-2049, 2047, 2231, 2183) parsing and building.
//!
//! Status: skeleton. The parser and builder land with the mime issue; nothing is exported yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
