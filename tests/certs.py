"""Certificates for TLS tests, made with `cryptography`: a CA, a server certificate for 127.0.0.1 / localhost,
client certificates (good, expired, signed by a CA nobody trusts), written as PEM and PKCS12 files (and JKS,
through the JDK's keytool, for the files Java reads best from a keystore it made itself).

Keys are EC P-256: quick to make, and both OpenSSL and Java's default cipher suites (ZooKeeper's
ECDHE-ECDSA list) take them.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSWORD = "s3cret-pw"  # every store's password in the tests (never to appear in a log or a four-letter word)
_NAME_KEYS = {"CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "O": NameOID.ORGANIZATION_NAME,
              "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME, "C": NameOID.COUNTRY_NAME,
              "DC": NameOID.DOMAIN_COMPONENT, "emailAddress": NameOID.EMAIL_ADDRESS}


def _write(path: Path, data: bytes) -> None:
    """Replace the file whole: a server starting (or a probe's client) may be reading it while a test writes the
    same file again, and a file truncated mid-rewrite read as an empty trust store once (ZooKeeper: "the
    trustAnchors parameter must be non-empty")."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def name(*rdns: tuple[str, str]) -> x509.Name:
    """An X.500 name from (key, value) pairs in DER order (the most significant first: C, O, OU, CN)."""
    return x509.Name([x509.NameAttribute(_NAME_KEYS[k], v) for k, v in rdns])


@dataclass
class Identity:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()  # issuers after the certificate itself

    def pem(self, path: Path, password: str | None = None) -> Path:
        """Key and certificate chain in one PEM file (ZooKeeper's PEM keystore); the key encrypted when a
        password is given."""
        enc = (serialization.BestAvailableEncryption(password.encode()) if password
               else serialization.NoEncryption())
        key = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
        certs = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.cert, *self.chain))
        _write(path, key + certs)
        return path

    def cert_pem(self, path: Path) -> Path:
        _write(path, self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def key_pem(self, path: Path) -> Path:
        _write(path, self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
        return path

    def pkcs12(self, path: Path, password: str = PASSWORD) -> Path:
        data = pkcs12.serialize_key_and_certificates(
            b"key", self.key, self.cert, list(self.chain),
            serialization.BestAvailableEncryption(password.encode()))
        _write(path, data)
        return path


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def make_ca(common_name: str = "zoopark test CA") -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(("O", "zoopark tests"), ("CN", common_name))
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=1))
            .not_valid_after(_now() + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Identity(key, cert)


def issue(ca: Identity, subject: x509.Name, *, server: bool = False, expired: bool = False) -> Identity:
    """A leaf certificate signed by `ca`: for a server (SAN 127.0.0.1 and localhost) or a client."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now() - datetime.timedelta(days=10 if expired else 1)
    end = _now() - datetime.timedelta(days=2) if expired else _now() + datetime.timedelta(days=30)
    usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False))
    if server:
        b = b.add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
    return Identity(key, b.sign(ca.key, hashes.SHA256()), (ca.cert,))


def keytool_truststore(ca: Identity, path: Path, store_type: str, password: str = PASSWORD) -> Path:
    """A trust store holding `ca` as a trusted certificate entry, made by the JDK's keytool (JKS or PKCS12:
    Java trusts only entries keytool marks as trusted)."""
    pem = ca.cert_pem(path.with_suffix(".ca.pem"))
    path.unlink(missing_ok=True)  # keytool adds to a store that exists
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", str(pem), "-keystore",
                    str(path), "-storetype", store_type, "-storepass", password], check=True, capture_output=True,
                   timeout=60)
    return path


def keytool_keystore(ident: Identity, path: Path, store_type: str, password: str = PASSWORD) -> Path:
    """`ident`'s key and chain in a keystore of `store_type` (JKS or PKCS12), converted by keytool from PKCS12."""
    p12 = ident.pkcs12(path.with_suffix(".src.p12"), password)
    path.unlink(missing_ok=True)
    subprocess.run(["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(p12), "-srcstoretype", "PKCS12",
                    "-srcstorepass", password, "-destkeystore", str(path), "-deststoretype", store_type,
                    "-deststorepass", password, "-destkeypass", password], check=True, capture_output=True,
                   timeout=60)
    return path


@dataclass
class Pki:
    """Everything one TLS test module needs, written under `dir`."""

    dir: Path
    ca: Identity
    server: Identity
    client: Identity  # CN=client,OU=test,O=zoopark
    admin: Identity  # CN=admin,OU=ops,O=zoopark: the x509 super user in tests
    expired: Identity
    untrusted: Identity  # signed by another CA

    @classmethod
    def make(cls, dir: Path) -> Pki:
        ca = make_ca()
        other = make_ca("a CA nobody trusts")
        return cls(dir, ca,
                   issue(ca, name(("O", "zoopark"), ("CN", "localhost")), server=True),
                   issue(ca, name(("O", "zoopark"), ("OU", "test"), ("CN", "client"))),
                   issue(ca, name(("O", "zoopark"), ("OU", "ops"), ("CN", "admin"))),
                   issue(ca, name(("O", "zoopark"), ("OU", "test"), ("CN", "expired")), expired=True),
                   issue(other, name(("O", "zoopark"), ("OU", "test"), ("CN", "stranger"))))

    def path(self, filename: str) -> Path:
        return self.dir / filename

    def server_pem(self) -> dict[str, str]:
        """The ssl.* settings of a server with PEM stores."""
        return {"ssl.keyStore.location": str(self.server.pem(self.path("server.pem"))),
                "ssl.keyStore.type": "PEM",
                "ssl.trustStore.location": str(self.ca.cert_pem(self.path("ca.pem"))),
                "ssl.trustStore.type": "PEM"}

    def server_stores(self, store_type: str) -> dict[str, str]:
        """The ssl.* settings of a server with keytool-made stores of `store_type` (PKCS12 or JKS)."""
        ext = store_type.lower()
        return {"ssl.keyStore.location": str(keytool_keystore(self.server, self.path(f"server.{ext}"), store_type)),
                "ssl.keyStore.password": PASSWORD, "ssl.keyStore.type": store_type,
                "ssl.trustStore.location": str(keytool_truststore(self.ca, self.path(f"trust.{ext}"), store_type)),
                "ssl.trustStore.password": PASSWORD, "ssl.trustStore.type": store_type}

    def client_files(self, ident: Identity, label: str) -> dict[str, str]:
        """kazoo's certfile / keyfile / ca for a client holding `ident`."""
        return {"certfile": str(ident.cert_pem(self.path(f"{label}.crt"))),
                "keyfile": str(ident.key_pem(self.path(f"{label}.key"))),
                "ca": str(self.ca.cert_pem(self.path("ca.pem")))}
