//! Sans-IO FTP (RFC 959 and extensions): control connection codec, sessions, listings.
//!
//! Status: skeleton. The codec and sessions land with the ftp-proto issue; nothing is exported yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
