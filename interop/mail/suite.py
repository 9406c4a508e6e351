#!/usr/bin/env python3
"""Mail interop checks: our clients against Postfix and Dovecot, and maild
against Python's smtplib/poplib/imaplib, swaks, curl, fetchmail, Postfix and
Dovecot, all on 127.0.0.1 high ports with every daemon configured from
scratch in a temporary directory.

Run by interop/mail/run (which builds the binaries first); BIN names the
directory with smtp-send, pop3-fetch and maild. Prints PASS/FAIL per check
and "N passed, N failed" last; exits 1 on any failure.

Knobs (environment): MAIL_INTEROP_LOAD_SECS (default 30) for the 200-session
load check, MAIL_INTEROP_KEEP=1 to keep the temporary directory, and
MAIL_INTEROP_ONLY=word,word to run only checks whose name contains a word.
"""

import asyncio
import email
import email.policy
import hashlib
import imaplib
import os
import poplib
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from email.message import EmailMessage

BIN = os.environ.get("BIN") or os.path.join(os.getcwd(), "target", "release")
SMTP_SEND = os.path.join(BIN, "smtp-send")
POP3_FETCH = os.path.join(BIN, "pop3-fetch")
MAILD = os.path.join(BIN, "maild")
LOAD_SECS = float(os.environ.get("MAIL_INTEROP_LOAD_SECS", "30"))
ONLY = [w for w in os.environ.get("MAIL_INTEROP_ONLY", "").split(",") if w]

T = tempfile.mkdtemp(prefix="mail-interop-")
os.chmod(T, 0o755)  # Postfix and Dovecot run their workers as other users.
CERT = os.path.join(T, "cert.pem")
KEY = os.path.join(T, "key.pem")
CA_CERT = os.path.join(T, "ca.pem")
NOBODY = 65534

passed = 0
failed = 0
cleanups = []  # callables run at exit, last first


def log(msg):
    print(msg, flush=True)


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def check(name, fn):
    global passed, failed
    if ONLY and not any(w in name for w in ONLY):
        return
    t0 = time.monotonic()
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported
        failed += 1
        log(f"FAIL {name}: {e} ({time.monotonic() - t0:.1f}s)")
        if not isinstance(e, CheckFailed):
            traceback.print_exc(file=sys.stdout)
        return
    passed += 1
    log(f"PASS {name} ({time.monotonic() - t0:.1f}s)")


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ports import free_port  # noqa: E402 - interop/ports.py, the one home of port choice


def wait_port(port, timeout=20.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise CheckFailed(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise CheckFailed(f"nothing listens on port {port} after {timeout}s")


def log_tail(path, lines=8):
    """The last lines of a daemon's log, for a failure message."""
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().splitlines()[-lines:]) or "(empty)"
    except OSError as e:
        return f"(unreadable: {e})"


def sh(cmd, timeout=60, input=None, env=None):
    """Runs a command; returns CompletedProcess with text output."""
    return subprocess.run(
        cmd, capture_output=True, timeout=timeout, input=input, env=env,
        text=isinstance(input, str) or input is None,
    )


def insecure_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def pinned_ctx():
    return ssl.create_default_context(cafile=CA_CERT)


def maildir_files(path):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        if os.path.isdir(d):
            out.extend(os.path.join(d, n) for n in sorted(os.listdir(d)) if not n.startswith("."))
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def headers_of(raw):
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    return raw[: end if end >= 0 else len(raw)]


def find_with(path, token):
    """Files of a Maildir whose header section holds `token` (bytes)."""
    return [f for f in maildir_files(path) if token in headers_of(read(f))]


def poll(fn, timeout, what, step=0.2):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise CheckFailed(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def only_trace_fields(prefix, also=()):
    """True when `prefix` consists only of Return-Path/Received/Delivered-To/
    X-Original-To fields (with continuation lines), plus the fields named in
    `also` (lower case)."""
    for line in prefix.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            continue
        name = line.split(b":", 1)[0].lower()
        if name not in (b"return-path", b"received", b"delivered-to", b"x-original-to", *also):
            return False
    return True


# --------------------------------------------------------------------------
# Peers


def make_cert():
    """A test CA (CA_CERT, what clients pin) and a leaf for localhost and
    127.0.0.1 signed by it (CERT/KEY, what every server presents; webpki
    refuses a CA certificate used as an end entity)."""
    ca_key = os.path.join(T, "ca-key.pem")
    csr = os.path.join(T, "leaf.csr")
    ext = os.path.join(T, "leaf.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    steps = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", CA_CERT,
         "-days", "2", "-subj", "/CN=mail interop test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", KEY, "-out", csr, "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", CA_CERT, "-CAkey", ca_key, "-CAcreateserial",
         "-out", CERT, "-days", "2", "-extfile", ext],
    ]
    for cmd in steps:
        r = sh(cmd)
        if r.returncode != 0:
            raise RuntimeError("openssl: " + r.stderr)
    os.chmod(KEY, 0o644)


class Dovecot:
    """Dovecot with its own config: POP3 (STLS), POP3S, IMAP, a passwd-file,
    Maildirs under T/dmail/<user>, and an auth socket for Postfix SASL."""

    def __init__(self):
        self.dir = os.path.join(T, "dovecot")
        self.mail = os.path.join(T, "dmail")
        self.pop3, self.pop3s, self.imap = free_port(), free_port(), free_port()
        self.auth_socket = os.path.join(self.dir, "auth-postfix")
        self.users = {}

    def add_user(self, name, password):
        self.users[name] = password
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            for u, p in self.users.items():
                f.write(f"{u}:{{PLAIN}}{p}\n")

    def maildir(self, user):
        return os.path.join(self.mail, user)

    def start(self):
        for d in (self.dir, os.path.join(self.dir, "run"), os.path.join(self.dir, "state"), self.mail):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        # All users up front: Dovecot notices passwd-file changes by mtime,
        # which can miss two writes within one second.
        for u in ("carol", "dan", "erin", "finn", "benm"):
            self.users[u] = f"{u}-pw"
        self.add_user("carol", "carol-pw")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/log
instance_name = mail-interop-{os.getpid()}
protocols = pop3 imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{CERT}
ssl_key = <{KEY}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login scram-sha-1 scram-sha-256
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={NOBODY} gid={NOBODY} home={self.mail}/%u
}}
mail_location = maildir:{self.mail}/%u
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3}
  }}
  inet_listener pop3s {{
    port = {self.pop3s}
    ssl = yes
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  unix_listener {self.auth_socket} {{
    mode = 0666
  }}
}}
""")
        # The daemon keeps inherited descriptors: its output goes to a file.
        out = os.path.join(self.dir, "start.out")
        with open(out, "wb") as f:
            rc = subprocess.run(["dovecot", "-c", self.conf], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=60).returncode
        if rc != 0:
            raise RuntimeError("dovecot: " + read(out).decode(errors="replace"))
        cleanups.append(self.stop)
        for p in (self.pop3, self.pop3s, self.imap):
            wait_port(p)

    def stop(self):
        sh(["dovecot", "-c", self.conf, "stop"], timeout=20)
        pidfile = os.path.join(self.dir, "run", "master.pid")
        for _ in range(50):
            if not os.path.exists(pidfile):
                return
            time.sleep(0.1)
        try:
            os.kill(int(read(pidfile).strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


class Postfix:
    """Postfix with config_directory/queue_directory in T/postfix: submission
    (STARTTLS required, SASL through Dovecot), smtps (implicit TLS) and MX
    ports; mail for pf.test goes by virtual(8) into the Maildir T/vmail/bob/."""

    def __init__(self, dovecot):
        self.dir = os.path.join(T, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.vmail = os.path.join(T, "vmail")
        self.submission, self.smtps, self.mx = free_port(), free_port(), free_port()
        self.dovecot = dovecot

    def maildir(self):
        return os.path.join(self.vmail, "bob")

    def start(self):
        for d in (self.etc, os.path.join(self.dir, "queue"), os.path.join(self.dir, "data"), self.vmail):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        os.chown(self.vmail, NOBODY, NOBODY)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
config_directory = {self.etc}
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.localhost
mydomain = localhost
myorigin = $myhostname
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = {self.dir}/maillog
maillog_file_prefixes = {T}
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = pf.test
virtual_mailbox_base = {self.vmail}
virtual_mailbox_maps = static:bob/
virtual_uid_maps = static:{NOBODY}
virtual_gid_maps = static:{NOBODY}
smtpd_tls_cert_file = {CERT}
smtpd_tls_key_file = {KEY}
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.dovecot.auth_socket}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_banner = $myhostname ESMTP
biff = no
""")
        subm = ("-o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes "
                "-o smtpd_client_restrictions=permit_sasl_authenticated,reject "
                "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject")
        smtps = ("-o smtpd_tls_wrappermode=yes -o smtpd_sasl_auth_enable=yes "
                 "-o smtpd_client_restrictions=permit_sasl_authenticated,reject "
                 "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject")
        services = [
            ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
            ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
            ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
            ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
            ("tlsmgr", "unix", "-", "-", "n", "1000?", "1", "tlsmgr"),
            ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
            ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
            ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
            ("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
            ("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
            ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
            ("error", "unix", "-", "-", "n", "-", "-", "error"),
            ("retry", "unix", "-", "-", "n", "-", "-", "error"),
            ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
            ("local", "unix", "-", "n", "n", "-", "-", "local"),
            ("virtual", "unix", "-", "n", "n", "-", "-", "virtual"),
            ("lmtp", "unix", "-", "-", "n", "-", "-", "lmtp"),
            ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
            ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
        ]
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{self.mx} inet n - n - - smtpd\n")
            f.write(f"127.0.0.1:{self.submission} inet n - n - - smtpd {subm}\n")
            f.write(f"127.0.0.1:{self.smtps} inet n - n - - smtpd {smtps}\n")
            for s in services:
                f.write(" ".join(s) + "\n")
        out = os.path.join(self.dir, "start.out")
        with open(out, "wb") as f:
            rc = subprocess.run(["postfix", "-c", self.etc, "start"], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=60).returncode
        if rc != 0:
            tail = ""
            try:
                tail = read(os.path.join(self.dir, "maillog")).decode(errors="replace")[-2000:]
            except OSError:
                pass
            raise RuntimeError(f"postfix start failed: {read(out).decode(errors='replace')}{tail}")
        cleanups.append(self.stop)
        for p in (self.mx, self.submission, self.smtps):
            wait_port(p)

    def stop(self):
        sh(["postfix", "-c", self.etc, "abort"], timeout=30)
        pidfile = os.path.join(self.dir, "queue", "pid", "master.pid")
        try:
            os.kill(int(read(pidfile).strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


class Maild:
    """One maild with its own data directory and ports."""

    def __init__(self, name, domain, users, extra=()):
        self.name = name
        self.data = os.path.join(T, f"maild-{name}")
        self.domain = domain
        self.users = users  # {address: password}
        self.extra = list(extra)
        self.ports = {k: free_port() for k in ("smtp", "submission", "submissions", "pop3", "pop3s", "lmtp")}
        self.proc = None
        self.logfile = os.path.join(T, f"maild-{name}.log")

    def maildir(self, address):
        return os.path.join(self.data, "mail", address)

    def queue_dir(self):
        return os.path.join(self.data, "queue")

    def start(self):
        args = [MAILD, "--data-dir", self.data, "--domain", self.domain, "--hostname", f"{self.name}.localhost",
                "--cert", CERT, "--key", KEY, "--login-delay-ms", "200"]
        for k, p in self.ports.items():
            args += [f"--{k}-listen", f"127.0.0.1:{p}"]
        for a, pw in self.users.items():
            args += ["--user", f"{a}:{pw}"]
        args += self.extra
        log_f = open(self.logfile, "ab")
        self.proc = subprocess.Popen(args, stdout=log_f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log_f.close()
        if self.stop not in cleanups:
            cleanups.append(self.stop)
        try:
            for p in self.ports.values():
                wait_port(p, proc=self.proc)
        except CheckFailed as e:
            raise CheckFailed(f"{e}; its log ends: {log_tail(self.logfile)}") from None

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def smtp_send(*args, timeout=60):
    return sh([SMTP_SEND, *args], timeout=timeout)


def pop3_fetch(*args, timeout=120):
    return sh([POP3_FETCH, *args], timeout=timeout)


def expect_ok(r, what):
    expect(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")


# --------------------------------------------------------------------------
# Part 1: our clients against Postfix and Dovecot


def attachments():
    """A text, a PDF-looking and a binary file for smtp-send --attach."""
    d = os.path.join(T, "attach")
    os.makedirs(d, exist_ok=True)
    files = {
        "notes.txt": "Grüße aus der Testsuite\n.a line with a leading dot\nFrom the start\n".encode(),
        "report.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 40,
        "blob.bin": hashlib.sha256(b"x").digest() * 1000,
    }
    paths = []
    for n, data in files.items():
        p = os.path.join(d, n)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    return files, paths


def postfix_checks(pf):
    files, paths = attachments()

    def delivered_exact(token, saved):
        got = poll(lambda: find_with(pf.maildir(), token), 20, f"delivery of {token!r} by Postfix")
        expect(len(got) == 1, f"{len(got)} copies of {token!r} delivered")
        raw = read(got[0]).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        expect(raw.endswith(saved), "the delivered message does not end with the message as sent")
        expect(only_trace_fields(raw[: len(raw) - len(saved)]), "Postfix added more than trace fields")
        return raw

    def starttls_auth():
        saved = os.path.join(T, "pf-sent-1.eml")
        token = "pf-starttls-" + os.urandom(4).hex()
        r = smtp_send("--server", "127.0.0.1", "--port", str(pf.submission), "--ca-file", CA_CERT,
                      "--tls-name", "localhost", "--user", "carol", "--password", "carol-pw",
                      "--from", "Carol Example <carol@example.test>", "--to", "Bob <bob@pf.test>",
                      "--cc", "bob2@pf.test", "--subject", f"{token} Grüße – ünïcödé", "-H", f"X-Token: {token}",
                      "--body", "Hallo Bob,\n.leading dot\nbye\n", "--save", saved, *sum([["--attach", p] for p in paths], []))
        expect_ok(r, "smtp-send")
        expect("auth: ok" in r.stdout and "tls: STARTTLS done" in r.stdout, f"no STARTTLS/AUTH: {r.stdout}")
        expect("2 of 2 recipients accepted" in r.stdout, r.stdout)
        # Postfix's postlogd writes the maillog asynchronously: the line may
        # land a moment after smtp-send has finished.
        poll(lambda: b"sasl_method=SCRAM-SHA-256" in read(os.path.join(pf.dir, "maillog")), 10,
             "Postfix to log that smtp-send authenticated with SCRAM-SHA-256")
        sent = read(saved)
        got = poll(lambda: len(find_with(pf.maildir(), token.encode())) == 2 and find_with(pf.maildir(), token.encode()),
                   20, "delivery to both recipients")
        for f in got:
            raw = read(f).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            expect(raw.endswith(sent), "delivered message differs from the message sent")
        msg = email.message_from_bytes(sent, policy=email.policy.default)
        expect(token in str(msg["subject"]) and "Grüße" in str(msg["subject"]), "subject lost")
        parts = {p.get_filename(): p for p in msg.iter_attachments()}
        expect(set(parts) == set(files), f"attachments {sorted(parts)}")
        for n, data in files.items():
            got = parts[n].get_payload(decode=True)
            if n.endswith(".txt"):  # text travels in canonical form, CRLF line ends
                got = got.replace(b"\r\n", b"\n")
            expect(got == data, f"attachment {n} differs")
        expect(parts["report.pdf"].get_content_type() == "application/pdf", "PDF not detected")
        expect(parts["blob.bin"].get_content_type() == "application/octet-stream", "binary type")
        expect(parts["notes.txt"].get_content_type() == "text/plain", "text type")

    def implicit_tls():
        saved = os.path.join(T, "pf-sent-2.eml")
        token = "pf-implicit-" + os.urandom(4).hex()
        r = smtp_send("--port", str(pf.smtps), "--implicit-tls", "--insecure", "--user", "carol",
                      "--password", "carol-pw", "--from", "carol@example.test", "--to", "bob@pf.test",
                      "--subject", token, "--body", "implicit TLS\n", "--save", saved)
        expect_ok(r, "smtp-send")
        delivered_exact(token.encode(), read(saved))

    def refuses_unverified():
        r = smtp_send("--port", str(pf.submission), "--user", "carol", "--password", "carol-pw",
                      "--from", "carol@example.test", "--to", "bob@pf.test", "--body", "x")
        expect(r.returncode != 0, "sent over TLS to an unverifiable certificate")
        expect("STARTTLS" in r.stderr or "certificate" in r.stderr.lower(), r.stderr)

    def wrong_password():
        token = "pf-badpw-" + os.urandom(4).hex()
        r = smtp_send("--port", str(pf.submission), "--insecure", "--user", "carol", "--password", "nope",
                      "--from", "carol@example.test", "--to", "bob@pf.test", "--subject", token, "--body", "x")
        expect(r.returncode != 0 and "AUTH failed" in (r.stdout + r.stderr), f"{r.stdout} {r.stderr}")
        time.sleep(0.5)
        expect(not find_with(pf.maildir(), token.encode()), "a message was delivered without AUTH")

    def plain_mx():
        saved = os.path.join(T, "pf-sent-3.eml")
        token = "pf-mx-" + os.urandom(4).hex()
        r = smtp_send("--port", str(pf.mx), "--starttls", "opportunistic", "--insecure",
                      "--from", "someone@example.test", "--to", "bob@pf.test", "--to", "nobody@elsewhere.test",
                      "--subject", token, "--body", "mx\n", "--save", saved)
        expect(r.returncode == 2, f"expected partial acceptance (exit 2), got {r.returncode}: {r.stdout}")
        expect("RCPT nobody@elsewhere.test: 454" in r.stdout or "RCPT nobody@elsewhere.test: 554" in r.stdout,
               f"relay refusal not reported: {r.stdout}")
        delivered_exact(token.encode(), read(saved))

    check("postfix: smtp-send STARTTLS + AUTH SCRAM-SHA-256 (Dovecot SASL), cc, non-ASCII, 3 attachments, CA pinned",
          starttls_auth)
    check("postfix: smtp-send implicit TLS (smtps wrapper mode), byte-exact", implicit_tls)
    check("postfix: smtp-send refuses an unverifiable certificate without --insecure", refuses_unverified)
    check("postfix: smtp-send wrong password -> AUTH failed, nothing sent", wrong_password)
    check("postfix: smtp-send to MX, per-recipient results (one refused), byte-exact", plain_mx)


FILL_SEQ = [0]


def dovecot_fill(dc, user, messages):
    md = dc.maildir(user)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    names = []
    for m in messages:
        FILL_SEQ[0] += 1
        name = f"{int(time.time())}.M{FILL_SEQ[0]}P{os.getpid()}.interop"
        with open(os.path.join(md, "new", name), "wb") as f:
            f.write(m)
        names.append(name)
    for root, dirs, fls in os.walk(md):
        os.chown(root, NOBODY, NOBODY)
        for n in fls:
            os.chown(os.path.join(root, n), NOBODY, NOBODY)
    return names


def sample_messages(n, big=0):
    out = []
    for i in range(n):
        body = (f"Subject: sample {i}\r\nMessage-ID: <sample-{i}@interop>\r\n\r\n"
                f".leading dot {i}\r\n..two dots\r\n.\r\nline after a lone dot\r\n").encode()
        if big and i == 0:
            line = b"x" * 76 + b"\r\n"
            body += (b"." + line) * (big // len(line))
        out.append(body)
    return out


def dovecot_checks(dc):
    def same_set(local, originals):
        got = sorted(read(f) for f in maildir_files(local))
        expect(len(got) == len(originals), f"{len(got)} messages fetched, {len(originals)} on the server")
        expect(got == sorted(originals), "fetched messages differ from the server's files")

    def keep_stls():
        msgs = sample_messages(30, big=3_000_000)
        dovecot_fill(dc, "dan", msgs)
        local = os.path.join(T, "fetched-dan")
        r = pop3_fetch("--port", str(dc.pop3), "--ca-file", CA_CERT, "--tls-name", "localhost",
                       "-u", "dan", "--password", "dan-pw", "-m", local)
        expect_ok(r, "pop3-fetch")
        expect("SASL SCRAM-SHA-256 over TLS" in r.stderr, f"no STLS or no SCRAM: {r.stderr}")
        same_set(local, msgs)
        expect(len(maildir_files(dc.maildir("dan"))) == 30, "keep mode deleted on the server")

    def new_only():
        msgs = sample_messages(5)
        dovecot_fill(dc, "erin", msgs)
        local = os.path.join(T, "fetched-erin")
        args = ["--port", str(dc.pop3s), "--implicit-tls", "--insecure", "-u", "erin", "--password", "erin-pw",
                "-m", local, "--new-only", "-q"]
        r = pop3_fetch(*args)
        expect_ok(r, "first fetch")
        expect("fetched 5 messages" in r.stdout, r.stdout)
        r = pop3_fetch(*args)
        expect_ok(r, "second fetch")
        expect("fetched 0 messages" in r.stdout and "skipped 5" in r.stdout, r.stdout)
        extra = [b"Subject: one more\r\n\r\nnew\r\n"]
        dovecot_fill(dc, "erin", extra)
        r = pop3_fetch(*args)
        expect_ok(r, "third fetch")
        expect("fetched 1 messages" in r.stdout, r.stdout)
        same_set(local, msgs + extra)

    def delete_mode():
        msgs = sample_messages(12)
        dovecot_fill(dc, "finn", msgs)
        local = os.path.join(T, "fetched-finn")
        r = pop3_fetch("--port", str(dc.pop3), "--insecure", "-u", "finn", "--password", "finn-pw", "-m", local,
                       "--delete", "-q")
        expect_ok(r, "pop3-fetch --delete")
        expect("deleted 12" in r.stdout, r.stdout)
        same_set(local, msgs)
        expect(maildir_files(dc.maildir("finn")) == [], "messages left on the server after --delete")

    def wrong_password():
        r = pop3_fetch("--port", str(dc.pop3), "--insecure", "-u", "carol", "--password", "bad",
                       "-m", os.path.join(T, "fetched-bad"), "-q", timeout=60)
        expect(r.returncode != 0, "login with a wrong password succeeded")

    check("dovecot: pop3-fetch STLS (CA pinned), SASL SCRAM-SHA-256, keep, 30 messages incl. 3 MB, dot lines, byte-exact",
          keep_stls)
    check("dovecot: pop3-fetch POP3S --new-only with the UIDL state file (5, 0, then 1 new)", new_only)
    check("dovecot: pop3-fetch --delete empties the maildrop, byte-exact", delete_mode)
    check("dovecot: pop3-fetch wrong password fails", wrong_password)


# --------------------------------------------------------------------------
# Part 2: maild against real clients and servers


def smtplib_submit(md, user, pw, msg, port=None, implicit=False):
    if implicit:
        s = smtplib.SMTP_SSL("127.0.0.1", port or md.ports["submissions"], context=insecure_ctx(), timeout=30)
    else:
        s = smtplib.SMTP("127.0.0.1", port or md.ports["submission"], timeout=30)
        s.ehlo("interop.localhost")
        s.starttls(context=insecure_ctx())
        s.ehlo("interop.localhost")
    s.login(user, pw)
    refused = s.send_message(msg)
    s.quit()
    return refused


def maild_client_checks(m):
    """Python smtplib/poplib, swaks, curl, fetchmail against maild `m`
    (domain m.test, users amy@m.test and ben@m.test)."""
    amy, ben = "amy@m.test", "ben@m.test"
    pw = m.users

    def smtplib_unicode_attachments():
        msg = EmailMessage()
        msg["From"] = "Amy Ämßé <amy@m.test>"
        msg["To"] = "Ben <ben@m.test>"
        msg["Subject"] = "smtplib Grüße 测试 ✓"
        msg["Message-ID"] = "<smtplib-1@interop>"
        msg.set_content("Héllo Bén,\n.leading dot\nüñíçødé body\n")
        blob = os.urandom(50_000)
        msg.add_attachment(blob, maintype="application", subtype="octet-stream", filename="rändom.bin")
        msg.add_attachment("tëxt attachment\n", filename="note.txt")
        refused = smtplib_submit(m, amy, pw[amy], msg)
        expect(refused == {}, f"refused {refused}")
        got = poll(lambda: find_with(m.maildir(ben), b"smtplib-1@interop"), 10, "delivery")
        back = email.message_from_bytes(read(got[0]), policy=email.policy.default)
        expect(str(back["subject"]) == "smtplib Grüße 测试 ✓", f"subject {back['subject']!r}")
        expect("Héllo Bén" in back.get_body(("plain",)).get_content(), "body text")
        atts = {a.get_filename(): a for a in back.iter_attachments()}
        expect(atts["rändom.bin"].get_payload(decode=True) == blob, "binary attachment differs")
        note = atts["note.txt"].get_content().replace("\r\n", "\n")
        expect(note == "tëxt attachment\n", f"text attachment differs: {note!r}")
        expect(back["Return-Path"] == "<amy@m.test>" and back["Received"] is not None, "trace fields")

    def smtplib_implicit_and_refusals():
        msg = EmailMessage()
        msg["From"] = amy
        msg["To"] = ben
        msg["Subject"] = "implicit"
        msg["Message-ID"] = "<smtplib-2@interop>"
        msg.set_content("over port 465 style TLS\n")
        expect(smtplib_submit(m, amy, pw[amy], msg, implicit=True) == {}, "refused")
        poll(lambda: find_with(m.maildir(ben), b"smtplib-2@interop"), 10, "delivery")
        # Submission without AUTH is refused; plaintext AUTH before TLS is not offered.
        s = smtplib.SMTP("127.0.0.1", m.ports["submission"], timeout=30)
        s.ehlo("x")
        expect(not s.has_extn("auth") or "PLAIN" not in s.esmtp_features.get("auth", "").upper(),
               "plaintext AUTH offered before TLS")
        try:
            s.sendmail(amy, [ben], b"Subject: no auth\r\n\r\nx\r\n")
            raise CheckFailed("submission without AUTH accepted")
        except smtplib.SMTPException:
            pass
        s.close()
        # Wrong password.
        s = smtplib.SMTP("127.0.0.1", m.ports["submission"], timeout=30)
        s.starttls(context=insecure_ctx())
        try:
            s.login(amy, "wrong")
            raise CheckFailed("wrong password accepted")
        except smtplib.SMTPAuthenticationError:
            pass
        s.close()
        # MX: unknown local user 550 at RCPT, relaying for strangers 554.
        s = smtplib.SMTP("127.0.0.1", m.ports["smtp"], timeout=30)
        s.ehlo("x")
        s.mail("x@outside.test")
        code, _ = s.rcpt("nobody@m.test")
        expect(code == 550, f"unknown user got {code}")
        code, _ = s.rcpt("someone@elsewhere.test")
        expect(code == 554, f"relay attempt got {code}")
        s.quit()

    def swaks():
        token = "swaks-" + os.urandom(4).hex()
        r = sh(["swaks", "--server", "127.0.0.1", "--port", str(m.ports["submission"]), "--tls",
                "--auth", "PLAIN", "--auth-user", amy, "--auth-password", pw[amy], "--from", amy, "--to", ben,
                "--header", f"Subject: {token}", "--body", "sent by swaks\n", "--helo", "swaks.localhost"],
               timeout=60)
        expect_ok(r, "swaks")
        poll(lambda: find_with(m.maildir(ben), token.encode()), 10, "swaks delivery")
        r = sh(["swaks", "--server", "127.0.0.1", "--port", str(m.ports["submissions"]), "--tls-on-connect",
                "--auth", "LOGIN", "--auth-user", amy, "--auth-password", pw[amy], "--from", amy, "--to", ben,
                "--header", f"Subject: {token}-465", "--body", "implicit\n"], timeout=60)
        expect_ok(r, "swaks --tls-on-connect")
        poll(lambda: find_with(m.maildir(ben), f"{token}-465".encode()), 10, "swaks implicit delivery")

    def curl_smtp():
        token = "curl-" + os.urandom(4).hex()
        path = os.path.join(T, "curl.eml")
        body = (f"From: {amy}\r\nTo: {ben}\r\nSubject: {token}\r\nMessage-ID: <{token}@interop>\r\n\r\n"
                ".dot line\r\nbody by curl\r\n").encode()
        with open(path, "wb") as f:
            f.write(body)
        r = sh(["curl", "-sS", "--ssl-reqd", "-k", "--url", f"smtp://127.0.0.1:{m.ports['submission']}",
                "--user", f"{amy}:{pw[amy]}", "--mail-from", amy, "--mail-rcpt", ben, "-T", path], timeout=60)
        expect_ok(r, "curl smtp STARTTLS")
        got = poll(lambda: find_with(m.maildir(ben), token.encode()), 10, "curl delivery")
        raw = read(got[0])
        # The message has no Date: as a submission server (RFC 6409 8.3) maild
        # adds one; nothing else but trace fields.
        prefix = raw[: len(raw) - len(body)]
        expect(raw.endswith(body) and only_trace_fields(prefix, (b"date",)), "curl message not byte-exact")
        expect(b"\r\nDate: " in prefix and b"Message-ID" not in prefix, f"Date not added: {prefix!r}")
        r = sh(["curl", "-sS", "-k", "--url", f"smtps://127.0.0.1:{m.ports['submissions']}",
                "--user", f"{amy}:{pw[amy]}", "--mail-from", amy, "--mail-rcpt", ben, "-T", path], timeout=60)
        expect_ok(r, "curl smtps")
        poll(lambda: len(find_with(m.maildir(ben), token.encode())) == 2, 10, "curl smtps delivery")

    def poplib_reads():
        files = {}
        for f in maildir_files(m.maildir(ben)):
            files[hashlib.sha256(read(f)).hexdigest()] = f
        expect(len(files) >= 3, "too few messages for ben")
        p = poplib.POP3("127.0.0.1", m.ports["pop3"], timeout=30)
        expect("STLS" in p.capa(), "STLS not in CAPA")
        p.stls(context=insecure_ctx())
        p.user(ben)
        p.pass_(pw[ben])
        count, _ = p.stat()
        expect(count == len(files), f"STAT {count}, Maildir has {len(files)}")
        uidls = p.uidl()[1]
        expect(len(uidls) == count and len({u.split()[1] for u in uidls}) == count, "UIDLs not unique")
        for i in range(1, count + 1):
            lines = p.retr(i)[1]
            data = b"\r\n".join(lines) + b"\r\n"
            expect(hashlib.sha256(data).hexdigest() in files, f"RETR {i} differs from every Maildir file")
        p.quit()
        ps = poplib.POP3_SSL("127.0.0.1", m.ports["pop3s"], context=insecure_ctx(), timeout=30)
        ps.user(ben)
        ps.pass_(pw[ben])
        expect(ps.stat()[0] == count, "POP3S STAT differs")
        ps.quit()

    def curl_pop3():
        p = poplib.POP3_SSL("127.0.0.1", m.ports["pop3s"], context=insecure_ctx(), timeout=30)
        p.user(ben)
        p.pass_(pw[ben])
        want = b"\r\n".join(p.retr(1)[1]) + b"\r\n"
        count = p.stat()[0]
        p.quit()
        r = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", f"pop3://127.0.0.1:{m.ports['pop3']}/1",
                            "--user", f"{ben}:{pw[ben]}"], capture_output=True, timeout=60)
        expect(r.returncode == 0, f"curl pop3: {r.stderr!r}")
        expect(r.stdout == want, "curl RETR 1 differs from poplib's")
        r = subprocess.run(["curl", "-sS", "-k", f"pop3s://127.0.0.1:{m.ports['pop3s']}/",
                            "--user", f"{ben}:{pw[ben]}"], capture_output=True, timeout=60)
        expect(r.returncode == 0 and len(r.stdout.splitlines()) == count, f"curl LIST: {r.stdout!r} {r.stderr!r}")

    def fetchmail():
        out = os.path.join(T, "fetchmail-out")
        mda = os.path.join(T, "fetchmail-mda.sh")
        with open(mda, "w") as f:
            f.write(f"#!/bin/sh\n{{ echo '=== MESSAGE'; cat; }} >> {out}\n")
        os.chmod(mda, 0o755)
        rc = os.path.join(T, "fetchmailrc")
        with open(rc, "w") as f:
            f.write(f"""set no syslog
poll 127.0.0.1 with proto POP3 port {m.ports['pop3']} timeout 30
  user "{ben}" there with password "{pw[ben]}" is root here
  sslproto "TLS1.2+" no sslcertck
  keep fetchall
  mda "{mda}"
""")
        os.chmod(rc, 0o600)
        count = len(maildir_files(m.maildir(ben)))
        env = dict(os.environ, HOME=T)
        r = sh(["fetchmail", "-f", rc, "--nodetach", "--nosyslog", "-i", os.path.join(T, "fetchmail.ids")],
               timeout=120, env=env)
        expect(r.returncode == 0, f"fetchmail exit {r.returncode}: {r.stdout[-800:]} {r.stderr[-800:]}")
        got = read(out)
        expect(got.count(b"=== MESSAGE") == count, f"fetchmail delivered {got.count(b'=== MESSAGE')} of {count}")
        expect(b"smtplib-1@interop" in got, "a known message is missing from fetchmail's output")
        expect(len(maildir_files(m.maildir(ben))) == count, "fetchmail keep mode deleted messages")

    check("maild: Python smtplib EHLO/STARTTLS/AUTH send_message, non-ASCII and attachments", smtplib_unicode_attachments)
    check("maild: smtplib implicit TLS; no AUTH, wrong password, unknown user 550, relay 554 refused", smtplib_implicit_and_refusals)
    check("maild: swaks STARTTLS AUTH PLAIN and implicit TLS AUTH LOGIN", swaks)
    check("maild: curl smtp (STARTTLS) and smtps submission, byte-exact", curl_smtp)
    check("maild: Python poplib STLS and POP3S, RETR equals the Maildir files, UIDL", poplib_reads)
    check("maild: curl pop3 (STLS) RETR and pop3s LIST", curl_pop3)
    check("maild: fetchmail over STLS into an MDA script", fetchmail)


def dovecot_reads_maild(m, dc):
    """Dovecot serves the Maildir maild wrote for ben (copied to Dovecot's mail
    root, so maild keeps its own): messages byte-exact, Seen where maild's
    POP3 set it."""
    # ben's messages were retrieved (kept) by poplib/curl/fetchmail: maild marks them Seen.
    # Deliver two more that nobody has read.
    s = smtplib.SMTP("127.0.0.1", m.ports["smtp"], timeout=30)
    for i in (1, 2, 3):
        s.sendmail("x@outside.test", ["ben@m.test"],
                   f"Subject: unread {i}\r\nMessage-ID: <unread-{i}@interop>\r\n\r\nunread\r\n".encode())
    s.quit()
    # Read (and keep) the first message over maild's POP3: maild marks it Seen.
    p = poplib.POP3_SSL("127.0.0.1", m.ports["pop3s"], context=insecure_ctx(), timeout=30)
    p.user("ben@m.test")
    p.pass_(m.users["ben@m.test"])
    p.retr(1)
    p.quit()
    src = m.maildir("ben@m.test")
    dst = dc.maildir("benm")
    shutil.copytree(src, dst, symlinks=False, ignore=shutil.ignore_patterns(".*"))
    for root, dirs, fls in os.walk(dst):
        os.chown(root, NOBODY, NOBODY)
        for n in fls:
            os.chown(os.path.join(root, n), NOBODY, NOBODY)
    expected = {}
    for f in maildir_files(dst):
        name = os.path.basename(f)
        flags = name.split(":2,", 1)[1] if ":2," in name else ""
        expected[hashlib.sha256(read(f)).hexdigest()] = "S" in flags
    expect(any(expected.values()) and not all(expected.values()), f"need seen and unseen messages: {expected}")
    im = imaplib.IMAP4("127.0.0.1", dc.imap, timeout=30)
    im.starttls(ssl_context=insecure_ctx())
    im.login("benm", "benm-pw")
    typ, data = im.select("INBOX", readonly=True)
    expect(typ == "OK" and int(data[0]) == len(expected), f"SELECT says {data}, Maildir has {len(expected)}")
    typ, data = im.fetch("1:*", "(FLAGS BODY.PEEK[])")
    expect(typ == "OK", f"FETCH {typ}")
    seen_ok = 0
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, body = item
        h = hashlib.sha256(body).hexdigest()
        expect(h in expected, "Dovecot shows a message that differs from maild's file")
        expect((b"\\Seen" in meta) == expected[h], f"flags {meta!r} do not match the file name")
        seen_ok += 1
    expect(seen_ok == len(expected), f"fetched {seen_ok} of {len(expected)}")
    im.logout()


def end_to_end(a, b):
    """smtp-send -> A submission -> A queue -> B (smart host) -> pop3-fetch."""
    token = "e2e-" + os.urandom(4).hex()
    saved = os.path.join(T, "e2e.eml")
    files, paths = attachments()
    r = smtp_send("--port", str(a.ports["submission"]), "--ca-file", CA_CERT, "--tls-name", "localhost",
                  "--user", "alice@a.test", "--password", a.users["alice@a.test"], "--from", "Alice <alice@a.test>",
                  "--to", "bob@b.test", "--subject", f"{token} ünïcödé", "-H", f"X-Token: {token}",
                  "--body", "end to end\n.dot\n",
                  "--attach", paths[1], "--save", saved)
    expect_ok(r, "smtp-send to A")
    poll(lambda: find_with(b.maildir("bob@b.test"), token.encode()), 30, "relay A -> B")
    local = os.path.join(T, "e2e-fetched")
    r = pop3_fetch("--port", str(b.ports["pop3"]), "--ca-file", CA_CERT, "--tls-name", "localhost",
                   "-u", "bob@b.test", "--password", b.users["bob@b.test"], "-m", local, "-q")
    expect_ok(r, "pop3-fetch from B")
    got = [read(f) for f in maildir_files(local) if token.encode() in headers_of(read(f))]
    expect(len(got) == 1, f"{len(got)} copies fetched")
    sent = read(saved)
    expect(got[0].endswith(sent), "body not byte-exact after two hops")
    prefix = got[0][: len(got[0]) - len(sent)]
    expect(only_trace_fields(prefix), f"more than trace fields added: {prefix[:300]!r}")
    expect(prefix.count(b"Received:") >= 2 and prefix.startswith(b"Return-Path: <alice@a.test>"),
           f"trace fields: {prefix[:400]!r}")


def retry_later(a, b):
    b.stop()
    token = "retry-" + os.urandom(4).hex()
    r = smtp_send("--port", str(a.ports["submissions"]), "--implicit-tls", "--insecure",
                  "--user", "alice@a.test", "--password", a.users["alice@a.test"], "--from", "alice@a.test",
                  "--to", "bob@b.test", "--subject", token, "--body", "retried\n")
    expect_ok(r, "smtp-send while B is down")
    time.sleep(2.5)  # at least one failed attempt (retry-first 1s)
    queued = [n for n in os.listdir(a.queue_dir())] if os.path.isdir(a.queue_dir()) else []
    expect(queued, "A's queue is empty while B is down")
    expect(not find_with(b.maildir("bob@b.test"), token.encode()), "delivered while B was down")
    b.start()
    poll(lambda: find_with(b.maildir("bob@b.test"), token.encode()), 30, "delivery after B came back")


def bounce(a):
    token = "bounce-" + os.urandom(4).hex()
    r = smtp_send("--port", str(a.ports["submission"]), "--insecure", "--user", "alice@a.test",
                  "--password", a.users["alice@a.test"], "--from", "alice@a.test", "--to", "nosuchuser@b.test",
                  "--subject", token, "--body", "this will bounce\n")
    expect_ok(r, "smtp-send (A accepts, B refuses later)")

    def bounced():
        for f in maildir_files(a.maildir("alice@a.test")):
            raw = read(f)
            if token.encode() in raw and b"multipart/report" in headers_of(raw):
                return raw
        return None

    raw = poll(bounced, 30, "a DSN bounce to the sender")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    expect(msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "delivery-status",
           "not an RFC 3464 report")
    ds = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"]
    expect(ds, "no message/delivery-status part")
    cte = str(ds[0].get("Content-Transfer-Encoding", "7bit")).lower()
    expect(cte in ("7bit", "8bit"), f"message/delivery-status in {cte} (RFC 3464 2.1: 7bit MUST be used)")
    text = ds[0].as_bytes()
    expect(b"Final-Recipient: rfc822; nosuchuser@b.test" in text and b"Action: failed" in text,
           f"delivery-status lacks the recipient/action: {text[-600:]!r}")
    expect(msg["Return-Path"] in ("<>", ""), f"bounce Return-Path {msg['Return-Path']!r}")


def relay_to_postfix(p, pf):
    token = "relay-pf-" + os.urandom(4).hex()
    saved = os.path.join(T, "relay-pf.eml")
    r = smtp_send("--port", str(p.ports["submission"]), "--insecure", "--user", "pat@p.test",
                  "--password", p.users["pat@p.test"], "--from", "pat@p.test", "--to", "bob@pf.test",
                  "--subject", token, "--body", "via maild's queue runner\n.dot\n", "--save", saved)
    expect_ok(r, "smtp-send to maild P")
    got = poll(lambda: find_with(pf.maildir(), token.encode()), 30, "queue runner delivery to Postfix")
    raw = read(got[0]).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    sent = read(saved)
    expect(raw.endswith(sent), "Postfix got a different message")
    maillog = read(os.path.join(pf.dir, "maillog"))
    expect(b"with ESMTPS" in read(got[0]) or b"TLS" in maillog, "the queue runner did not use STARTTLS")


# --- safety checks against maild's MX


def recv_until(sock, pred, timeout=10.0):
    sock.settimeout(timeout)
    buf = b""
    end = time.monotonic() + timeout
    while not pred(buf) and time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def smtp_reply_done(buf):
    lines = buf.split(b"\r\n")
    return len(lines) >= 2 and any(len(l) >= 4 and l[3:4] == b" " for l in lines[:-1])


def smuggling(m):
    seqs = [b"\n.\n", b"\n.\r\n", b"\r.\n", b"\r.\r\n", b"\r\n.\n", b"\n.\r", b"\r\n.\r", b"\r\n\x00.\r\n"]
    md = m.maildir("ben@m.test")
    before = len(maildir_files(md))
    for i, seq in enumerate(seqs):
        s = socket.create_connection(("127.0.0.1", m.ports["smtp"]), timeout=10)
        recv_until(s, smtp_reply_done)
        s.sendall(b"EHLO smuggler.localhost\r\n")
        recv_until(s, smtp_reply_done)
        s.sendall(b"MAIL FROM:<x@outside.test>\r\nRCPT TO:<ben@m.test>\r\nDATA\r\n")
        recv_until(s, lambda b: b"354" in b)
        s.sendall(f"Subject: smuggle-carrier-{i}\r\n\r\nhello".encode() + seq +
                  f"MAIL FROM:<evil@outside.test>\r\nRCPT TO:<ben@m.test>\r\nDATA\r\nSubject: SMUGGLED-{i}\r\n\r\nevil\r\n.\r\n".encode())
        recv_until(s, lambda b: b.count(b"\r\n") >= 1, timeout=3)
        try:
            s.sendall(b"QUIT\r\n")
            recv_until(s, lambda b: b"221" in b, timeout=3)
        except OSError:
            pass
        s.close()
    time.sleep(0.5)
    smuggled = [f for f in maildir_files(md) if b"Subject: SMUGGLED" in headers_of(read(f))]
    expect(not smuggled, f"{len(smuggled)} smuggled messages delivered")
    after = len(maildir_files(md))
    expect(after - before <= len(seqs), f"{after - before} messages from {len(seqs)} sessions")


def starttls_injection(m):
    # SMTP: a command pipelined after STARTTLS must not be answered after the handshake.
    s = socket.create_connection(("127.0.0.1", m.ports["smtp"]), timeout=10)
    recv_until(s, smtp_reply_done)
    s.sendall(b"EHLO inj.localhost\r\n")
    recv_until(s, smtp_reply_done)
    s.sendall(b"STARTTLS\r\nHELP\r\n")
    first = recv_until(s, smtp_reply_done)
    expect(first.startswith(b"220"), f"STARTTLS answered {first!r}")
    expect(b"214" not in first, "HELP answered before TLS")
    t = insecure_ctx().wrap_socket(s, server_hostname="localhost")
    t.sendall(b"NOOP\r\n")
    got = recv_until(t, lambda b: b.startswith(b"250") and b.endswith(b"\r\n"), timeout=3)
    time.sleep(0.3)
    t.settimeout(0.5)
    try:
        got += t.recv(65536)
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    expect(got.startswith(b"250") and b"214" not in got and got.count(b"\r\n") == 1,
           f"after TLS the server answered {got!r} (injected HELP executed?)")
    t.close()
    # POP3: CAPA pipelined after STLS must be dropped.
    s = socket.create_connection(("127.0.0.1", m.ports["pop3"]), timeout=10)
    recv_until(s, lambda b: b.endswith(b"\r\n"))
    s.sendall(b"STLS\r\nCAPA\r\n")
    first = recv_until(s, lambda b: b.endswith(b"\r\n"), timeout=3)
    expect(first.startswith(b"+OK") and first.count(b"\r\n") == 1, f"STLS answered {first!r}")
    t = insecure_ctx().wrap_socket(s, server_hostname="localhost")
    t.sendall(b"NOOP\r\n")
    got = recv_until(t, lambda b: b.endswith(b"\r\n"), timeout=3)
    time.sleep(0.3)
    t.settimeout(0.5)
    try:
        got += t.recv(65536)
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    expect(got.count(b"\r\n") == 1 and b"\r\n.\r\n" not in got, f"after STLS: {got!r} (injected CAPA executed?)")
    t.close()


def kill9_during_load(k):
    """50 clients send to K's MX; K is killed with SIGKILL mid-way; after a
    restart every message that got a 250 is in the Maildir or the queue."""
    md = k.maildir("kim@k.test")
    acked = []
    lock = threading.Lock()
    payload = ("x" * 76 + "\r\n") * 8000  # ~620 KB each, so sessions overlap the kill

    def client(i):
        mid = f"kill9-{i}-{os.urandom(3).hex()}@interop"
        try:
            s = smtplib.SMTP("127.0.0.1", k.ports["smtp"], timeout=20)
            s.sendmail("x@outside.test", ["kim@k.test"],
                       f"Subject: k{i}\r\nMessage-ID: <{mid}>\r\n\r\n{payload}".encode())
            with lock:
                acked.append(mid)
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(50)]
    for th in threads:
        th.start()
    # Kill once a few messages are acknowledged and most sessions are mid-way.
    poll(lambda: len(acked) >= 3, 30, "the first acknowledgements", step=0.005)
    k.proc.send_signal(signal.SIGKILL)
    k.proc.wait(timeout=10)
    killed_with = len(acked)
    for th in threads:
        th.join(timeout=30)
    k.proc = None
    k.start()
    queue_bytes = b""
    for root, _, fls in os.walk(k.queue_dir()):
        for n in fls:
            try:
                queue_bytes += read(os.path.join(root, n))[:4096]
            except OSError:
                pass
    present = set()
    for f in maildir_files(md):
        raw = read(f)
        h = headers_of(raw)
        if b"kill9-" in h:
            # Nothing half-written ever becomes visible in new/ or cur/.
            expect(raw.endswith(payload.encode()), f"truncated message in the Maildir: {f}")
        for mid in acked:
            if mid.encode() in h:
                present.add(mid)
    missing = [mid for mid in acked if mid not in present and mid.encode() not in queue_bytes]
    expect(not missing, f"{len(missing)} of {len(acked)} acknowledged messages lost: {missing[:3]}")
    expect(killed_with < 50, "every client finished before the kill; the check proved nothing")
    log(f"  kill -9: {killed_with} messages had 250 before the kill, all {len(acked)} acknowledged ones kept")


async def load_session(port, deadline, stats, i):
    reader = writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)

        async def reply():
            while True:
                line = await asyncio.wait_for(reader.readline(), 60)
                if not line:
                    raise ConnectionError("closed")
                if line[3:4] != b"-":
                    return int(line[:3])

        if await reply() != 220:
            raise ConnectionError("greeting")
        writer.write(b"EHLO load.localhost\r\n")
        if await reply() != 250:
            raise ConnectionError("EHLO")
        n = 0
        while time.monotonic() < deadline:
            n += 1
            writer.write(b"MAIL FROM:<load@outside.test>\r\nRCPT TO:<kim@k.test>\r\nDATA\r\n")
            codes = [await reply(), await reply(), await reply()]
            if codes != [250, 250, 354]:
                raise ConnectionError(f"transaction replies {codes}")
            writer.write(f"Subject: load {i}.{n}\r\n\r\nload test body\r\n.\r\n".encode())
            if await reply() != 250:
                raise ConnectionError("end of data")
            stats["messages"] += 1
        writer.write(b"QUIT\r\n")
        await reply()
        stats["sessions"] += 1
    except Exception as e:  # noqa: BLE001
        stats["errors"].append(f"{type(e).__name__}: {e}")
    finally:
        if writer is not None:
            writer.close()


def concurrent_load(k):
    # A fresh K with a clean Maildir keeps this independent of the kill check.
    rss = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                rss.append(k.rss_kib())
            except (OSError, AttributeError):
                pass
            stop.wait(0.5)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    stats = {"messages": 0, "sessions": 0, "errors": []}

    async def main():
        deadline = time.monotonic() + LOAD_SECS
        await asyncio.gather(*(load_session(k.ports["smtp"], deadline, stats, i) for i in range(200)))

    asyncio.run(main())
    stop.set()
    th.join()
    expect(not stats["errors"], f"{len(stats['errors'])} session errors, first: {stats['errors'][:3]}")
    expect(stats["sessions"] == 200, f"{stats['sessions']} sessions completed")
    peak = max(rss) if rss else 0
    half = rss[len(rss) // 2:] if rss else [0]
    log(f"  load: 200 sessions x {LOAD_SECS:.0f}s, {stats['messages']} messages, "
        f"RSS start {rss[0] if rss else 0} KiB, peak {peak} KiB")
    expect(peak < 256 * 1024, f"peak RSS {peak} KiB")
    expect(max(half) <= max(rss[: max(1, len(rss) // 2)]) * 1.5 + 16 * 1024, f"RSS kept growing: {rss[::10]}")


# --------------------------------------------------------------------------


def main():
    for b in (SMTP_SEND, POP3_FETCH, MAILD):
        if not os.access(b, os.X_OK):
            log(f"missing binary {b}")
            sys.exit(1)
    make_cert()
    dc = Dovecot()
    pf = Postfix(dc)
    try:
        dc.start()
        pf.start()
    except Exception as e:  # noqa: BLE001
        log(f"FAIL peers: {e}")
        sys.exit(1)

    postfix_checks(pf)
    dovecot_checks(dc)

    retry = ["--retry-first", "1s", "--retry-interval", "1s", "--give-up", "2m", "--connect-timeout", "3s"]
    m = Maild("m", "m.test", {"amy@m.test": "amy-secret", "ben@m.test": "ben-secret"})
    b = Maild("b", "b.test", {"bob@b.test": "bob-secret"})
    # The smart hosts' certificates are verified against the test CA (--relay-ca).
    a = Maild("a", "a.test", {"alice@a.test": "alice-secret"},
              ["--relay-host", f"127.0.0.1:{b.ports['smtp']}", "--relay-ca", CA_CERT, *retry])
    p = Maild("p", "p.test", {"pat@p.test": "pat-secret"},
              ["--relay-host", f"127.0.0.1:{pf.mx}", "--relay-ca", CA_CERT, *retry])
    k = Maild("k", "k.test", {"kim@k.test": "kim-secret"})
    started = True
    for d in (m, b, a, p, k):
        try:
            d.start()
        except Exception as e:  # noqa: BLE001
            log(f"FAIL maild {d.name} start: {e}")
            started = False
    if started:
        maild_client_checks(m)
        check("dovecot: serves the Maildir maild wrote (imaplib: messages byte-exact, \\Seen from maild's POP3)",
              lambda: dovecot_reads_maild(m, dc))
        check("e2e: smtp-send -> maild A submission -> queue -> maild B -> pop3-fetch, byte-exact + trace fields",
              lambda: end_to_end(a, b))
        check("e2e: B down at first, A retries and delivers once B is up", lambda: retry_later(a, b))
        check("e2e: B refuses the recipient, the sender gets an RFC 3464 bounce", lambda: bounce(a))
        check("e2e: maild's queue runner delivers to Postfix smtpd (STARTTLS, certificate verified)", lambda: relay_to_postfix(p, pf))
        check("safety: SMTP smuggling sequences never produce a second message", lambda: smuggling(m))
        check("safety: commands injected after STARTTLS/STLS are discarded", lambda: starttls_injection(m))
        check("safety: kill -9 during 50 concurrent clients loses no acknowledged message",
              lambda: kill9_during_load(k))
        check(f"load: 200 concurrent SMTP sessions for {LOAD_SECS:.0f}s, no errors, bounded RSS",
              lambda: concurrent_load(k))
    else:
        global failed
        failed += 1


def cleanup():
    t0 = time.monotonic()
    for fn in reversed(cleanups):
        try:
            fn()
        except Exception:  # noqa: BLE001
            pass
    log(f"peers stopped ({time.monotonic() - t0:.1f}s)")
    if os.environ.get("MAIL_INTEROP_KEEP") == "1":
        log(f"kept {T}")
    else:
        shutil.rmtree(T, ignore_errors=True)


if __name__ == "__main__":
    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        main()
    except KeyboardInterrupt:
        failed += 1
        log("interrupted")
    finally:
        cleanup()
    log(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
