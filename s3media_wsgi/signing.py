"""Signatures: of resize URLs, upload receipts and local direct uploads, one signer type with a salt each.

HMAC-SHA256 keyed through itsdangerous's key derivation with a salt of our own,
over a canonical message, truncated to 128 bits and written as 32 lowercase hex
characters.  Several secrets may be configured: the first signs, every one
verifies, so a key can be rotated without breaking URLs already handed out.

    >>> s = HexSigner(["first-secret-0123456789-abcdefghij", "older-secret-0123456789-klmnopqrst"])
    >>> sig = s.sign("message")
    >>> len(sig), s.verify("message", sig), s.verify("other", sig)
    (32, True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import math
import string
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
#: Least strength of a secret, in bits, by :func:`estimated_bits`.  Random
#: secrets of the shortest length score well above it (32 random hex digits,
#: the weakest of the usual ones, about 125 and never under 100 in 30,000 tries);
#: hand-made patterns score below it (``"passwordpassword1234567812345678"``: 57).
MIN_SECRET_BITS = 80
#: Characters (or bytes) of a secret :func:`estimated_bits` looks at: enough to
#: reach :data:`MIN_SECRET_BITS` many times over, few enough to judge at once.
ESTIMATE_SPAN = 4096
#: Salt separating resize signatures from any other use of the same secret.
RESIZE_SALT = "s3media_wsgi.resize.v1"
#: Hex characters kept from the HMAC (128 bits).
SIGNATURE_HEX = 32

_HOW = "make one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'` (or pass os.urandom(32) as bytes)"

Secret = str | bytes

# Character classes, and how many characters each holds (punctuation with the space).
_CLASSES = (
    (frozenset(string.digits), 10),
    (frozenset(string.ascii_lowercase), 26),
    (frozenset(string.ascii_uppercase), 26),
    (frozenset(string.punctuation + " "), 33),
)
_ASCII = frozenset().union(*(chars for chars, _ in _CLASSES))
_HEX = (frozenset("0123456789abcdef"), frozenset("0123456789ABCDEF"))
# Steps between neighbouring characters that make a run: "abcd", "9753", "acegi".
_RUN_STEPS = frozenset({-2, -1, 1, 2})
# Fewest characters of a run or a repeat that count as one draw.
_MIN_PATTERN = 4


def _alphabet(text: str) -> int:
    """How many characters *text* was plausibly drawn from: 16 for hex, 62 for letters and digits..."""
    chars = frozenset(text)
    if chars <= frozenset(string.digits):
        return 10
    if any(chars <= hex_digits for hex_digits in _HEX):
        return 16
    size = sum(count for members, count in _CLASSES if chars & members)
    # Anything else (bytes above 127, letters of other scripts): the rest of a byte's values.
    return size + (256 - len(_ASCII) if chars - _ASCII else 0)


def _period(text: str) -> int:
    """The shortest *p* such that *text* is a prefix of its first *p* characters repeated (KMP)."""
    border = [0] * (len(text) + 1)
    k = 0
    for i in range(1, len(text)):
        while k and text[i] != text[k]:
            k = border[k]
        if text[i] == text[k]:
            k += 1
        border[i + 1] = k
    return len(text) - border[len(text)]


def _pattern_length(text: str, i: int) -> int:
    """Length of the pattern at *i*: a run (a constant step) or a repeat of earlier text, if that is 4+ long; else 1.

    Shorter patterns are left out: random strings hold them by chance ("ace", "1a1").
    """
    longest = 1
    if i + _MIN_PATTERN <= len(text):
        step = ord(text[i + 1]) - ord(text[i])
        if step in _RUN_STEPS:
            end = i + 1
            while end + 1 < len(text) and ord(text[end + 1]) - ord(text[end]) == step:
                end += 1
            longest = end - i + 1
    # The longest text starting at i also found starting before i (overlaps allowed: "aaaa").
    size = 0
    while i + size < len(text) and text.find(text[i : i + size + 1], 0, i + size) != -1:
        size += 1
    found = max(longest, size)
    return found if found >= _MIN_PATTERN else 1


def estimated_bits(key: Secret, enough: float = float("inf")) -> float:
    """A rough estimate of how many random bits *key* holds, stopping once it reaches *enough*.

    Every character counts as a draw from the smallest usual alphabet holding
    all of the key's characters (hex, letters and digits...), except that a run
    (``"abcd"``, ``"1234"``, ``"9753"``) or a repeat of earlier text, 4 or more
    characters long, counts as one draw.  Dictionary words are not recognised: this catches lazy patterns, it
    is no measure of a hand-made passphrase.  Only the first
    :data:`ESTIMATE_SPAN` characters are looked at.

        >>> round(estimated_bits("passwordpassword1234567812345678"))
        57
        >>> estimated_bits("4f1c0a9be27d3c58f0e16a2b9d7c4e31") >= MIN_SECRET_BITS
        True
    """
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    text = text[:ESTIMATE_SPAN]
    per_draw = math.log2(max(2, _alphabet(text)))
    bits = 0.0
    i = 0
    while i < len(text) and bits < enough:
        i += _pattern_length(text, i)
        bits += per_draw
    return bits


def _check_secret(key: object, where: str) -> Secret:
    if not isinstance(key, (str, bytes)):
        raise ConfigError(f"{where} is a {type(key).__name__}, expected a str or bytes")
    if isinstance(key, str):
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate: bytes decoded with errors="surrogateescape" (os.environ
            # does), or a "\ud800" escape.  It has no UTF-8 form to sign with.
            raise ConfigError(
                f"{where} is not valid Unicode text (it holds a lone surrogate, such as an undecodable byte "
                f"of an environment variable); {_HOW}"
            ) from None
    unit = "bytes" if isinstance(key, bytes) else "characters"
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{where} has {len(key)} {unit}; use at least {MIN_SECRET_LENGTH}: {_HOW}")
    if isinstance(key, str) and key != key.strip():
        # A newline read from a file or an environment variable: the secret
        # would differ between the processes that strip it and those that don't.
        raise ConfigError(f"{where} starts or ends with whitespace; strip it, or {_HOW}")
    if len(set(key)) < MIN_DISTINCT:
        raise ConfigError(f"{where} is made of only {len(set(key))} different {unit}, which is guessable; {_HOW}")
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    period = _period(text)
    if period <= len(text) // 2:
        raise ConfigError(f"{where} repeats the same {period} {unit} over and over, which is guessable; {_HOW}")
    bits = estimated_bits(key, enough=MIN_SECRET_BITS)
    if bits < MIN_SECRET_BITS:
        raise ConfigError(
            f"{where} is guessable: it holds about {bits:.0f} bits of randomness (a rough estimate, in which a run "
            f"such as 'abcd' or '1234' and a repeat of earlier text count as one character); use one of "
            f"{MIN_SECRET_BITS}+ bits, such as a random one: {_HOW}"
        )
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


class HexSigner:
    """Signs and verifies messages with one or more secrets, under a salt: hex HMAC-SHA256 signatures.

    One type for every signature the library makes, each use with a salt of
    its own: resize URLs (:data:`RESIZE_SALT`, 32 hex characters), upload
    receipts (:mod:`s3media_wsgi.receipts`) and local direct uploads
    (:class:`~s3media_wsgi.uploads.LocalUploads`, the whole 64).

    :param length: hex characters kept of the HMAC (at most 64).
    """

    def __init__(
        self, secret_key: Secret | Sequence[Secret], salt: str = RESIZE_SALT, *, length: int = SIGNATURE_HEX
    ) -> None:
        if not 0 < length <= 64:
            raise ConfigError(f"a signature keeps 1 to 64 hex characters, not {length!r}")
        self.length = length
        # As bytes: a str secret is its UTF-8 encoding (itsdangerous does the same).
        keys = [k.encode("utf-8") if isinstance(k, str) else k for k in secret_keys(secret_key)]
        # itsdangerous does the key derivation (HMAC of the salt with the secret),
        # so our keys are bound to our salt exactly as its own signers' are.
        signer = Signer(keys, salt=salt, digest_method=hashlib.sha256, key_derivation="hmac")
        # Derived once here: signing must stay a pure, cheap computation.
        self._macs = [hmac.new(signer.derive_key(k), digestmod=hashlib.sha256) for k in keys]

    def _signature(self, base: hmac.HMAC, data: bytes) -> str:
        mac = base.copy()
        mac.update(data)
        return mac.hexdigest()[: self.length]

    def sign(self, message: str | bytes) -> str:
        """Signature of *message* (a str is signed as its UTF-8 bytes) with the first (current) key."""
        return self._signature(self._macs[0], message.encode("utf-8") if isinstance(message, str) else message)

    def verify(self, message: str | bytes, signature: str) -> bool:
        """True when *signature* matches *message* under any configured key.

        Every key is tried, and each comparison is constant-time, so timing says
        nothing about how much of a forged signature was right.
        """
        data = message.encode("utf-8") if isinstance(message, str) else message
        given = signature.encode("ascii", "replace")
        ok = False
        for base in self._macs:
            ok |= hmac.compare_digest(self._signature(base, data).encode("ascii"), given)
        return ok

    def check(self, message: str, signature: str) -> None:
        """Raise :class:`InvalidSignature` unless :meth:`verify` passes."""
        if not self.verify(message, signature):
            raise InvalidSignature("resize signature does not verify")


#: The name it had when it signed resize URLs only.
ResizeSigner = HexSigner

__all__ = [
    "ESTIMATE_SPAN",
    "HexSigner",
    "MIN_DISTINCT",
    "MIN_SECRET_BITS",
    "MIN_SECRET_LENGTH",
    "RESIZE_SALT",
    "ResizeSigner",
    "Secret",
    "estimated_bits",
    "secret_keys",
]
