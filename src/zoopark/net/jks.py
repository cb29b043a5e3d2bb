"""Java KeyStore (JKS) files, read-only: what ZooKeeper's ssl.keyStore.type=JKS / ssl.trustStore.type=JKS take.

No PyPI package for this is kept up (pyjks last released in 2020 and pulls a C extension), and the format is
small: magic 0xFEEDFEED, a version, entries (1: a private key protected by Sun's KeyProtector, with its chain;
2: a trusted certificate), and a SHA-1 over the password, "Mighty Aphrodite" and the rest. The KeyProtector
cipher XORs the PKCS#8 key with SHA-1(password || previous digest) blocks seeded by a 20-byte salt, followed
by SHA-1(password || plaintext) as a check.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from cryptography import x509
from cryptography.hazmat.primitives import serialization

_MAGIC = 0xFEEDFEED
_KEY_PROTECTOR_OID = bytes.fromhex("2b060104012a02110101")  # 1.3.6.1.4.1.42.2.17.1.1
_PRIVATE_KEY, _TRUSTED_CERT = 1, 2


class JksError(Exception):
    """Not a JKS file, a wrong password, or a key protected some other way."""


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-16-be")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise JksError("truncated keystore")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def utf(self) -> str:
        return self.take(self.u16()).decode("utf-8", "replace")

    def cert(self, version: int) -> x509.Certificate:
        if version == 2 and self.utf() != "X.509":
            raise JksError("a certificate that is not X.509")
        try:
            return x509.load_der_x509_certificate(self.take(self.u32()))
        except ValueError:
            raise JksError("an unreadable certificate") from None


def _entries(data: bytes, password: str | None) -> list[tuple[int, bytes, list[x509.Certificate]]]:
    r = _Reader(data)
    if len(data) < 32 or r.u32() != _MAGIC:
        raise JksError("not a JKS keystore")
    version = r.u32()
    if version not in (1, 2):
        raise JksError(f"JKS version {version}")
    out = []
    for _ in range(r.u32()):
        tag = r.u32()
        r.utf()  # alias
        r.take(8)  # creation time
        if tag == _PRIVATE_KEY:
            protected = r.take(r.u32())
            chain = [r.cert(version) for _ in range(r.u32())]
            out.append((tag, protected, chain))
        elif tag == _TRUSTED_CERT:
            out.append((tag, b"", [r.cert(version)]))
        else:
            raise JksError(f"entry type {tag}")
    if password is not None:  # keytool checks the integrity only when given the password
        body, digest = data[:r.pos], r.take(20)
        expected = hashlib.sha1(_password_bytes(password) + b"Mighty Aphrodite" + body).digest()
        if not hmac.compare_digest(digest, expected):
            raise JksError("wrong password or corrupted keystore")
    return out


def _der_item(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, contents, position after) of the DER item at `pos`."""
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    return tag, data[pos:pos + n], pos + n


def _unprotect(protected: bytes, password: str) -> bytes:
    """Sun's KeyProtector.recover: EncryptedPrivateKeyInfo -> PKCS#8 DER."""
    try:
        _, info, _ = _der_item(protected, 0)
        _, algorithm, after = _der_item(info, 0)
        _, oid, _ = _der_item(algorithm, 0)
        _, encrypted, _ = _der_item(info, after)
    except IndexError:
        raise JksError("an unreadable protected key") from None
    if oid != _KEY_PROTECTOR_OID:
        raise JksError("a key not protected by JKS's KeyProtector (a JCEKS store?)")
    if len(encrypted) < 40:
        raise JksError("a protected key too short")
    salt, body, check = encrypted[:20], encrypted[20:-20], encrypted[-20:]
    pw = _password_bytes(password)
    stream, digest = bytearray(), salt
    while len(stream) < len(body):
        digest = hashlib.sha1(pw + digest).digest()
        stream += digest
    plain = bytes(a ^ b for a, b in zip(body, stream, strict=False))
    if not hmac.compare_digest(hashlib.sha1(pw + plain).digest(), check):
        raise JksError("wrong key password")
    return plain


def load_key(data: bytes, password: str):
    """(private key, chain) of the first key entry; ZooKeeper's keystore password is also its key password."""
    for tag, protected, chain in _entries(data, password):
        if tag == _PRIVATE_KEY:
            try:
                key = serialization.load_der_private_key(_unprotect(protected, password), None)
            except ValueError:
                raise JksError("an unreadable private key") from None
            return key, chain
    raise JksError("no private key entry")


def load_trusted(data: bytes, password: str | None) -> list[x509.Certificate]:
    """The trusted certificate entries (as Java's trust managers use a keystore)."""
    return [chain[0] for tag, _, chain in _entries(data, password) if tag == _TRUSTED_CERT]
