#!/usr/bin/env python3
"""Checks ftpd with Python's ftplib (a real, independent FTP client).

Usage: ftplib_checks.py MODE HOST PORT USER PASSWORD ROOT [OUTSIDE]

MODE is one of:
  plain    login, LIST, MLSD, RETR/STOR binary and ASCII, REST (both ways),
           rename, delete, directories, SIZE/MDTM, STAT of a large
           directory, passive and active, ABOR during RETR and STOR
  tls      FTP_TLS with PROT P: login, LIST, MLSD, STOR/RETR, passive and active
  tlsreuse FTP_TLS whose data connections resume the control TLS session
           (for a server started with --require-tls); plain login refused
  safety   PORT/EPRT bounce and privileged ports refused, PASV theft from
           127.0.0.2 rejected while the real transfer succeeds, CWD ../..
           and symlinks cannot leave the root, overlong line gets 500

ROOT is the server's root directory on disk (to compare what landed there);
OUTSIDE is a directory beside it that must stay out of reach (safety mode).
Every check prints "PASS name" or "FAIL name: why"; the exit status is 1 if
any check failed.
"""

import ftplib
import hashlib
import io
import os
import socket
import ssl
import sys
import time
import traceback

TIMEOUT = 20
failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print(f"PASS ftplib {name}", flush=True)
    else:
        failures += 1
        print(f"FAIL ftplib {name}: {why}", flush=True)


def check(name):
    """Decorator-free helper: run fn, PASS if it returns None/True, FAIL on exception or False."""

    def run(fn):
        try:
            res = fn()
            if res is False:
                report(name, False, "check returned false")
            else:
                report(name, True)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            report(name, False, f"{type(e).__name__}: {e}")
            traceback.print_exc(file=sys.stderr)
        return fn

    return run


def sha(b):
    return hashlib.sha256(b).hexdigest()


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


def retr(ftp, name, rest=None):
    buf = io.BytesIO()
    ftp.retrbinary(f"RETR {name}", buf.write, rest=rest)
    return buf.getvalue()


def abort(ftp):
    """Sends ABOR during a transfer (plain, no urgent data) and returns the
    reply codes up to the final 2xx."""
    ftp.sock.sendall(b"ABOR\r\n")
    codes = []
    while True:
        codes.append(ftp.getmultiline()[:3])
        if codes[-1].startswith("2") or len(codes) > 3:
            return codes


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's session."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session
            )
        return conn, size


def transfers(ftp, root, tag, blob):
    """STOR/RETR/LIST/MLSD on an open session; `tag` names the mode."""
    name = f"bin-{tag}.dat"

    @check(f"{tag}: STOR binary lands byte-exact")
    def _():
        ftp.storbinary(f"STOR {name}", io.BytesIO(blob))
        with open(os.path.join(root, name), "rb") as f:
            expect(sha(f.read()) == sha(blob), "stored file differs")

    @check(f"{tag}: RETR binary byte-exact")
    def _():
        expect(sha(retr(ftp, name)) == sha(blob), "retrieved data differs")

    @check(f"{tag}: LIST shows the file with its size")
    def _():
        lines = []
        ftp.retrlines("LIST", lines.append)
        hit = [l for l in lines if l.endswith(" " + name)]
        expect(hit, f"{name} not in LIST: {lines}")
        expect(str(len(blob)) in hit[0].split(), f"size missing in {hit[0]!r}")

    @check(f"{tag}: MLSD facts")
    def _():
        facts = dict(ftp.mlsd())
        expect(name in facts, f"{name} not in MLSD")
        expect(facts[name].get("type") == "file", f"type fact {facts[name]}")
        expect(int(facts[name].get("size", -1)) == len(blob), f"size fact {facts[name]}")

    @check(f"{tag}: NLST")
    def _():
        expect(name in ftp.nlst(), "name missing from NLST")


def mode_plain(host, port, user, password, root):
    blob = os.urandom(3 * 1024 * 1024 + 12345)
    ftp = ftplib.FTP(timeout=TIMEOUT)

    @check("plain: connect and login")
    def _():
        ftp.connect(host, port)
        ftp.login(user, password)

    @check("plain: SYST/FEAT/PWD")
    def _():
        ftp.sendcmd("SYST")
        feat = ftp.sendcmd("FEAT")
        expect("MLST" in feat and "REST STREAM" in feat and "EPSV" in feat, feat)
        expect(ftp.pwd() == "/", "pwd not /")

    ftp.set_pasv(True)
    transfers(ftp, root, "passive", blob)
    ftp.set_pasv(False)
    transfers(ftp, root, "active", blob[: 1024 * 1024])
    ftp.set_pasv(True)

    @check("plain: REST before RETR resumes at the offset")
    def _():
        expect(retr(ftp, "bin-passive.dat", rest=1000003) == blob[1000003:], "wrong tail")

    @check("plain: REST before STOR resumes an upload")
    def _():
        with open(os.path.join(root, "resume.dat"), "wb") as f:
            f.write(blob[:500000] + b"garbage that is cut off")
        ftp.storbinary("STOR resume.dat", io.BytesIO(blob[500000:]), rest=500000)
        with open(os.path.join(root, "resume.dat"), "rb") as f:
            expect(sha(f.read()) == sha(blob), "resumed upload differs")

    text = "".join(f"line {i}: some text\n" for i in range(5000))

    @check("plain: STOR ASCII stores local line ends")
    def _():
        ftp.storlines("STOR text.txt", io.BytesIO(text.encode()))
        with open(os.path.join(root, "text.txt"), "rb") as f:
            expect(f.read() == text.encode(), "server file is not the LF text")

    @check("plain: RETR ASCII sends CRLF on the wire")
    def _():
        ftp.voidcmd("TYPE A")
        with ftp.transfercmd("RETR text.txt") as conn:
            chunks = []
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                chunks.append(b)
        ftp.voidresp()
        wire = b"".join(chunks)
        expect(wire == text.replace("\n", "\r\n").encode(), "wire data is not CRLF text")

    @check("plain: retrlines gives the lines back")
    def _():
        lines = []
        ftp.retrlines("RETR text.txt", lines.append)
        expect(lines == text.splitlines(), "lines differ")

    @check("plain: SIZE and MDTM")
    def _():
        # RFC 3659 4: SIZE counts the octets a transfer in the current TYPE
        # would send; ftplib leaves TYPE A in force after retrlines.
        ftp.voidcmd("TYPE I")
        expect(ftp.size("bin-passive.dat") == len(blob), "SIZE in TYPE I")
        ftp.voidcmd("TYPE A")
        crlf = len(text.replace("\n", "\r\n").encode())
        expect(ftp.size("text.txt") == crlf, "SIZE in TYPE A is not the CRLF size")
        ftp.voidcmd("TYPE I")
        r = ftp.sendcmd("MDTM bin-passive.dat")
        expect(r.startswith("213 ") and len(r.split()[1]) == 14, r)

    @check("plain: MKD, CWD, CDUP, RMD")
    def _():
        expect(ftp.mkd("newdir") in ("/newdir", "newdir"), "MKD path")
        ftp.cwd("newdir")
        expect(ftp.pwd() == "/newdir", ftp.pwd())
        ftp.storbinary("STOR inner.bin", io.BytesIO(b"x" * 10))
        expect(os.path.isfile(os.path.join(root, "newdir", "inner.bin")), "inner file")
        ftp.delete("inner.bin")
        ftp.sendcmd("CDUP")
        ftp.rmd("newdir")
        expect(not os.path.exists(os.path.join(root, "newdir")), "dir left")

    @check("plain: RNFR/RNTO rename")
    def _():
        ftp.rename("text.txt", "renamed.txt")
        names = ftp.nlst()
        expect("renamed.txt" in names and "text.txt" not in names, names)
        expect(os.path.isfile(os.path.join(root, "renamed.txt")), "not renamed on disk")

    @check("plain: DELE")
    def _():
        ftp.delete("renamed.txt")
        expect(not os.path.exists(os.path.join(root, "renamed.txt")), "still there")
        try:
            ftp.delete("renamed.txt")
        except ftplib.error_perm as e:
            expect(str(e).startswith("550"), str(e))
        else:
            raise AssertionError("second DELE succeeded")

    @check("plain: STAT of a 5000-entry directory lists it all on the control connection")
    def _():
        # RFC 959 4.1.3: STAT with a path is LIST over the control connection.
        big = os.path.join(root, "statdir")
        os.mkdir(big)
        names = [f"entry-{i:05d}" for i in range(5000)]
        for n in names:
            open(os.path.join(big, n), "wb").close()
        r = ftp.sendcmd("STAT -l statdir")
        lines = r.split("\n")
        expect(lines[0].startswith("213-") and lines[-1].startswith("213 "), lines[0] + lines[-1])
        got = [l.rsplit(" ", 1)[-1] for l in lines[1:-1]]
        expect(got == names, f"{len(got)} entries listed")
        for n in names:
            os.remove(os.path.join(big, n))
        os.rmdir(big)
        ftp.voidcmd("NOOP")

    @check("plain: RETR of a missing file gets 550 and the session goes on")
    def _():
        try:
            retr(ftp, "no-such-file")
        except ftplib.error_perm as e:
            expect(str(e).startswith("550"), str(e))
        else:
            raise AssertionError("RETR succeeded")
        ftp.voidcmd("NOOP")

    @check("plain: ABOR during a large binary RETR: 426, 226, session goes on")
    def _():
        big = os.path.join(root, "abort-big.bin")
        with open(big, "wb") as f:
            f.truncate(256 * 1024 * 1024)  # sparse: more than any socket buffer holds
        try:
            ftp.voidcmd("TYPE I")
            conn = ftp.transfercmd("RETR abort-big.bin")
            expect(len(conn.recv(65536)) > 0, "no data before ABOR")
            codes = abort(ftp)
            conn.close()
            expect(codes == ["426", "226"], f"replies to ABOR: {codes}")
            ftp.voidcmd("NOOP")
            expect(sha(retr(ftp, "bin-passive.dat")) == sha(blob), "RETR after ABOR differs")
        finally:
            os.remove(big)

    @check("plain: ABOR during a binary STOR leaves no file, session goes on")
    def _():
        ftp.voidcmd("TYPE I")
        conn = ftp.transfercmd("STOR aborted.bin")
        conn.sendall(blob[: 1024 * 1024])
        codes = abort(ftp)
        # Only now the client closes: the server must not take that close
        # for the end of the upload.
        conn.close()
        expect(codes == ["426", "226"], f"replies to ABOR: {codes}")
        ftp.voidcmd("NOOP")
        # The temporary file goes when the transfer thread has ended.
        for _ in range(100):
            left = [n for n in os.listdir(root) if "aborted.bin" in n]
            if not left:
                break
            time.sleep(0.05)
        expect(not left, f"aborted upload left {left}")

    @check("plain: QUIT")
    def _():
        expect(ftp.quit().startswith("221"), "no 221")


def mode_tls(host, port, user, password, root, cls=ftplib.FTP_TLS, tag="tls"):
    blob = os.urandom(2 * 1024 * 1024 + 777)
    ftp = cls(context=tls_context(), timeout=TIMEOUT)

    @check(f"{tag}: AUTH TLS, login, PBSZ/PROT P")
    def _():
        ftp.connect(host, port)
        ftp.auth()
        ftp.login(user, password)
        ftp.prot_p()
        expect(isinstance(ftp.sock, ssl.SSLSocket), "control not TLS")

    ftp.set_pasv(True)
    transfers(ftp, root, f"{tag} passive", blob)
    ftp.set_pasv(False)
    transfers(ftp, root, f"{tag} active", blob[:300000])

    @check(f"{tag}: QUIT")
    def _():
        ftp.quit()


def mode_tlsreuse(host, port, user, password, root):
    @check("require-tls: plain USER refused before AUTH TLS")
    def _():
        ftp = ftplib.FTP(timeout=TIMEOUT)
        ftp.connect(host, port)
        try:
            ftp.login(user, password)
        except ftplib.error_perm as e:
            expect(str(e)[:1] == "5", str(e))
        else:
            raise AssertionError("logged in without TLS")
        ftp.close()

    @check("require-tls: PROT C data refused")
    def _():
        ftp = ftplib.FTP_TLS(context=tls_context(), timeout=TIMEOUT)
        ftp.connect(host, port)
        ftp.login(user, password)
        ftp.voidcmd("PBSZ 0")
        ftp.prot_c()
        try:
            ftp.nlst()
        except ftplib.error_perm as e:
            expect(str(e)[:1] == "5", str(e))
        else:
            raise AssertionError("clear data connection allowed")
        ftp.quit()

    mode_tls(host, port, user, password, root, ReusingFTP_TLS, "tls-reuse")


def mode_safety(host, port, user, password, root, outside):
    ftp = ftplib.FTP(timeout=TIMEOUT)
    ftp.connect(host, port)
    ftp.login(user, password)
    blob = os.urandom(1024 * 1024)
    with open(os.path.join(root, "safe.bin"), "wb") as f:
        f.write(blob)

    def refused(cmd, code_prefix="5"):
        try:
            r = ftp.sendcmd(cmd)
        except ftplib.error_perm as e:
            expect(str(e).startswith(code_prefix), str(e))
            return
        raise AssertionError(f"{cmd} accepted: {r}")

    @check("safety: PORT to a third-party address refused")
    def _():
        refused("PORT 10,11,12,13,195,80")

    @check("safety: PORT to a port below 1024 refused")
    def _():
        refused("PORT 127,0,0,1,0,25")

    @check("safety: EPRT to a third-party address refused")
    def _():
        refused("EPRT |1|192.0.2.7|50000|")

    @check("safety: EPRT to a port below 1024 refused")
    def _():
        refused("EPRT |1|127.0.0.1|21|")

    @check("safety: EPRT to a third-party IPv6 address refused")
    def _():
        refused("EPRT |2|2001:db8::1|50000|")

    @check("safety: data connection from 127.0.0.2 to the passive port rejected, real transfer intact")
    def _():
        ftp.voidcmd("TYPE I")
        dhost, dport = ftplib.parse227(ftp.sendcmd("PASV"))
        thief = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        thief.settimeout(TIMEOUT)
        thief.bind(("127.0.0.2", 0))
        thief.connect((dhost, dport))
        real = socket.create_connection((dhost, dport), timeout=TIMEOUT)
        ftp.sendcmd("RETR safe.bin")  # 150 (a preliminary reply)
        got = []
        while True:
            b = real.recv(65536)
            if not b:
                break
            got.append(b)
        real.close()
        ftp.voidresp()
        expect(sha(b"".join(got)) == sha(blob), "real client's data differs")
        stolen = b""
        try:
            while True:
                b = thief.recv(65536)
                if not b:
                    break
                stolen += b
        except (ConnectionResetError, socket.timeout):
            pass
        thief.close()
        expect(stolen == b"", f"thief got {len(stolen)} bytes")

    @check("safety: CWD ../../.. stays at the root")
    def _():
        try:
            ftp.cwd("../../..")
        except ftplib.error_perm:
            pass
        expect(ftp.pwd() == "/", f"pwd {ftp.pwd()}")
        names = ftp.nlst()
        expect("safe.bin" in names, f"not in the root: {names}")
        expect("secret.txt" not in names, "outside directory listed")

    @check("safety: RETR ../outside/secret.txt refused")
    def _():
        try:
            retr(ftp, "../outside/secret.txt")
        except ftplib.error_perm as e:
            expect(str(e).startswith("550"), str(e))
        else:
            raise AssertionError("read a file outside the root")

    @check("safety: symlink to an outside directory cannot be entered or read")
    def _():
        for attempt in (lambda: ftp.cwd("escape"), lambda: retr(ftp, "escape/secret.txt"),
                        lambda: ftp.nlst("escape")):
            try:
                attempt()
            except ftplib.error_perm as e:
                expect(str(e).startswith("550") or str(e).startswith("450"), str(e))
            else:
                raise AssertionError("went through the symlink")
        expect(ftp.pwd() == "/", "cwd moved")

    @check("safety: symlink to an outside file cannot be read or overwritten")
    def _():
        try:
            retr(ftp, "leak.txt")
        except ftplib.error_perm:
            pass
        else:
            raise AssertionError("read through the file symlink")
        try:
            ftp.storbinary("STOR leak.txt", io.BytesIO(b"overwritten"))
        except ftplib.error_perm:
            pass
        try:
            ftp.storbinary("STOR escape/new.txt", io.BytesIO(b"planted"))
        except ftplib.error_perm:
            pass
        with open(os.path.join(outside, "secret.txt"), "rb") as f:
            expect(f.read() == b"outside secret\n", "outside file changed")
        expect(not os.path.exists(os.path.join(outside, "new.txt")), "file planted outside")

    @check("safety: overlong command line gets 500 and the session carries on")
    def _():
        refused("NOOP " + "A" * 20000, "500")
        expect(ftp.sendcmd("NOOP").startswith("200"), "NOOP after overlong line")
        expect(sha(retr(ftp, "safe.bin")) == sha(blob), "transfer after overlong line")

    ftp.quit()


def main():
    if len(sys.argv) < 7:
        print(__doc__, file=sys.stderr)
        return 2
    mode, host, port, user, password, root = sys.argv[1:7]
    port = int(port)
    if mode == "plain":
        mode_plain(host, port, user, password, root)
    elif mode == "tls":
        mode_tls(host, port, user, password, root)
    elif mode == "tlsreuse":
        mode_tlsreuse(host, port, user, password, root)
    elif mode == "safety":
        mode_safety(host, port, user, password, root, sys.argv[7])
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - a crash is a failed check, not a traceback only
        traceback.print_exc()
        print(f"FAIL ftplib script crashed: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
