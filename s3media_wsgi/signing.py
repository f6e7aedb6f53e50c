"""Signatures for resize URLs.

HMAC-SHA256 keyed through itsdangerous's key derivation with a salt of our own,
over a canonical message, truncated to 128 bits and written as 32 lowercase hex
characters.  Several secrets may be configured: the first signs, every one
verifies, so a key can be rotated without breaking URLs already handed out.

    >>> s = ResizeSigner(["a" * 32, "b" * 32])
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

#: Shortest secret accepted.  Shorter secrets can be brute-forced offline from a
#: single signed URL.
MIN_SECRET_LENGTH = 32
#: Salt separating resize signatures from any other use of the same secret.
RESIZE_SALT = "s3media_wsgi.resize.v1"
#: Hex characters kept from the HMAC (128 bits).
SIGNATURE_HEX = 32


def secret_keys(secret_key: object) -> list[str]:
    """Validate *secret_key* (a str or a sequence of str) and return it as a list."""
    if isinstance(secret_key, (str, bytes)):
        keys = [secret_key]
    elif isinstance(secret_key, Sequence):
        keys = list(secret_key)
    else:
        raise ConfigError(
            "secret_key must be a string or a list of strings (the first signs, all verify)"
        )
    if not keys:
        raise ConfigError("secret_key is empty: give at least one secret of 32+ characters")
    out = []
    for i, key in enumerate(keys):
        if isinstance(key, bytes):
            key = key.decode("utf-8")
        if not isinstance(key, str):
            raise ConfigError(f"secret_key[{i}] is a {type(key).__name__}, expected a string")
        if len(key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"secret_key[{i}] has {len(key)} characters; use at least "
                f"{MIN_SECRET_LENGTH}, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        out.append(key)
    return out


class ResizeSigner:
    """Signs and verifies canonical resize messages with one or more secrets."""

    def __init__(self, secret_key: str | Sequence[str], salt: str = RESIZE_SALT) -> None:
        keys = secret_keys(secret_key)
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


__all__ = ["MIN_SECRET_LENGTH", "RESIZE_SALT", "ResizeSigner", "secret_keys"]
