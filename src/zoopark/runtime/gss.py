"""The server side of SASL GSSAPI (Kerberos, RFC 4752) as Java's GssKrb5Server runs it for ZooKeeper.

This one runs in the adapter, not the core: accepting a Kerberos context reads the keytab and the replay cache.
The core drives it through the same interface as its DIGEST-MD5 machine (`evaluate(token)`, `complete`,
`authorization_id`, SaslError) and keeps every decision (error codes, closing, ids, super users).

The exchange, as captured from ZooKeeper 3.8 with kazoo (pure-sasl):
    client: AP-REQ                   server: AP-REP (mutual authentication; the context is established)
    client: (empty)                  server: wrap([supported layers = 1 (none), max buffer 65536 as 3 bytes])
    client: wrap([chosen layer, max buffer, authzid])
                                     server: (null token); complete, as the client's principal
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..core.server.sasl import SaslError

_NO_SECURITY_LAYER = 1
_MAX_BUFFER_BYTES = 65536  # GssKrb5Server's default receive buffer


def default_realm() -> str:
    """krb5.conf's [libdefaults] default_realm (KRB5_CONFIG's files, else /etc/krb5.conf); "" without one, as
    ZooKeeper's KerberosName has it when Java finds no Kerberos configuration."""
    for path in os.environ.get("KRB5_CONFIG", "/etc/krb5.conf").split(":"):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(1 << 20)
        except OSError:
            continue
        section = ""
        for line in text.splitlines():
            line = line.split("#", 1)[0].split(";", 1)[0].strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
            elif section == "libdefaults":
                m = re.fullmatch(r"default_realm\s*=\s*(\S+)", line)
                if m:
                    return m.group(1)
    return ""


@dataclass(frozen=True, slots=True)
class Acceptor:
    """A JAAS Server section's Krb5LoginModule: the service principal and its keytab."""

    principal: str
    keytab: str

    def __call__(self) -> GssapiServer:
        return GssapiServer(self)


class GssapiServer:
    def __init__(self, acceptor: Acceptor) -> None:
        import gssapi  # only a Kerberos-configured server needs the library (and libkrb5)

        self._gssapi = gssapi
        name = gssapi.Name(acceptor.principal, gssapi.NameType.kerberos_principal)
        try:
            creds = gssapi.Credentials(name=name, usage="accept", store={"keytab": acceptor.keytab})
        except gssapi.exceptions.GSSError as e:
            raise SaslError(f"GSSAPI: no credentials for {acceptor.principal} in {acceptor.keytab}: {e}") from None
        self._ctx = gssapi.SecurityContext(creds=creds, usage="accept")
        self._stage = 0
        self.complete = False
        self.authorization_id: str | None = None
        self.user: str | None = None

    def evaluate(self, token: bytes) -> bytes | None:
        try:
            if self._stage == 0:
                return self._accept(token)
            if self._stage == 1:
                return self._offer_layers(token)
            if self._stage == 2:
                return self._choose_layer(token)
        except self._gssapi.exceptions.GSSError as e:
            raise SaslError(f"GSS initiate failed: {e.gen_message()}") from None
        raise SaslError("GSSAPI: authentication already completed")

    def _accept(self, token: bytes) -> bytes | None:
        if not token:  # Java's acceptSecContext refuses it; MIT would answer with an error token
            raise SaslError("GSS initiate failed: Defective token detected (no token)")
        out = self._ctx.step(token)
        if not self._ctx.complete:
            return out
        self.user = str(self._ctx.initiator_name)
        self._stage = 1
        return out if out else self._offer_layers(b"")

    def _offer_layers(self, token: bytes) -> bytes:
        if token:
            raise SaslError("Handshake expecting no response data from server")
        self._stage = 2
        offer = bytes([_NO_SECURITY_LAYER]) + _MAX_BUFFER_BYTES.to_bytes(3, "big")
        return self._ctx.wrap(offer, False).message

    def _choose_layer(self, token: bytes) -> None:
        self._stage = 3
        data = self._ctx.unwrap(token).message
        if len(data) < 4:
            raise SaslError("GSSAPI: the client's security layer message is too short")
        if not data[0] & _NO_SECURITY_LAYER:
            raise SaslError(f"Client selected unsupported protection: {data[0]}")
        # ZooKeeper's SaslServerCallbackHandler authorizes the authenticated principal under its Kerberos name
        # (short name, /host, @realm: the whole principal unless kerberos.remove*FromPrincipal say otherwise).
        self.authorization_id = self.user
        self.complete = True
        return None
