"""A real RFC 3161 Time-Stamp Authority for the tests: ``openssl ts -reply`` behind a small HTTP
server on 127.0.0.1.

``LocalTsa(folder, ...)`` makes a root CA and a TSA certificate (``extendedKeyUsage =
critical,timeStamping``) with the openssl command line, writes the TSA's ``openssl ts`` config
and serves ``POST /`` (``application/timestamp-query``) by running ``openssl ts -reply`` on the
query as it came. Nothing is faked: the token is what openssl signs.

Variants (keyword arguments):

- ``chain=True``: the config has a ``certs =`` line, so the token also carries the CA
  certificate. rfc3161-client rejects such tokens (``InvalidSetOrdering``): locker must fall
  back to ``openssl ts -verify`` and say so.
- ``mode="down"``: every request is answered ``503`` (a TSA that is out of order).
- ``mode="wrong-nonce"``: the reply is made for a fresh query over the same digest, so its
  nonce is not the one the client sent (a replayed or misrouted answer).
- ``mode="rejection"``: a well-formed TimeStampResp with status ``rejection`` and no token.

The fixtures ``tsa``, ``tsa_chain``, ``tsa_down`` and ``tsa_wrong_nonce`` (see the end of this
file; ``tests/conftest.py`` is not touched, import them in a test module with
``from tests.tsa_server import tsa, ...``) start one per test module and stop it afterwards.
``LocalTsa.requests`` counts the queries each one received.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

TSA_EXTENSIONS = """\
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

# A TimeStampResp with PKIStatusInfo {status rejection (2)} and no token (DER).
REJECTION = bytes.fromhex("3005300302 0102".replace(" ", ""))


def _openssl(*args: str, cwd: Path, data: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], cwd=cwd, input=data, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def make_authority(folder: Path, *, name: str = "Locker Test TSA", chain: bool = False) -> Path:
    """A root CA, a TSA certificate signed by it and the ``openssl ts`` config; returns the config."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", f"/O=Locker Tests/CN={name} Root CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)
    # An RSA key for the TSA, an EC one for the CA: the TSA's certificate is then the longer one, so in
    # a token carrying both (``certs =``) the SET OF certificates is not in DER order, as with many
    # real TSAs: rfc3161-client rejects it (InvalidSetOrdering), openssl reads it.
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes",
             "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/O=Locker Tests/CN={name}", cwd=folder)
    (folder / "tsa.ext").write_text(TSA_EXTENSIONS)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "4096",
             "-days", "3650", "-extfile", "tsa.ext", "-out", "tsa.pem", cwd=folder)
    (folder / "serial").write_text("01\n")
    config = CONFIG.format(dir=folder)
    if chain:
        config += "certs = $dir/ca.pem\n"
    path = folder / "tsa.cnf"
    path.write_text(config)
    return path


class LocalTsa:
    def __init__(self, folder: Path, *, name: str = "Locker Test TSA", chain: bool = False, mode: str = "ok") -> None:
        self.folder = folder
        self.name = name
        self.mode = mode
        self.config = make_authority(folder, name=name, chain=chain)
        self.ca = folder / "ca.pem"
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # serve_forever looks for shutdown() every poll_interval (0.5 s by default, so a stop waited ~0.25 s).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"tsa-{name}", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def start(self) -> LocalTsa:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reply(self, query: bytes) -> bytes:
        """Answer one DER TimeStampReq with openssl (one at a time: openssl updates the serial file)."""
        with self._lock:
            self.requests += 1
            (self.folder / "query.tsq").write_bytes(query)
            if self.mode == "wrong-nonce":
                hex_digest = _sha256_imprint(query)
                _openssl("ts", "-query", "-digest", hex_digest, "-sha256", "-cert", "-out", "query.tsq", cwd=self.folder)
            _openssl("ts", "-reply", "-config", str(self.config), "-queryfile", "query.tsq", "-out", "reply.tsr",
                     cwd=self.folder)
            return (self.folder / "reply.tsr").read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                query = self.rfile.read(length)
                if tsa.mode == "down":
                    with tsa._lock:
                        tsa.requests += 1
                    self.send_error(503, "out of order")
                    return
                if tsa.mode == "rejection":
                    with tsa._lock:
                        tsa.requests += 1
                    body = REJECTION
                else:
                    try:
                        body = tsa.reply(query)
                    except RuntimeError:
                        self.send_error(400, "bad query")
                        return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # quiet
                pass

        return Handler


SHA256_OID = bytes.fromhex("0609608648016503040201")


def _sha256_imprint(query: bytes) -> str:
    """The SHA-256 digest a DER TimeStampReq asks to stamp (the 32-byte OCTET STRING after the OID)."""
    at = query.index(SHA256_OID) + len(SHA256_OID)
    at = query.index(b"\x04\x20", at) + 2
    return query[at:at + 32].hex()


def _started(tmp_path_factory: pytest.TempPathFactory, folder: str, **kwargs: object) -> Iterator[LocalTsa]:
    server = LocalTsa(tmp_path_factory.mktemp(folder), **kwargs).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    """A working local TSA whose tokens carry only the TSA's own certificate."""
    yield from _started(tmp_path_factory, "tsa", name="Locker Test TSA")


@pytest.fixture(scope="module")
def tsa_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    """A working local TSA whose config has a ``certs =`` line (tokens carry the CA too)."""
    yield from _started(tmp_path_factory, "tsa-chain", name="Locker Chain TSA", chain=True)


@pytest.fixture(scope="module")
def tsa_down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    """A TSA that answers every request with HTTP 503."""
    yield from _started(tmp_path_factory, "tsa-down", name="Locker Down TSA", mode="down")


@pytest.fixture(scope="module")
def tsa_wrong_nonce(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    """A TSA that answers with a token whose nonce is not the one sent."""
    yield from _started(tmp_path_factory, "tsa-nonce", name="Locker Nonce TSA", mode="wrong-nonce")
