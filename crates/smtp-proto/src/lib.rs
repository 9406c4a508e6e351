//! Sans-IO SMTP (RFC 5321), ESMTP extensions and LMTP (RFC 2033): codec and sessions.
//!
//! Status: skeleton. The codec and sessions land with the smtp-proto issue; nothing is exported yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
