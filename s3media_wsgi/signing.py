"""Signatures for resize URLs.

HMAC-SHA256 keyed through itsdangerous's key derivation with a salt of our own,
over a canonical message, truncated to 128 bits and written as 32 lowercase hex
characters.  Several secrets may be configured: the first signs, every one
verifies, so a key can be rotated without breaking URLs already handed out.

    >>> s = ResizeSigner(["first-secret-0123456789-abcdefghij", "older-secret-0123456789-klmnopqrst"])
    >>> sig = s.sign("message")
    >>> len(sig), s.verify("message", sig), s.verify("other", sig)
    (32, True, False)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from itsdangerous import Signer

from .errors import ConfigError, InvalidSignature

#: Shortest secret accepted, in characters (or bytes).  Shorter secrets can be
#: brute-forced offline from a single signed URL.
MIN_SECRET_LENGTH = 32
#: Fewest different characters (or bytes) a secret may be made of: ``"a" * 32``
#: or a row of dashes is long but guessable.  A random secret of 32 characters
#: has around 25; even a 32-digit hex string has 14 or more.
MIN_DISTINCT = 8
#: Salt separating resize signatures from any other use of the same secret.
RESIZE_SALT = "s3media_wsgi.resize.v1"
#: Hex characters kept from the HMAC (128 bits).
SIGNATURE_HEX = 32

_HOW = "make one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'` (or pass os.urandom(32) as bytes)"

Secret = str | bytes


def _check_secret(key: object, where: str) -> Secret:
    if not isinstance(key, (str, bytes)):
        raise ConfigError(f"{where} is a {type(key).__name__}, expected a str or bytes")
    unit = "bytes" if isinstance(key, bytes) else "characters"
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{where} has {len(key)} {unit}; use at least {MIN_SECRET_LENGTH}: {_HOW}")
    if isinstance(key, str) and key != key.strip():
        # A newline read from a file or an environment variable: the secret
        # would differ between the processes that strip it and those that don't.
        raise ConfigError(f"{where} starts or ends with whitespace; strip it, or {_HOW}")
    if len(set(key)) < MIN_DISTINCT:
        raise ConfigError(f"{where} is made of only {len(set(key))} different {unit}, which is guessable; {_HOW}")
    return key


def secret_keys(secret_key: object) -> list[Secret]:
    """Validate *secret_key* (a str, bytes, or a sequence of them) and return it as a list.

    Bytes are used as they are (``os.urandom(32)`` is a good secret); a str is
    used as its UTF-8 encoding, so ``"abc..."`` and ``b"abc..."`` sign alike.

        >>> secret_keys("x" * 32)
        Traceback (most recent call last):
        ...
        s3media_wsgi.errors.ConfigError: secret_key[0] is made of only 1 different characters, which is guessable; ...
    """
    if isinstance(secret_key, (str, bytes)):
        keys: list[object] = [secret_key]
    elif isinstance(secret_key, Sequence):
        keys = list(secret_key)
    else:
        raise ConfigError("secret_key must be a str or bytes, or a list of them (the first signs, all verify); " + _HOW)
    if not keys:
        raise ConfigError(f"secret_key is empty: give at least one secret of {MIN_SECRET_LENGTH}+ characters; {_HOW}")
    return [_check_secret(key, f"secret_key[{i}]") for i, key in enumerate(keys)]


class ResizeSigner:
    """Signs and verifies canonical resize messages with one or more secrets."""

    def __init__(self, secret_key: Secret | Sequence[Secret], salt: str = RESIZE_SALT) -> None:
        # As bytes: a str secret is its UTF-8 encoding (itsdangerous does the same).
        keys = [k.encode("utf-8") if isinstance(k, str) else k for k in secret_keys(secret_key)]
        # itsdangerous does the key derivation (HMAC of the salt with the secret),
        # so our keys are bound to our salt exactly as its own signers' are.
        signer = Signer(keys, salt=salt, digest_method=hashlib.sha256, key_derivation="hmac")
        # Derived once here: signing must stay a pure, cheap computation.
        self._macs = [hmac.new(signer.derive_key(k), digestmod=hashlib.sha256) for k in keys]

    def sign(self, message: str) -> str:
        """Signature of *message* with the first (current) key."""
        mac = self._macs[0].copy()
        mac.update(message.encode("utf-8"))
        return mac.hexdigest()[:SIGNATURE_HEX]

    def verify(self, message: str, signature: str) -> bool:
        """True when *signature* matches *message* under any configured key.

        Every key is tried, and each comparison is constant-time, so timing says
        nothing about how much of a forged signature was right.
        """
        data = message.encode("utf-8")
        given = signature.encode("ascii", "replace")
        ok = False
        for base in self._macs:
            mac = base.copy()
            mac.update(data)
            ok |= hmac.compare_digest(mac.hexdigest()[:SIGNATURE_HEX].encode("ascii"), given)
        return ok

    def check(self, message: str, signature: str) -> None:
        """Raise :class:`InvalidSignature` unless :meth:`verify` passes."""
        if not self.verify(message, signature):
            raise InvalidSignature("resize signature does not verify")


__all__ = ["MIN_DISTINCT", "MIN_SECRET_LENGTH", "RESIZE_SALT", "ResizeSigner", "Secret", "secret_keys"]
