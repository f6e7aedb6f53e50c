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


# --- row 17: guessable secrets that are long and varied enough --------------------------------------


@pytest.mark.parametrize(
    "weak, why",
    [
        ("abcdefgh" * 4, "repeats the same 8 characters"),
        ("0123456789abcdef" * 2, "repeats the same 16 characters"),
        ("passwordpassword1234567812345678", "bits of randomness"),
        ("mypasswordmypassword123456781234", "bits of randomness"),
        ("Abcdefghijklmnopqrstuvwxyz012345", "bits of randomness"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaa1234567", "bits of randomness"),
        ("zyxwvutsrqponmlkjihgfedcba987654", "bits of randomness"),
        ("acegikmoqsuwy02468bdfhjlnprtvxz1", "bits of randomness"),
        (b"abcdefgh" * 4, "repeats the same 8 bytes"),
        (bytes(range(32)), "bits of randomness"),
    ],
)
def test_row17_secrets_with_a_short_period_or_little_entropy_are_refused(weak, why):
    with pytest.raises(ConfigError) as info:
        ResizeSigner([A, weak])
    message = str(info.value)
    assert "secret_key[1]" in message and why in message
    assert "secrets.token_urlsafe" in message  # how to make a good one


def test_row17_random_secrets_are_never_refused():
    import base64
    import os
    import secrets

    makers = [
        lambda n: secrets.token_urlsafe(32 + n % 17),
        lambda n: secrets.token_hex(16 + n % 17),
        lambda n: os.urandom(32),
        lambda n: base64.b64encode(os.urandom(24 + n % 9)).decode("ascii"),
        lambda n: base64.urlsafe_b64encode(os.urandom(24 + n % 9)),
    ]
    for make in makers:
        for n in range(2000):
            key = make(n)
            assert secret_keys(key) == [key], key


def test_row17_the_projects_example_secrets_pass():
    for example in (A, B, "demo-secret-0123456789-abcdefghijk", "older-secret-0123456789-klmnopqrst"):
        assert secret_keys(example) == [example]


def test_row17_a_long_secret_is_judged_quickly():
    import time

    start = time.perf_counter()
    for weak in ("ab" * 50_000 + "c", "a" * 100_000 + "b" * 7 + "cdefgh", ("ab" * 1000 + "c") * 50):
        with pytest.raises(ConfigError):
            secret_keys(weak)
    assert time.perf_counter() - start < 2


# --- row 16: a lone surrogate in a secret ---------------------------------------------------------------


@pytest.mark.parametrize("where", [0, 10, 40])
def test_row16_a_secret_with_a_lone_surrogate_is_a_config_error(where):
    key = B[:where] + "\ud800" + B[where:]
    with pytest.raises(ConfigError, match=r"secret_key\[0\] is not valid Unicode text"):
        ResizeSigner(key)
    with pytest.raises(ConfigError, match="not valid Unicode text"):
        secret_keys([A, "\udcff" + B])
