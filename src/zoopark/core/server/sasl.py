"""The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper 3.8 runs it, as a state machine without I/O.

ZooKeeper creates Java's DIGEST-MD5 server with protocol "zookeeper" and server name "zk-sasl-md5" (its
SecurityUtils.createSaslServer), one per connection. The exchange, as captured from ZooKeeper 3.8:

    client: (empty token)
    server: realm="zk-sasl-md5",nonce="<30 random bytes, base64>",charset=utf-8,algorithm=md5-sess
    client: qop=auth,realm=...,username="alice",nonce=...,cnonce=...,nc=00000001,digest-uri="zookeeper/zk-sasl-md5",
            response=<hex>
    server: rspauth=<hex>          (complete: the authorization id is the user name)

The nonce is an input (the adapter draws it from the OS), so the core stays deterministic. Any violation raises
SaslError with Java's message; ZooKeeper then answers AUTHFAILED and closes the connection.

Quorum SASL runs the same mechanism under other names (protocol "zookeeper-quorum", server name and realm
"zk-quorum-sasl-md5"), with the learner as the client: `DigestMD5Server` takes the names as parameters, and
`DigestMD5Client` is the learner's side (Java's DigestMD5Client, as SaslQuorumAuthLearner creates it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Protocol

REALM = "zk-sasl-md5"
PROTOCOL = "zookeeper"
SERVER_NAME = "zk-sasl-md5"
NONCE_BYTES = 30  # Java's DigestMD5Server: 30 random bytes, base64 (40 characters)
TOKEN_MAX_BYTES = 4096  # RFC 2831 §2.1.2: a digest-response is at most 4096 bytes
_NONCE_COUNT = "00000001"


_KERBEROS_NAME = re.compile(r"([^/@]*)(/([^/@]*))?@([^/@]*)")  # ZooKeeper's KerberosName parser


def authorized_id(name: str, default_realm: str, remove_host: bool = False, remove_realm: bool = False) -> str:
    """The sasl id ZooKeeper's SaslServerCallbackHandler gives an authenticated name: its Kerberos short name
    (the DEFAULT auth_to_local rule: the first component, for a name in the default realm), then `/host` and
    `@realm` unless zookeeper.kerberos.remove{Host,Realm}FromPrincipal. A name in another realm matches no rule,
    and ZooKeeper then keeps the whole name; a name without '@' (a DIGEST-MD5 user) stays as it is."""
    m = _KERBEROS_NAME.fullmatch(name)
    if m is None:
        return name
    service, host, realm = m.group(1), m.group(3), m.group(4)
    if realm != default_realm:
        return name
    out = service
    if host is not None and not remove_host:
        out += "/" + host
    if not remove_realm:
        out += "@" + realm
    return out


class SaslError(Exception):
    """The client's token is refused; the message is Java's (it names no password)."""


class SaslMechanism(Protocol):
    """A connection's server-side SASL exchange: DigestMD5Server here, or the adapter's GSSAPI."""

    complete: bool
    authorization_id: str | None  # the authenticated name, once complete

    def evaluate(self, token: bytes) -> bytes | None:
        """The answer to the client's token (None: a null token); raises SaslError to refuse it."""
        ...


def parse_directives(token: bytes) -> dict[str, str]:
    """`key=value` or `key="quoted value"` pairs separated by commas (RFC 2831 §7.1 #rule); a repeated key is
    refused, as Java's DigestMD5Base.parseDirective does."""
    try:
        text = token.decode("utf-8")
    except UnicodeDecodeError:
        raise SaslError("DIGEST-MD5: digest response format violation. Invalid UTF-8.") from None
    out: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:
            raise SaslError("DIGEST-MD5: Invalid token. Directive with no value.")
        key = text[i:eq].strip().lower()
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise SaslError("DIGEST-MD5: Invalid token. Unterminated quoted string.")
            i += 1
            value = "".join(chars)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            value = text[i:end].strip()
            i = end
        if not key:
            raise SaslError("DIGEST-MD5: Invalid token. Empty directive name.")
        if key in out:
            raise SaslError(f"DIGEST-MD5: Peer sent more than one {key} directive")
        out[key] = value
    return out


def _bytes_8859_1(s: str) -> bytes:
    """RFC 2831 §2.1.2.1 (charset=utf-8): a string entirely in ISO 8859-1 is hashed as ISO 8859-1, else UTF-8."""
    try:
        return s.encode("iso-8859-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def _hex_md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def response_value(username: str, realm: str, password: str, nonce: str, cnonce: str, nc: str, qop: str,
                   digest_uri: str, authzid: str | None, a2_prefix: str) -> str:
    """RFC 2831 §2.1.2.1's response-value (md5-sess); `a2_prefix` is "AUTHENTICATE" for the client's
    response and "" for the server's rspauth."""
    a1 = hashlib.md5(_bytes_8859_1(f"{username}:{realm}:{password}"), usedforsecurity=False).digest() \
        + f":{nonce}:{cnonce}".encode("utf-8")
    if authzid:
        a1 += b":" + authzid.encode("utf-8")
    a2 = f"{a2_prefix}:{digest_uri}".encode("utf-8")
    return _hex_md5(f"{_hex_md5(a1)}:{nonce}:{nc}:{cnonce}:{qop}:{_hex_md5(a2)}".encode("ascii"))


class DigestMD5Server:
    """One connection's DIGEST-MD5 exchange: `evaluate(token) -> token` until `complete`.

    `realm`, `protocol`, `server_name`: the client port's by default, the quorum's for quorum SASL.
    `authzid_is_user`: refuse a client that asks to act as someone else (SaslQuorumServerCallbackHandler
    authorizes only an authorization id equal to the authentication id; the client port's handler lets any
    through and uses the user name). A non-empty first token (of at most TOKEN_MAX_BYTES) is ignored and
    answered with the challenge, on the client port and the quorum's alike, as the JDK 17 that runs ZooKeeper
    here does (RFC 2831 §2.2: a server that does not support subsequent authentication proceeds as in initial
    authentication); older JDKs refused it."""

    def __init__(self, users: dict[str, str], nonce: bytes, realm: str = REALM, protocol: str = PROTOCOL,
                 server_name: str = SERVER_NAME, authzid_is_user: bool = False) -> None:
        assert len(nonce) >= 16, "a nonce needs at least 128 bits of randomness"
        self._users = users
        self._realm = realm
        self._protocol = protocol
        self._server_name = server_name
        self._authzid_is_user = authzid_is_user
        self._nonce = base64.b64encode(nonce).decode("ascii")
        self._step = 0
        self.complete = False
        self.authorization_id: str | None = None
        self.user: str | None = None  # the claimed user name once a response arrived (for the log)

    def evaluate(self, token: bytes) -> bytes:
        if self.complete or self._step > 1:
            raise SaslError("DIGEST-MD5: authentication already completed")
        if len(token) > TOKEN_MAX_BYTES:
            raise SaslError(f"DIGEST-MD5: Invalid digest response length. Got:  {len(token)} Expected < "
                            f"{TOKEN_MAX_BYTES}")
        if self._step == 0:
            self._step = 1
            return f'realm="{self._realm}",nonce="{self._nonce}",charset=utf-8,algorithm=md5-sess'.encode("ascii")
        self._step = 2
        return self._verify(parse_directives(token))

    def _verify(self, d: dict[str, str]) -> bytes:
        for key in ("username", "nonce", "cnonce", "nc", "digest-uri", "response"):
            if key not in d:
                raise SaslError(f"DIGEST-MD5: digest response format violation. Missing {key}.")
        username = d["username"]
        self.user = username
        if d.get("charset", "utf-8").lower() != "utf-8":
            raise SaslError("DIGEST-MD5: digest response format violation. Incompatible charset.")
        realm = d.get("realm", "")
        if realm not in (self._realm, ""):
            raise SaslError(f"DIGEST-MD5: digest response format violation. Nonexistent realm: {realm}")
        if d["nonce"] != self._nonce:
            raise SaslError("DIGEST-MD5: digest response format violation. Mismatched nonce.")
        if d["nc"] != _NONCE_COUNT:
            raise SaslError(f"DIGEST-MD5: digest response format violation. Nonce count does not match: {d['nc']}")
        qop = d.get("qop", "auth")
        if qop != "auth":
            raise SaslError(f"DIGEST-MD5: digest response format violation. Invalid QOP: {qop}")
        serv_type, _, host = d["digest-uri"].partition("/")
        if serv_type != self._protocol or host.split("/", 1)[0] != self._server_name:
            raise SaslError(f"DIGEST-MD5: digest response format violation. Nonexistent digest-uri: "
                            f"{d['digest-uri']}")
        password = self._users.get(username)
        if password is None:
            raise SaslError(f"DIGEST-MD5: cannot acquire password for {username} in realm : {realm}")
        authzid = d.get("authzid") or None
        if self._authzid_is_user and authzid is not None and authzid != username:
            raise SaslError(f"DIGEST-MD5: {username} is not authorized to act as {authzid}")
        expected = response_value(username, realm, password, self._nonce, d["cnonce"], d["nc"], qop,
                                  d["digest-uri"], authzid, "AUTHENTICATE")
        if not hmac.compare_digest(expected, d["response"].lower()):
            raise SaslError("DIGEST-MD5: digest response format violation. Mismatched response.")
        rspauth = response_value(username, realm, password, self._nonce, d["cnonce"], d["nc"], qop,
                                 d["digest-uri"], authzid, "")
        self.complete = True
        # ZooKeeper's SaslServerCallbackHandler authorizes anyone who authenticated, under the (Kerberos short
        # form of the) authentication id, whatever authzid the client asked for.
        self.authorization_id = username
        return f"rspauth={rspauth}".encode("ascii")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestMD5Client:
    """The client's side of DIGEST-MD5 (no initial response): `evaluate(challenge)` answers the server's
    digest-challenge with a digest-response, then checks the server's rspauth and is `complete` (returning None,
    as Java's SaslClient does). The user name goes as authzid too, as ZooKeeper's SecurityUtils.createSaslClient
    asks Java's client to do; the response's fields are in Java's order, so the bytes are Java's."""

    def __init__(self, username: str, password: str, cnonce: str, protocol: str, server_name: str) -> None:
        """`cnonce`: the client nonce as sent (the adapter's random bytes in base64, as Java's)."""
        assert cnonce and '"' not in cnonce, "a cnonce is a non-empty token"
        self._username = username
        self._password = password
        self._cnonce = cnonce
        self._digest_uri = f"{protocol}/{server_name}"
        self._step = 0
        self._rspauth = ""
        self.complete = False

    def evaluate(self, challenge: bytes) -> bytes | None:
        if self.complete or self._step > 1:
            raise SaslError("DIGEST-MD5: authentication already completed")
        if len(challenge) > TOKEN_MAX_BYTES:
            raise SaslError(f"DIGEST-MD5: Invalid digest-challenge length. Got: {len(challenge)} Expected < "
                            f"{TOKEN_MAX_BYTES}")
        if self._step == 0:
            self._step = 1
            return self._respond(parse_directives(challenge))
        self._step = 2
        d = parse_directives(challenge)
        if "rspauth" not in d:
            raise SaslError("DIGEST-MD5: Authentication failed. Expecting 'rspauth' authentication success message")
        if not hmac.compare_digest(self._rspauth, d["rspauth"].lower()):
            raise SaslError("DIGEST-MD5: Server's rspauth value does not match what client expects")
        self.complete = True
        return None

    def _respond(self, d: dict[str, str]) -> bytes:
        if "nonce" not in d:
            raise SaslError("DIGEST-MD5: Digest-challenge format violation. Missing nonce.")
        if d.get("algorithm", "").lower() != "md5-sess":
            raise SaslError("DIGEST-MD5: Digest-challenge format violation. Missing or invalid algorithm.")
        if "auth" not in [q.strip().lower() for q in d.get("qop", "auth").split(",")]:
            raise SaslError("DIGEST-MD5: No common protection layer between client and server")
        realm, nonce = d.get("realm", ""), d["nonce"]
        user = self._username
        response = response_value(user, realm, self._password, nonce, self._cnonce, _NONCE_COUNT, "auth",
                                  self._digest_uri, user, "AUTHENTICATE")
        self._rspauth = response_value(user, realm, self._password, nonce, self._cnonce, _NONCE_COUNT, "auth",
                                       self._digest_uri, user, "")
        return (f"charset=utf-8,username={_quoted(self._username)},realm={_quoted(realm)},nonce={_quoted(nonce)},"
                f"nc={_NONCE_COUNT},cnonce={_quoted(self._cnonce)},digest-uri={_quoted(self._digest_uri)},"
                f"maxbuf=65536,response={response},qop=auth,authzid={_quoted(user)}").encode("utf-8")
