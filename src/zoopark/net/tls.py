"""TLS on the client port, as ZooKeeper 3.8's X509Util / NettyServerCnxnFactory set it up, with Python's ssl.

- `server_context(settings)` builds the server's SSLContext from the ssl.* keys: key and trust stores in PEM,
  PKCS12 or JKS files, clientAuth none / want / need, the protocol and cipher suites (Java's names, as
  ZooKeeper takes them). A bad setting raises TlsConfigError naming the key; no password is ever in a message.
- `TlsSession` is TLS sans I/O (ssl.MemoryBIO): the connection feeds it the socket's bytes and sends what it
  hands back, so one asyncio.Protocol serves plain, TLS and port-unified connections alike, and a failed
  handshake is the connection's to log (peer and reason) and close.
- `looks_like_tls` is the port-unification sniff; `java_subject` prints an X.500 name as Java's
  X500Principal.getName() does: the x509 auth id.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from . import jks

# X509Util.getDefaultCipherSuites for Java 9+ (GCM first), as ZooKeeper 3.8 enables them when
# ssl.ciphersuites is not set.
DEFAULT_CIPHERS_JAVA = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
)
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
_PROTOCOLS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
              "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
# SSLContext.getInstance's generic names: every version the JDK enables by default (1.2 and 1.3).
_GENERIC_PROTOCOLS = {"TLS": ("TLSv1.2", "TLSv1.3"), "SSL": ("TLSv1.2", "TLSv1.3")}
_CLIENT_AUTH = {"none": ssl.CERT_NONE, "want": ssl.CERT_OPTIONAL, "need": ssl.CERT_REQUIRED}
_STORE_TYPES = ("PEM", "PKCS12", "JKS")


class TlsConfigError(Exception):
    """A bad ssl.* setting; the message names the key and never holds a password."""


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """The zookeeper.ssl.* settings of the client port (config.py parses them; names as ZooKeeper's)."""

    key_store_location: str | None = None
    key_store_password: str | None = None
    key_store_type: str | None = None  # None: from the file name's extension, as FileKeyStoreLoader does
    trust_store_location: str | None = None
    trust_store_password: str | None = None
    trust_store_type: str | None = None
    protocol: str = "TLSv1.2"  # ZooKeeper 3.8's X509Util.DEFAULT_PROTOCOL
    enabled_protocols: tuple[str, ...] = ()  # empty: just `protocol`
    ciphersuites: tuple[str, ...] = ()  # Java (IANA) names; empty: ZooKeeper's defaults
    client_auth: str = "need"
    hostname_verification: bool = True  # the quorum's: each end checks the other's certificate names its address

    def __repr__(self) -> str:  # a dataclass repr would print the passwords
        return f"TlsSettings(key_store={self.key_store_location!r}, trust_store={self.trust_store_location!r}, " \
               f"client_auth={self.client_auth!r})"


def store_type(location: str, given: str | None, key: str) -> str:
    """FileKeyStoreLoader: the type given, else from the extension as KeyStoreFileType.fromFilename reads it
    (.pem, .p12, .jks; .bcfks, BouncyCastle's, is not supported here)."""
    if given:
        t = given.strip().upper()
        if t not in _STORE_TYPES:
            raise TlsConfigError(f"{key}: {given!r} is not one of PEM, PKCS12, JKS")
        return t
    ext = Path(location).suffix.lower()
    by_ext = {".pem": "PEM", ".p12": "PKCS12", ".jks": "JKS"}
    if ext not in by_ext:
        raise TlsConfigError(f"{key}: not set, and {location!r} has no .pem, .p12 or .jks extension")
    return by_ext[ext]


def _read(location: str, key: str) -> bytes:
    try:
        return Path(location).read_bytes()
    except OSError as e:
        raise TlsConfigError(f"{key}: cannot read {location}: {e.strerror}") from None


def load_key_store(location: str, kind: str, password: str | None, key: str):
    """(private key, [certificate, its issuers...]) from a keystore file."""
    data = _read(location, key)
    pw = password.encode() if password else None
    try:
        if kind == "PEM":
            priv = serialization.load_pem_private_key(_pem_block(data, b"PRIVATE KEY", key), pw)
            chain = _pem_certificates(data)
        elif kind == "PKCS12":
            priv, cert, extra = pkcs12.load_key_and_certificates(data, pw)
            chain = [cert, *extra] if cert is not None else list(extra)
        else:
            priv, chain = jks.load_key(data, password or "")
    except (ValueError, TypeError, jks.JksError) as e:
        raise TlsConfigError(f"{key}: {location} is not a readable {kind} keystore with that password "
                             f"({type(e).__name__})") from None
    if priv is None or not chain:
        raise TlsConfigError(f"{key}: {location} holds no private key with its certificate")
    return priv, chain


def _pem_block(data: bytes, label: bytes, key: str) -> bytes:
    """The first PEM block whose label ends with `label` (PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY)."""
    for kind in (b"ENCRYPTED " + label, label, b"EC " + label, b"RSA " + label):
        begin, end = b"-----BEGIN " + kind + b"-----", b"-----END " + kind + b"-----"
        start = data.find(begin)
        stop = data.find(end, start)
        if start >= 0 and stop >= 0:
            return data[start:stop + len(end)]
    raise TlsConfigError(f"{key}: the PEM file holds no private key")


def _pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Every CERTIFICATE block of a PEM file that may hold other blocks (a key) too. A block without its END
    line is no block, as ZooKeeper's PemReader (a pattern of whole blocks) reads it: a file cut short inside
    its chain still gives the certificates before the cut."""
    begin, end = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    certs, pos = [], 0
    while (start := data.find(begin, pos)) >= 0:
        stop = data.find(end, start)
        if stop < 0:
            break
        pos = stop + len(end)
        certs.append(x509.load_pem_x509_certificate(data[start:pos]))
    return certs


def load_trust_store(location: str, kind: str, password: str | None, key: str) -> list[x509.Certificate]:
    data = _read(location, key)
    try:
        if kind == "PEM":
            certs = _pem_certificates(data)
        elif kind == "PKCS12":
            _, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
            certs = ([cert] if cert is not None else []) + list(extra)
        else:
            certs = jks.load_trusted(data, password)
    except (ValueError, TypeError, jks.JksError) as e:
        raise TlsConfigError(f"{key}: {location} is not a readable {kind} truststore with that password "
                             f"({type(e).__name__})") from None
    if not certs:
        raise TlsConfigError(f"{key}: {location} holds no certificate")
    return certs


def openssl_cipher(java: str, key: str = "ssl.ciphersuites") -> str:
    """A TLS 1.2 cipher suite's Java (IANA) name as OpenSSL spells it:
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> ECDHE-RSA-AES128-GCM-SHA256."""
    name = java.strip()
    if not name.startswith("TLS_") or "_WITH_" not in name:
        raise TlsConfigError(f"{key}: {java!r} is not a TLS 1.2 cipher suite name (TLS_..._WITH_...)")
    kx, _, rest = name[4:].partition("_WITH_")
    parts = rest.split("_")
    if parts[0] == "AES" and len(parts) == 4:  # AES_128_GCM_SHA256 / AES_256_CBC_SHA384
        bulk = f"AES{parts[1]}" + ("-GCM" if parts[2] == "GCM" else "")
        mac = parts[3]
    elif parts[:2] == ["CHACHA20", "POLY1305"]:
        bulk, mac = "CHACHA20-POLY1305", ""
    else:
        raise TlsConfigError(f"{key}: {java!r} is not a cipher suite zoopark can map to OpenSSL's")
    prefix = {"ECDHE_RSA": "ECDHE-RSA-", "ECDHE_ECDSA": "ECDHE-ECDSA-", "DHE_RSA": "DHE-RSA-", "RSA": ""}.get(kx)
    if prefix is None:
        raise TlsConfigError(f"{key}: {java!r}: key exchange {kx} is not supported")
    return prefix + bulk + (f"-{mac}" if mac else "")


def _versions(settings: TlsSettings) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    names = settings.enabled_protocols or _GENERIC_PROTOCOLS.get(settings.protocol, (settings.protocol,))
    key = "ssl.enabledProtocols" if settings.enabled_protocols else "ssl.protocol"
    versions = []
    for n in names:
        if n not in _PROTOCOLS:
            raise TlsConfigError(f"{key}: {n!r} is not one of {', '.join(_PROTOCOLS)}")
        versions.append(_PROTOCOLS[n])
    return min(versions), max(versions)


def _set_ciphers(ctx: ssl.SSLContext, settings: TlsSettings) -> None:
    """Versions and cipher suites as Java's SSLEngine ends up with them: a version none of the enabled suites
    belongs to is never negotiated. ZooKeeper's default suites are all TLS 1.2 ones, so TLS 1.3 needs TLS 1.3
    suites in ssl.ciphersuites (Python's ssl cannot pick among them: naming any enables OpenSSL's three)."""
    low, high = _versions(settings)
    ciphers = settings.ciphersuites or DEFAULT_CIPHERS_JAVA
    tls13 = [c for c in ciphers if c.strip() in TLS13_SUITES]
    tls12 = [openssl_cipher(c) for c in ciphers if c.strip() not in TLS13_SUITES]
    if not tls13:
        if low > ssl.TLSVersion.TLSv1_2:
            key = "ssl.enabledProtocols" if settings.enabled_protocols else "ssl.protocol"
            raise TlsConfigError(f"{key}: TLSv1.3 only, but ssl.ciphersuites names no TLS 1.3 suite (ZooKeeper "
                                 f"3.8 then refuses every handshake): add {','.join(TLS13_SUITES)}")
        high = min(high, ssl.TLSVersion.TLSv1_2)
    if not tls12:
        low = max(low, ssl.TLSVersion.TLSv1_3)
    else:
        try:
            ctx.set_ciphers(":".join(tls12))
        except ssl.SSLError:
            raise TlsConfigError("ssl.ciphersuites: OpenSSL supports none of these cipher suites") from None
    if low > high:
        raise TlsConfigError("ssl.ciphersuites: none of these suites belongs to an enabled protocol")
    ctx.minimum_version, ctx.maximum_version = low, high


def server_context(settings: TlsSettings) -> ssl.SSLContext:
    """The client port's SSLContext (X509Util.createSSLContextAndOptions, server side)."""
    if not settings.key_store_location:
        raise TlsConfigError("ssl.keyStore.location: a TLS client port needs a keystore")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _set_ciphers(ctx, settings)
    if settings.client_auth not in _CLIENT_AUTH:
        raise TlsConfigError(f"ssl.clientAuth: {settings.client_auth!r} is not one of none, want, need")
    kind = store_type(settings.key_store_location, settings.key_store_type, "ssl.keyStore.type")
    priv, chain = load_key_store(settings.key_store_location, kind, settings.key_store_password,
                                 "ssl.keyStore.location")
    _load_chain(ctx, priv, chain)
    _trust(ctx, settings, ssl.Purpose.CLIENT_AUTH)
    ctx.verify_mode = _CLIENT_AUTH[settings.client_auth]
    ctx.options |= ssl.OP_NO_RENEGOTIATION  # X509Util sets jdk.tls.rejectClientInitiatedRenegotiation
    return ctx


@dataclass(frozen=True, slots=True)
class QuorumTls:
    """The quorum's mutual TLS (QuorumX509Util): `server` for the election and quorum listeners, `client` for
    the connections a server dials; both present the ssl.quorum keystore's certificate."""

    server: ssl.SSLContext
    client: ssl.SSLContext
    hostname_verification: bool


def quorum_contexts(settings: TlsSettings) -> QuorumTls:
    """Both ends' SSLContexts from the ssl.quorum.* settings; errors name ssl.quorum.* keys."""
    if not settings.key_store_location:
        raise TlsConfigError("ssl.quorum.keyStore.location: sslQuorum needs a keystore")
    try:
        server = server_context(settings)
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _set_ciphers(client, settings)
        kind = store_type(settings.key_store_location or "", settings.key_store_type, "ssl.keyStore.type")
        _load_chain(client, *load_key_store(settings.key_store_location or "", kind, settings.key_store_password,
                                            "ssl.keyStore.location"))
        _trust(client, settings, ssl.Purpose.SERVER_AUTH)
    except TlsConfigError as e:
        raise TlsConfigError(str(e).replace("ssl.", "ssl.quorum.")) from None
    # The dialler checks the listener's certificate against the address it dialled; the listener checks the
    # dialler's after the handshake (peer_name_matches), as ZKTrustManager does both.
    client.check_hostname = settings.hostname_verification
    client.verify_mode = ssl.CERT_REQUIRED
    return QuorumTls(server, client, settings.hostname_verification)


def _trust(ctx: ssl.SSLContext, settings: TlsSettings, purpose: ssl.Purpose) -> None:
    if settings.trust_store_location:
        kind = store_type(settings.trust_store_location, settings.trust_store_type, "ssl.trustStore.type")
        trusted = load_trust_store(settings.trust_store_location, kind, settings.trust_store_password,
                                   "ssl.trustStore.location")
        ctx.load_verify_locations(cadata="".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in trusted))
    else:  # Java's default trust managers: the JDK's CA certificates; here the system's
        ctx.load_default_certs(purpose)


def peer_name_matches(cert_der: bytes, address: str, reverse_name: str | None) -> bool:
    """ZKHostnameVerifier as ZKTrustManager uses it on a connecting peer: the certificate names its IP address
    (an IP subjectAltName), else the name its address reverse-resolves to (a DNS subjectAltName, wildcards
    in the first label; the subject's CN when there is no DNS subjectAltName)."""
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
        dns = [d.lower() for d in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        ips, dns = set(), []
    if address in ips:
        return True
    if not reverse_name:
        return False
    if not dns:
        dns = [str(a.value).lower() for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    host = reverse_name.lower()
    for d in dns:
        if d == host or (d.startswith("*.") and "." in host and host.split(".", 1)[1] == d[2:]):
            return True
    return False


def _load_chain(ctx: ssl.SSLContext, priv, chain: list[x509.Certificate]) -> None:
    """SSLContext.load_cert_chain reads files only: hand it the key and chain through an anonymous in-memory
    file (memfd), so an unencrypted key never touches the disk."""
    pem = priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    pem += b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    fd = os.memfd_create("zoopark-key", os.MFD_CLOEXEC)
    try:
        os.write(fd, pem)
        try:
            ctx.load_cert_chain(f"/proc/self/fd/{fd}")
        except ssl.SSLError as e:
            raise TlsConfigError(f"ssl.keyStore.location: the key does not match its certificate ({e.reason})") \
                from None
    finally:
        os.close(fd)


def looks_like_tls(first: bytes) -> bool:
    """Port unification: does a connection's first byte open a TLS handshake record (content type 22)?
    A ZooKeeper frame begins with its length, whose first byte 0x16 would mean a frame of 369 MB (refused
    anyway); a four-letter word begins with a letter."""
    assert first
    return first[0] == 0x16


class TlsSession:
    """One server-side TLS connection over memory buffers: bytes from the socket in, plaintext out; plaintext
    in, bytes for the socket out. SSLError (a failed handshake, a bad record) is the caller's to log and close."""

    __slots__ = ("_in", "_out", "_obj", "handshaken", "peer_closed")

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._obj = ctx.wrap_bio(self._in, self._out, server_side=True)
        self.handshaken = False
        self.peer_closed = False

    def receive(self, data: bytes) -> bytes:
        """Feed the socket's bytes; the plaintext they complete (b"" during the handshake)."""
        self._in.write(data)
        if not self.handshaken:
            try:
                self._obj.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self.handshaken = True
        chunks = []
        while True:
            try:
                chunk = self._obj.read(262144)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.peer_closed = True
                break
            if not chunk:
                break
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def send(self, data: bytes) -> None:
        self._obj.write(data)

    def outgoing(self) -> bytes:
        """What to write to the socket now (handshake messages, alerts, records)."""
        return self._out.read()

    def close_notify(self) -> None:
        try:
            self._obj.unwrap()
        except (ssl.SSLError, ValueError):
            pass

    def peer_certificate(self) -> bytes | None:
        """The client's certificate (DER) once the handshake verified it, else None."""
        return self._obj.getpeercert(binary_form=True) if self.handshaken else None

    def describe(self) -> str:
        cipher = self._obj.cipher()
        return f"{self._obj.version()} {cipher[0] if cipher else '?'}"


# X500Principal.getName() (RFC 2253): the keywords it prints; any other attribute as its OID and #hex DER.
_RFC2253_KEYWORDS = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
                     "2.5.4.11": "OU", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
                     "0.9.2342.19200300.100.1.1": "UID"}
_ESCAPED = set(',+"\\<>;')


def _escape(value: str) -> str:
    """AVA.toRFC2253String's escapes: the specials, leading and trailing spaces, and a '#' after the leading
    spaces (Java escapes that one, not only a '#' in first place)."""
    lead = len(value) - len(value.lstrip(" "))
    trail = len(value.rstrip(" "))
    out = []
    for i, ch in enumerate(value):
        if ch in _ESCAPED or (ch == "#" and i == lead) or (ch == " " and (i < lead or i >= trail)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _der_value(attr: x509.NameAttribute) -> bytes:
    raw = attr.value if isinstance(attr.value, bytes) else attr.value.encode("utf-8")
    tag = attr._type.value if hasattr(attr, "_type") else 12  # the ASN.1 string type; UTF8String by default
    n = len(raw)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + raw


def java_subject(cert_der: bytes) -> str:
    """The certificate's subject as X500Principal.getName() prints it (ZooKeeper's x509 id): RDNs last to
    first, comma-separated, no spaces, RFC 2253 escapes; unknown attributes as OID=#hex."""
    name = x509.load_der_x509_certificate(cert_der).subject
    rdns = []
    for rdn in reversed(list(name.rdns)):
        parts = []
        for attr in rdn:
            oid = attr.oid.dotted_string
            keyword = _RFC2253_KEYWORDS.get(oid)
            if keyword is not None:
                parts.append(f"{keyword}={_escape(str(attr.value))}")
            else:
                parts.append(f"{oid}=#{_der_value(attr).hex()}")
        rdns.append("+".join(parts))
    return ",".join(rdns)
