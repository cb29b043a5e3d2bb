"""JAAS login configuration files, as ZooKeeper's servers and clients read them (java.security.auth.login.config).

The format (javax.security.auth.login.ConfigFile):

    Server {
      org.apache.zookeeper.server.auth.DigestLoginModule required
      user_alice="alice-secret"
      user_bob="bob-secret";
    };

A section names a login context; it holds login module entries, each `class flag option=value ...;`. Values are
quoted strings (backslash escapes) or bare words; `//`, `/* */` and `#` start comments. ZooKeeper's server reads
the context `Server` (or the one `zookeeper.sasl.serverconfig` names) and takes every `user_<name>` option of its
entries as a DIGEST-MD5 user and password (SaslServerCallbackHandler). `${...}` property expansion is not done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

USER_PREFIX = "user_"
DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
KRB5_LOGIN_MODULE = "com.sun.security.auth.module.Krb5LoginModule"
JAAS_PROPERTY = "java.security.auth.login.config"
FILE_SIZE_MAX_BYTES = 1 << 20


class JaasError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LoginModule:
    class_name: str
    flag: str
    options: dict[str, str] = field(repr=False)  # may hold passwords: never printed


_TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | "(?P<quoted>(?:[^"\\]|\\.)*)"
  | (?P<word>[^\s{};="/#]+)
  | (?P<punct>[{};=])
''', re.VERBOSE | re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), s, flags=re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, line) for each word, quoted string and punctuation mark."""
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        line = text.count("\n", 0, pos) + 1
        if m is None:
            raise JaasError(f"line {line}: unexpected {text[pos]!r}")
        kind = m.lastgroup
        if kind == "quoted":
            out.append(("value", _unescape(m.group("quoted")), line))
        elif kind in ("word", "punct"):
            out.append((kind, m.group(kind), line))
        pos = m.end()
    return out


def parse(text: str) -> dict[str, list[LoginModule]]:
    """Login context name -> its login modules, in file order. Raises JaasError naming the line."""
    toks = _tokens(text)
    i = 0

    def take(kind: str | None = None, value: str | None = None) -> str:
        nonlocal i
        if i >= len(toks):
            raise JaasError(f"unexpected end of file (expected {value or kind})")
        k, v, line = toks[i]
        if (kind is not None and k != kind) or (value is not None and v != value):
            raise JaasError(f"line {line}: expected {value or kind}, found {v!r}")
        i += 1
        return v

    def peek() -> str | None:
        return toks[i][1] if i < len(toks) else None

    sections: dict[str, list[LoginModule]] = {}
    while i < len(toks):
        name = take("word")
        take("punct", "{")
        modules: list[LoginModule] = []
        while peek() != "}":
            class_name = take("word")
            flag = take("word")
            if flag.lower() not in ("required", "requisite", "sufficient", "optional"):
                raise JaasError(f"{name}: {class_name}: {flag!r} is not a control flag "
                                "(required, requisite, sufficient, optional)")
            options: dict[str, str] = {}
            while peek() != ";":
                key = take("word")
                take("punct", "=")
                if i < len(toks) and toks[i][0] in ("value", "word"):
                    options[key] = toks[i][1]
                    i += 1
                else:
                    take("value")
            take("punct", ";")
            modules.append(LoginModule(class_name, flag.lower(), options))
        take("punct", "}")
        take("punct", ";")
        if name in sections:  # ConfigFile appends the entries of a repeated context
            sections[name].extend(modules)
        else:
            sections[name] = modules
    return sections


def load(path: str | Path) -> dict[str, list[LoginModule]]:
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = f.read(FILE_SIZE_MAX_BYTES + 1)
    except OSError as e:
        raise JaasError(f"cannot read {p}: {e.strerror}") from None
    if len(data) > FILE_SIZE_MAX_BYTES:
        raise JaasError(f"{p}: larger than {FILE_SIZE_MAX_BYTES} bytes")
    try:
        return parse(data.decode("utf-8"))
    except (UnicodeDecodeError, JaasError) as e:
        raise JaasError(f"{p}: {e}") from None


def digest_users(modules: list[LoginModule]) -> dict[str, str]:
    """The DIGEST-MD5 users of a context: each `user_<name>` option of every entry (SaslServerCallbackHandler)."""
    users: dict[str, str] = {}
    for m in modules:
        for key, value in m.options.items():
            if key.startswith(USER_PREFIX):
                users[key[len(USER_PREFIX):]] = value
    return users


def digest_login(modules: list[LoginModule]) -> tuple[str, str] | None:
    """The (username, password) a DigestLoginModule entry logs in with (a client's, or a quorum learner's
    QuorumLearner section), or None: the first entry that has both."""
    for m in modules:
        if "username" in m.options and "password" in m.options:
            return m.options["username"], m.options["password"]
    return None


def jvm_flag_property(flags: str, name: str) -> str | None:
    """The value of `-D<name>=value` in a JVM command line such as SERVER_JVMFLAGS (the last one wins, as in
    Java); quotes around the value are dropped."""
    found = None
    for m in re.finditer(r'''(?:^|\s)-D''' + re.escape(name) + r'''=("[^"]*"|'[^']*'|\S*)''', flags):
        found = m.group(1).strip("\"'")
    return found
