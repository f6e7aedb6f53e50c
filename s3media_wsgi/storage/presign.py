"""Presigned GET URLs for a private bucket, made locally, and the same for a whole time window.

botocore signs with the current time, so two pages rendered a second apart
get two different URLs for one object and no browser or CDN cache can reuse
them.  :class:`GetSigner` signs with the start of a time window instead:
every URL of a key made within one window is the same string, and stays valid
for at least ``expires`` seconds after it was made (SigV4 query signing, as S3
documents it; no request is made).  Every URL asks S3 to answer with
``Cache-Control: private, max-age=<expires>`` (``response-cache-control``,
signed with the rest), whatever the object was stored with: the browser may
keep what it fetched for no longer than the URL's least life, and no shared
cache keeps it at all.

    >>> signer = GetSigner("https://photos.s3.eu-west-1.amazonaws.com/", "eu-west-1",
    ...                    lambda: ("AKIDEXAMPLE", "secret", None), expires=3600)
    >>> url = signer.url("a/b.jpg", now=1_700_000_100)
    >>> url == signer.url("a/b.jpg", now=1_700_000_900), url.split("?")[0]
    (True, 'https://photos.s3.eu-west-1.amazonaws.com/a/b.jpg')
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import quote, urlsplit

from ..errors import ConfigError, StorageError

#: S3's longest presigned URL life.
MAX_EXPIRES = 7 * 24 * 3600

#: (access key, secret key, session token or None)
Credentials = tuple[str, str, str | None]

# Controls, quotes, backslashes, ';' and '/', and lone surrogates (they have no UTF-8 form).
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\;/\ud800-\udfff]')


def _q(value: str) -> str:
    return quote(value, safe="-_.~")


@lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def content_disposition(name: str) -> str:
    """``attachment`` with *name* made safe: no quotes, slashes or controls; non-ASCII as RFC 8187 ``filename*``.

    Lone surrogates (an undecodable byte of a file name, ``"\\udcff"``) are dropped too.

    >>> content_disposition('Report "Q1"/2026.pdf')
    'attachment; filename="Report Q12026.pdf"'
    >>> content_disposition("Été.pdf")
    'attachment; filename="Ete.pdf"; filename*=UTF-8\\'\\'%C3%89t%C3%A9.pdf'
    """
    clean = _UNSAFE_NAME.sub("", name).strip()[:200] or "download"
    ascii_name = unicodedata.normalize("NFKD", clean).encode("ascii", "ignore").decode("ascii").strip() or "download"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != clean:
        value += f"; filename*=UTF-8''{quote(clean, safe='')}"
    return value


class GetSigner:
    """Sign GETs of keys under *base_url* (the bucket's REST endpoint) in *region*.

    :param credentials: returns the current ``(access key, secret, token)``
        (temporary credentials refresh; a URL lives no longer than its token).
    :param expires: the least life, in seconds, of a URL when it is made.
    """

    def __init__(self, base_url: str, region: str, credentials: Callable[[], Credentials], expires: int = 3600) -> None:
        if isinstance(expires, bool) or not isinstance(expires, int) or expires < 1:
            raise ConfigError(f"url_expires must be a positive int of seconds, not {expires!r}")
        #: URLs made within one window are the same; a quarter of the life, 1 minute to 1 hour.
        self.window = max(60, min(3600, expires // 4))
        if expires + self.window > MAX_EXPIRES:
            raise ConfigError(
                f"url_expires={expires} is too long: S3 presigned URLs live at most 7 days "
                f"({MAX_EXPIRES - self.window} s leaves room for the {self.window} s window)"
            )
        self.expires = expires
        self.base_url = base_url
        self.region = region
        self._credentials = credentials
        parts = urlsplit(base_url)
        self._host = parts.netloc
        self._path = parts.path

    def window_start(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        return int(now) // self.window * self.window

    def remaining(self, now: float | None = None) -> int:
        """Seconds a URL made *now* stays valid (at least ``expires``)."""
        now = time.time() if now is None else now
        return int(self.window_start(now) + self.expires + self.window - now)

    def url(self, key: str, *, download_name: str | None = None, now: float | None = None) -> str:
        """The presigned GET URL of *key*, the same for the whole current window.

        S3 answers it with ``Cache-Control: private, max-age=<expires>``, and
        with *download_name* (sanitised) as an attachment's file name.
        """
        start = self.window_start(now)
        access_key, secret, token = self._credentials()
        if not all(part.isascii() and part.isprintable() for part in (access_key, secret, token or "")):
            # AWS credentials are ASCII; anything else (an undecodable byte of an
            # environment variable arrives as a lone surrogate) cannot be signed with.
            raise StorageError(
                "the AWS credentials hold characters that are not printable ASCII: check AWS_ACCESS_KEY_ID, "
                "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (or the profile they come from)"
            )
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start))
        scope = f"{amz_date[:8]}/{self.region}/s3/aws4_request"
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{access_key}/{scope}",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(self.expires + self.window),
            "X-Amz-SignedHeaders": "host",
        }
        if token:
            params["X-Amz-Security-Token"] = token
        # The same for the whole window, so at most the life left when the URL is handed out.
        params["response-cache-control"] = f"private, max-age={self.expires}"
        if download_name is not None:
            params["response-content-disposition"] = content_disposition(download_name)
        query = "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(params.items()))
        path = self._path + quote(key, safe="/-_.~")
        canonical = f"GET\n{path}\n{query}\nhost:{self._host}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(
            _signing_key(secret, amz_date[:8], self.region), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        return f"{self.base_url}{quote(key, safe='/-_.~')}?{query}&X-Amz-Signature={signature}"


__all__ = ["MAX_EXPIRES", "Credentials", "GetSigner", "content_disposition"]
