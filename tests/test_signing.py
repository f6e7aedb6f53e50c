import pytest

from s3media_wsgi.errors import ConfigError, InvalidSignature
from s3media_wsgi.signing import ResizeSigner, secret_keys

A, B = "first-secret-0123456789-abcdefghij", "second-secret-0123456789-abcdefghijklmn"


def test_sign_is_32_lowercase_hex_and_deterministic():
    s = ResizeSigner(A)
    sig = s.sign("hello")
    assert len(sig) == 32 and sig == sig.lower() and int(sig, 16) >= 0
    assert ResizeSigner(A).sign("hello") == sig
    assert ResizeSigner(B).sign("hello") != sig


def test_first_key_signs_every_key_verifies():
    old = ResizeSigner(A)
    rotated = ResizeSigner([B, A])
    assert rotated.sign("m") == ResizeSigner(B).sign("m")
    assert rotated.verify("m", old.sign("m"))
    assert rotated.verify("m", rotated.sign("m"))
    assert not old.verify("m", rotated.sign("m"))


def test_verify_rejects_tampering():
    s = ResizeSigner(A)
    sig = s.sign("m")
    assert not s.verify("m2", sig)
    assert not s.verify("m", sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert not s.verify("m", sig.upper())
    assert not s.verify("m", "")
    assert not s.verify("m", "é" * 32)
    with pytest.raises(InvalidSignature):
        s.check("m", "0" * 32)


def test_salt_separates_purposes():
    assert ResizeSigner(A, salt="one").sign("m") != ResizeSigner(A, salt="two").sign("m")


def test_signature_uses_itsdangerous_key_derivation():
    import hashlib
    import hmac

    from itsdangerous import Signer

    derived = Signer(A, salt="s3media_wsgi.resize.v1", digest_method=hashlib.sha256, key_derivation="hmac").derive_key()
    expected = hmac.new(derived, b"m", hashlib.sha256).hexdigest()[:32]
    assert ResizeSigner(A).sign("m") == expected


@pytest.mark.parametrize("bad", ["", "short", ["x" * 31], [], [A, "tiny"], None, 12345, [A, 5]])
def test_weak_or_malformed_secret_refused_with_fix(bad):
    with pytest.raises(ConfigError) as info:
        ResizeSigner(bad)
    assert "secret_key" in str(info.value)


def test_secret_keys_accepts_bytes_and_tuples():
    assert secret_keys((A, B.encode())) == [A, B.encode()]


def test_binary_secret_signs_like_its_text_and_random_bytes_work():
    import os

    # os.urandom(32) used to crash with UnicodeDecodeError.
    raw = os.urandom(32)
    signer = ResizeSigner(raw)
    assert signer.verify("m", signer.sign("m"))
    assert ResizeSigner(A.encode()).sign("m") == ResizeSigner(A).sign("m")
    assert ResizeSigner([raw, A]).verify("m", ResizeSigner(A).sign("m"))


@pytest.mark.parametrize(
    "weak, why",
    [
        ("a" * 32, "different characters"),
        ("ab" * 20, "different characters"),
        (" " * 40, "whitespace"),
        ("-" * 64, "different characters"),
        (A + "\n", "whitespace"),
        ("  " + A, "whitespace"),
        (b"\0" * 32, "different bytes"),
        (b"ab" * 16, "different bytes"),
        (bytes(16), "16 bytes"),
    ],
)
def test_guessable_secrets_refused_with_how_to_make_one(weak, why):
    with pytest.raises(ConfigError) as info:
        ResizeSigner([A, weak])
    message = str(info.value)
    assert "secret_key[1]" in message and why in message
    assert "secrets.token_urlsafe" in message
