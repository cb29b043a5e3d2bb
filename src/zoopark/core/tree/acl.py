"""ACL checks, as ZooKeeper's ZooKeeperServer.checkACL / PrepRequestProcessor.fixupACL and its providers."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence

from ..jute.records import ACL, Id
from .javaorder import auth_ordered

SUPER_ID = Id("super", "")
# Plain ints (not Perm flags) on the hot paths: IntFlag arithmetic builds enum members.
READ, WRITE, CREATE, DELETE, ADMIN = 1, 2, 4, 8, 16
# Schemes a client may name in an ACL (ZooKeeper's ProviderRegistry; "world" and "auth" are special).
AUTH_SCHEMES = ("digest", "ip")
DEFAULT_SCHEMES = frozenset(AUTH_SCHEMES)  # registered without an authProvider.N
# Providers whose isAuthenticated() is true: their ids stand in for the "auth" scheme (ip's are not).
_AUTHENTICATED_SCHEMES = frozenset({"digest", "sasl", "x509"})
# KerberosName's parser: a name that does not match it is still valid unless it holds an '@'.
_KERBEROS_NAME = re.compile(r"([^/@]*)(/([^/@]*))?@([^/@]*)")
# The attribute keywords Java's X500Principal parses (besides dotted OIDs).
_X500_KEYWORDS = frozenset({"CN", "C", "L", "S", "ST", "O", "OU", "T", "IP", "STREET", "DC", "DNQUALIFIER", "DNQ",
                            "SURNAME", "GIVENNAME", "INITIALS", "GENERATION", "EMAIL", "EMAILADDRESS", "UID",
                            "SERIALNUMBER"})
_X500_OID = re.compile(r"(?i)(oid\.)?[0-9]+(\.[0-9]+)+")


def digest_of(user_password: str) -> str:
    """'user:password' -> 'user:base64(sha1(user:password))' (DigestAuthenticationProvider.generateDigest)."""
    user = user_password.split(":", 1)[0]
    digest = base64.b64encode(hashlib.sha1(user_password.encode("utf-8")).digest()).decode("ascii")
    return f"{user}:{digest}"


def _ip_valid(spec: str) -> bool:
    try:
        ipaddress.ip_network(spec, strict=False)
    except ValueError:
        return False
    return True


def _ip_matches(client_ip: str, spec: str) -> bool:
    try:
        return ipaddress.ip_address(client_ip) in ipaddress.ip_network(spec, strict=False)
    except ValueError:
        return False


def _x500_valid(name: str) -> bool:
    """X509AuthenticationProvider.isValid: does `new X500Principal(name)` parse? Attribute type=value pairs
    separated by unescaped commas, semicolons or plus signs (quoted values and escapes allowed)."""
    if not name.strip():
        return True  # the empty name
    parts = re.split(r'(?<!\\)[,;+](?=(?:[^"]*"[^"]*")*[^"]*$)', name)
    for part in parts:
        attr, eq, _value = part.partition("=")
        attr = attr.strip()
        if not eq or not (attr.upper() in _X500_KEYWORDS or _X500_OID.fullmatch(attr)):
            return False
    return True


def id_valid(id_: Id, schemes: frozenset[str] = DEFAULT_SCHEMES) -> bool:
    """Whether an ACL id is valid for a registered provider (`schemes`, see ProviderRegistry)."""
    if id_.scheme not in schemes:
        return False
    if id_.scheme == "sasl":  # SASLAuthenticationProvider.isValid: new KerberosName(id) does not throw
        return _KERBEROS_NAME.fullmatch(id_.id) is not None or "@" not in id_.id
    if id_.scheme == "digest":
        parts = id_.id.split(":")
        while parts and parts[-1] == "":  # Java's String.split drops trailing empty strings
            parts.pop()
        return len(parts) == 2
    if id_.scheme == "ip":
        return _ip_valid(id_.id)
    if id_.scheme == "x509":
        return _x500_valid(id_.id)
    return False


def check(acl: Sequence[ACL], perm: int, auth: Sequence[Id]) -> bool:
    """True if one of the session's ids grants `perm` on a node with `acl` (ZooKeeperServer.checkACL)."""
    if not acl:
        return True
    for a in auth:
        if a.scheme == "super":
            return True
    for entry in acl:
        if not entry.perms & perm:
            continue
        scheme, ident = entry.id.scheme, entry.id.id
        if scheme == "world" and ident == "anyone":
            return True
        for a in auth:
            if a.scheme != scheme:
                continue
            if (scheme == "digest" or scheme == "x509") and a.id == ident:
                return True
            if scheme == "ip" and _ip_matches(a.id, ident):
                return True
            if scheme == "sasl" and (a.id == ident or a.id == "super"):  # SASLAuthenticationProvider.matches
                return True
    return False


class InvalidACL(Exception):
    pass


def fixup(acl: Iterable[ACL] | None, auth: Sequence[Id], schemes: frozenset[str] = DEFAULT_SCHEMES) -> tuple[ACL, ...]:
    """The ACL a create / setACL stores: duplicates removed, `auth` expanded to the session's ids; `schemes`
    are those with a registered provider."""
    unique: list[ACL] = []
    for a in acl or ():
        if a not in unique:
            unique.append(a)
    if not unique:
        raise InvalidACL("empty ACL")
    out: list[ACL] = []
    for a in unique:
        scheme = a.id.scheme
        if scheme == "world" and a.id.id == "anyone":
            out.append(a)
        elif scheme == "auth":
            # Only ids of registered providers that say isAuthenticated() (digest, sasl, x509; not ip) stand in for
            # "auth".
            ids = [i for i in auth_ordered(auth) if i.scheme in _AUTHENTICATED_SCHEMES and i.scheme in schemes]
            if not ids:
                raise InvalidACL("auth scheme with no authenticated id")
            out.extend(ACL(a.perms, i) for i in ids)
        elif id_valid(a.id, schemes):
            out.append(a)
        else:
            raise InvalidACL(f"invalid id {scheme}:{a.id.id}")
    return tuple(out)


def redact_digests(acl: Sequence[ACL]) -> list[ACL]:
    """getACL without ADMIN shows digest ids with the hash replaced by 'x'."""
    out = []
    for a in acl:
        if a.id.scheme == "digest":
            user = a.id.id.split(":", 1)[0]
            out.append(ACL(a.perms, Id("digest", user + ":x")))
        else:
            out.append(a)
    return out
