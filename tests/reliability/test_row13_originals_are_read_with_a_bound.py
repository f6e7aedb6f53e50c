"""Row 13: an original is never read past ``max_upload_bytes`` + 1, whatever sits at its key.

A 200 MiB object at an original's key was read whole into memory (+346 MiB)
before the resize was refused.  No upload path can store one (put and confirm
refuse it), but a limit lowered later, another writer of the bucket, or an
operator's copy can.  Each resize path (``create_resize``: redirect delivery,
``fetch_resize``: serve delivery) runs in a fresh interpreter whose peak memory
is measured, against local storage and moto's S3 server over HTTP.  The answer
is :class:`~s3media_wsgi.errors.ImageTooLarge` (413), as for an original over
the pixel limit: the original is beyond what this configuration handles.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3media_wsgi import LocalStorage, S3Storage

SECRET = "row13-secret-0123456789-abcdefghijklm"
MIB = 1024 * 1024
#: The object sitting at the original's key, and the configured upload limit.
HUGE = 120 * MIB
LIMIT = 4 * MIB
MEDIA_ID = "3c72aedc/ba25/41e6/a569/406c8f413974/huge.jpg"


def _huge_jpeg() -> bytes:
    """A JPEG start (so it sniffs as one) followed by *HUGE* bytes of filler."""
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64).ljust(HUGE, b"\x5a")


SNIPPET = """
    import sys
    from s3media_wsgi import LocalStorage, Media, S3Storage
    from s3media_wsgi.errors import MediaError

    kind, where, method = sys.argv[1:4]
    if kind == "local":
        storage = LocalStorage(where, base_url="/media/")
    else:
        endpoint, bucket = where.split(" ")
        storage = S3Storage(bucket, region="us-east-1", endpoint_url=endpoint)
    media = Media(storage, secret_key=%(secret)r, max_upload_bytes=%(limit)d)
    path = media.resize_key(%(media_id)r, "64x")
    baseline()
    try:
        getattr(media, method)(path)
    except MediaError as exc:
        print("refused", exc.status_code, type(exc).__name__)
    else:
        print("made")
"""


@pytest.fixture(params=["local", "s3"])
def where(request: Any, tmp_path: Path) -> tuple[str, str]:
    if request.param == "local":
        storage = LocalStorage(tmp_path / "media")
        assert storage.put(f"{MEDIA_ID}/huge.jpg", _huge_jpeg(), "image/jpeg")
        return "local", str(storage.root)
    endpoint, bucket = request.getfixturevalue("moto_endpoint"), request.getfixturevalue("s3_bucket")
    s3 = S3Storage(bucket, region="us-east-1", endpoint_url=endpoint)
    assert s3.put(f"{MEDIA_ID}/huge.jpg", _huge_jpeg(), "image/jpeg")
    return "s3", f"{endpoint} {bucket}"


@pytest.mark.parametrize("method", ["create_resize", "fetch_resize"])
def test_row13_a_huge_object_at_an_original_key_is_refused_after_a_bounded_read(
    where: tuple[str, str], method: str, peak_rss_mib_of: Callable[..., tuple[float, str]]
) -> None:
    code = SNIPPET % {"secret": SECRET, "limit": LIMIT, "media_id": MEDIA_ID}
    code = "import sys\nsys.argv[1:] = " + repr([where[0], where[1], method]) + "\n" + _dedent(code)
    growth, out = peak_rss_mib_of(code, timeout=120)
    assert growth < LIMIT / MIB * 3 + 16, f"{method} grew by {growth:.0f} MiB reading a {HUGE // MIB} MiB object"
    assert out.strip().splitlines()[-1] == "refused 413 ImageTooLarge"


def _dedent(code: str) -> str:
    import textwrap

    return textwrap.dedent(code)
