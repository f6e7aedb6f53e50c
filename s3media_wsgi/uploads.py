"""Direct uploads' rules: pending and staging keys, S3's multipart limits, and local storage's own uploads.

The browser sends a file to storage itself; the app signs, then confirms (the
workflow: :mod:`s3media_wsgi.direct_uploads`).

The server chooses every key.  A direct upload lands at a *pending* key,
``uploads/<id>`` (``<id>`` a fresh media id with the normalised filename),
never at the key of any media: nothing a client sends can overwrite a stored
file, and until :meth:`Media.confirm_upload <s3media_wsgi.Media.confirm_upload>`
has checked what arrived (size, real type against the declared one, image
limits) and published it at ``<id>/<filename>``, the upload is not media: no
URL or resize of it exists.  A signed form stays valid for a while and S3 lets
it write its key again, so confirm never publishes the pending object itself:
an image is published from the very bytes it checked, any other file is first
copied to a *staging* key only the server writes (:func:`staging_key`, under
``uploads/checking/``, which no id, route or form can name), and that copy is
checked and published.  Abandoned uploads (and staged copies a crash left)
stay under ``uploads/``, which an S3 lifecycle rule expires (see docs/howto/direct-uploads.md);
in development they stay in the folder until deleted.

With :class:`~s3media_wsgi.LocalStorage` the browser posts to the
middleware instead of S3 (:class:`LocalUploads`): the same form fields and
multipart calls, signed with the app's secret, so the same browser code works
with no S3 at all.

    >>> pending_key("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg")
    'uploads/3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg'
    >>> media_id_of("uploads/3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg")
    '3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg'
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlencode

from . import ids
from .bounded import BodyTooShort, copy_exactly, loads_json, read_exactly
from .errors import AlreadyExists, InvalidUpload, NotFound, UploadTooLarge
from .limits import too_large_message
from .signing import HexSigner, Secret
from .storage.base import ObjectInfo, PostTarget, Storage, UploadStorage
from .storage.local import LocalStorage

#: Where pending uploads live.  No media id starts with it (ids start with 8 hex digits).
PENDING_PREFIX = "uploads/"
#: Where confirm stages the copy it checks.  Not a pending key: ``checking`` is no 8 hex digits.
STAGING_PREFIX = PENDING_PREFIX + "checking/"
#: Seconds a signed upload (form or part URL) stays valid.
DEFAULT_UPLOAD_EXPIRES = 600
#: S3's limits on multipart uploads: part numbers, and the smallest part but the last.
MAX_PARTS = 10_000
MIN_PART_SIZE = 5 * 1024 * 1024
#: Largest signed form policy read (ours are under 1 KB).
MAX_POLICY_BYTES = 16 * 1024
#: Salt separating upload signatures from resize signatures made with the same secret.
UPLOAD_SALT = "s3media_wsgi.upload.v1"

# S3 upload ids are long URL-safe strings (never a path: no "..", no "/" first); ours (local) are hex.
_UPLOAD_ID_RE = re.compile(r"[A-Za-z0-9._~+=-][A-Za-z0-9._~+=/-]{0,1023}")
_LOCAL_UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")
_ETAG_RE = re.compile(r'"?[A-Za-z0-9-]{1,128}"?')


def pending_key(media_id: str) -> str:
    """The key a direct upload of *media_id* is made to."""
    return PENDING_PREFIX + ids.parse_id(media_id)


def staging_key(media_id: str) -> str:
    """A fresh key, only the server writes, for the copy of *media_id*'s upload that confirm checks.

    Unique per call (two processes confirming one upload never share one), and
    unreachable from outside: :func:`media_id_of` refuses it, so no route or
    form names it, and the middleware never serves a key under ``uploads/``.

    >>> key = staging_key("3c72aedc/ba25/41e6/a569/406c8f413974/cat.mp4")
    >>> key.startswith("uploads/checking/") and key.endswith("/3c72aedc/ba25/41e6/a569/406c8f413974/cat.mp4")
    True
    """
    return f"{STAGING_PREFIX}{secrets.token_hex(8)}/{ids.parse_id(media_id)}"


def media_id_of(key_or_id: object) -> str:
    """The media id of a pending key (or of an id itself); :class:`InvalidUpload` for anything else.

    Only shapes the library issues pass: a key outside ``uploads/``, or with
    anything but an id after it, is refused before any storage call.
    """
    if isinstance(key_or_id, str):
        candidate = key_or_id[len(PENDING_PREFIX) :] if key_or_id.startswith(PENDING_PREFIX) else key_or_id
        if ids.is_id(candidate):
            return candidate
    raise InvalidUpload(f"not an upload key this app issued: {key_or_id!r}")


def check_upload_id(upload_id: object) -> str:
    """*upload_id* if it has the shape of an upload id, else :class:`InvalidUpload`.

    S3's shape (URL-safe characters, up to 1,024), but never a path: no
    ``..``, no ``/`` first, no control characters.

        >>> check_upload_id("../../etc")
        Traceback (most recent call last):
        ...
        s3media_wsgi.errors.InvalidUpload: not an upload id: '../../etc'
    """
    if isinstance(upload_id, str) and _UPLOAD_ID_RE.fullmatch(upload_id) and ".." not in upload_id:
        return upload_id
    raise InvalidUpload(f"not an upload id: {upload_id!r}")


def check_part_number(part_number: object) -> int:
    """*part_number* as an int in 1..10,000, else :class:`InvalidUpload`."""
    if isinstance(part_number, str) and part_number.isascii() and part_number.isdigit() and len(part_number) < 6:
        part_number = int(part_number)
    if isinstance(part_number, int) and not isinstance(part_number, bool) and 1 <= part_number <= MAX_PARTS:
        return part_number
    raise InvalidUpload(f"part number must be 1..{MAX_PARTS}, not {part_number!r}")


def check_parts(parts: object) -> list[dict[str, object]]:
    """A completion's part list: ``[{"PartNumber": int, "ETag": str}]``, numbers unique and ascending."""
    if not isinstance(parts, list) or not parts or len(parts) > MAX_PARTS:
        raise InvalidUpload("parts must be a non-empty list of {PartNumber, ETag}")
    out: list[dict[str, object]] = []
    for part in parts:
        if not isinstance(part, Mapping):
            raise InvalidUpload("each part must be an object {PartNumber, ETag}")
        number = check_part_number(part.get("PartNumber"))
        etag = part.get("ETag")
        if not isinstance(etag, str) or not _ETAG_RE.fullmatch(etag):
            raise InvalidUpload(f"part {number} has no valid ETag")
        if out and number <= int(str(out[-1]["PartNumber"])):
            raise InvalidUpload("parts must be listed once each, in ascending PartNumber order")
        out.append({"PartNumber": number, "ETag": etag})
    return out


# --- development: the middleware stands in for S3 -----------------------------------------


class LocalUploads:
    """Direct uploads to a :class:`~s3media_wsgi.LocalStorage`, through routes of the middleware.

    It signs what S3 would sign (the form's policy: key, type, size range,
    expiry; each part URL: key, upload id, part number, expiry, and the
    part's size when given) with the app's secret under its own salt, and
    checks it when the browser sends the file, answering as S3 does (204 for
    a form, an ``ETag`` for a part).  Multipart state lives in
    ``<root>/.uploads/<upload id>/``, which no key can reach; upload ids are
    32 hex digits (``secrets.token_hex(16)``), and nothing else is ever
    joined to that path.
    """

    def __init__(self, storage: LocalStorage, secret_key: Secret | Iterable[Secret]) -> None:
        self.storage = storage
        keys = list(secret_key) if not isinstance(secret_key, (str, bytes)) else secret_key
        # The whole HMAC-SHA256, hex, under the upload salt (what S3-like forms carry).
        self._signer = HexSigner(keys, salt=UPLOAD_SALT, length=64)
        self.post_url = storage.base_url + "s3/local/upload"
        self.part_url = storage.base_url + "s3/local/part"
        self._state = storage.root / ".uploads"

    # --- signing ----------------------------------------------------------------

    def _sign(self, message: bytes) -> str:
        return self._signer.sign(message)

    def _verify(self, message: bytes, signature: str) -> bool:
        return self._signer.verify(message, signature)

    # --- the form upload ----------------------------------------------------------------

    def presign_post(
        self, key: str, *, content_type: str, min_bytes: int, max_bytes: int, expires_in: int
    ) -> PostTarget:
        policy = {
            "key": key,
            "content_type": content_type,
            "min": min_bytes,
            "max": max_bytes,
            "expires": int(time.time()) + expires_in,
        }
        encoded = base64.b64encode(json.dumps(policy, sort_keys=True).encode()).decode("ascii")
        fields = {
            "key": key,
            "Content-Type": content_type,
            "policy": encoded,
            "signature": self._sign(encoded.encode("ascii")),
        }
        return PostTarget(self.post_url, fields)

    def receive_post(self, fields: Mapping[str, str], file: IO[bytes], size: int) -> str:
        """Check a posted form against its signed policy and store the file; the key stored.

        Raises :class:`InvalidUpload` (403) for a missing, forged or expired
        policy or a field that differs from it, :class:`UploadTooLarge` (413)
        outside the size range, :class:`AlreadyExists` when the key is taken.
        """
        encoded, signature = fields.get("policy", ""), fields.get("signature", "")
        if not encoded or not signature or not self._verify(encoded.encode("ascii", "replace"), signature):
            raise InvalidUpload("the upload form's policy is missing or its signature does not verify")
        try:
            policy = loads_json(base64.b64decode(encoded, validate=True), max_bytes=MAX_POLICY_BYTES)
        except ValueError:
            raise InvalidUpload("the upload form's policy cannot be read") from None
        if not isinstance(policy, dict) or int(policy.get("expires", 0)) < time.time():
            raise InvalidUpload("the upload form has expired: ask for a new one")
        if fields.get("key") != policy.get("key") or fields.get("Content-Type") != policy.get("content_type"):
            raise InvalidUpload("the upload form's key or Content-Type differs from what was signed")
        if not int(policy["min"]) <= size <= int(policy["max"]):
            raise UploadTooLarge(f"the file is {size} bytes; this upload allows {policy['min']}..{policy['max']}")
        key = media_id_of(policy["key"]) and str(policy["key"])
        try:
            data = read_exactly(file, size)
        except BodyTooShort:
            raise InvalidUpload("the file is shorter than the request said") from None
        if not self.storage.put(key, data, str(policy["content_type"])):
            raise AlreadyExists(f"{key} was uploaded already")
        self._write_type(key, str(policy["content_type"]))
        return key

    # --- multipart ----------------------------------------------------------------

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        upload_id = secrets.token_hex(16)
        folder = self._state / upload_id
        folder.mkdir(parents=True)
        (folder / "upload.json").write_text(json.dumps({"key": key, "content_type": content_type}))
        return upload_id

    def _upload(self, key: str, upload_id: str) -> Path:
        # Ours are secrets.token_hex(16): anything else is refused before it meets a path.
        if not isinstance(upload_id, str) or not _LOCAL_UPLOAD_ID_RE.fullmatch(upload_id):
            raise InvalidUpload(f"not an upload id: {upload_id!r}")
        folder = self._state / upload_id
        try:
            state = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError):
            raise NotFound(f"no upload {upload_id!r}") from None
        if state.get("key") != key:
            raise InvalidUpload(f"upload {upload_id!r} is not an upload of {key!r}")
        return folder

    def presign_upload_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int, *, size: int | None = None
    ) -> str:
        """A signed URL for one part; with *size*, a PUT of any other length is refused."""
        expires = int(time.time()) + expires_in
        query = {"key": key, "uploadId": upload_id, "partNumber": str(part_number), "expires": str(expires)}
        if size is not None:
            query["size"] = str(size)
        return f"{self.part_url}?{urlencode(query | {'signature': self._sign(_part_message(query))})}"

    def receive_part(self, query: Mapping[str, str], body: IO[bytes], size: int, max_bytes: int) -> str:
        """Store one part PUT to a signed part URL; its ETag (quoted, as S3 sends it).

        *size* is the request's ``Content-Length``: exactly that many bytes are
        read (never one more: a plain WSGI server's input is the socket),
        streamed to a temporary file, published under its ETag only when
        whole.  A URL signed for a size refuses any other length.
        """
        key, upload_id = query.get("key", ""), query.get("uploadId", "")
        part_number, expires = query.get("partNumber", ""), query.get("expires", "")
        if not self._verify(_part_message(query), query.get("signature", "")):
            raise InvalidUpload("the part URL's signature does not verify")
        if not expires.isdigit() or int(expires) < time.time():
            raise InvalidUpload("the part URL has expired: ask for a new one")
        number = check_part_number(part_number)
        folder = self._upload(key, upload_id)
        if size > max_bytes:
            raise UploadTooLarge(too_large_message(max_bytes))
        if "size" in query and query["size"] != str(size):
            raise InvalidUpload(f"this part URL was signed for {query['size']} bytes, not {size}")
        # Streamed outside the upload's folder, then moved in whole: an abort
        # (which renames the folder away first) never races a part being written.
        incoming = self._state / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        temporary = incoming / f"{upload_id}-{number}-{secrets.token_hex(4)}"
        try:
            with open(temporary, "xb") as out:
                digest = hashlib.md5(usedforsecurity=False)
                copy_exactly(body, size, cast(IO[bytes], _Hashing(out, digest)))
            etag = digest.hexdigest()
            os.replace(temporary, folder / f"part-{number:05d}-{etag}")
        except BodyTooShort:
            raise InvalidUpload("the part is shorter than the request said") from None
        except FileNotFoundError:
            raise NotFound(f"upload {upload_id!r} was aborted or completed while this part was sent") from None
        finally:
            temporary.unlink(missing_ok=True)
        for old in folder.glob(f"part-{number:05d}-*"):
            if not old.name.endswith(etag):
                old.unlink(missing_ok=True)  # a part uploaded again replaces the first
        return f'"{etag}"'

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, object]]:
        folder = self._upload(key, upload_id)
        parts = []
        for path in sorted(folder.glob("part-*")):
            _, number, etag = path.name.split("-")
            parts.append({"PartNumber": int(number), "ETag": f'"{etag}"', "Size": path.stat().st_size})
        return parts

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[dict[str, object]]) -> str:
        folder = self._upload(key, upload_id)
        state = json.loads((folder / "upload.json").read_text())
        chunks = []
        for part in parts:
            etag = str(part["ETag"]).strip('"')
            path = folder / f"part-{int(str(part['PartNumber'])):05d}-{etag}"
            if not path.is_file():
                raise InvalidUpload(f"part {part['PartNumber']} with ETag {part['ETag']} was not uploaded")
            chunks.append(path.read_bytes())
        if not self.storage.put(key, b"".join(chunks), state["content_type"]):
            raise AlreadyExists(f"{key} was uploaded already")
        self._write_type(key, state["content_type"])
        self._remove(folder)
        return self.storage.url(key)

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        self._remove(self._upload(key, upload_id))

    def _remove(self, folder: Path) -> None:
        """Remove an upload's *folder*: first renamed away (atomic), so a part arriving meanwhile finds no folder."""
        gone = self._state / "incoming" / f"gone-{secrets.token_hex(8)}"
        gone.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(folder, gone)
        except FileNotFoundError:
            return  # removed by a concurrent abort or completion
        shutil.rmtree(gone, ignore_errors=True)

    # --- what arrived ---------------------------------------------------------------

    def _type_path(self, key: str) -> Path:
        return self._state / "types" / hashlib.sha256(key.encode()).hexdigest()

    def _write_type(self, key: str, content_type: str) -> None:
        path = self._type_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content_type)

    def head(self, key: str) -> ObjectInfo:
        """The pending file's size and the type declared when it was uploaded."""
        info = self.storage.head(key)
        try:
            declared = self._type_path(key).read_text()
        except OSError:
            declared = None
        return ObjectInfo(info.size, declared)

    def forget(self, key: str) -> None:
        """Drop what is kept about a pending upload (its declared type)."""
        self._type_path(key).unlink(missing_ok=True)


def _part_message(query: Mapping[str, str]) -> bytes:
    """What a part URL's signature covers: key, upload id, part number, expiry, and the size when bound."""
    names = ("key", "uploadId", "partNumber", "expires") + (("size",) if "size" in query else ())
    return "\n".join(query.get(name, "") for name in names).encode()


class _Hashing:
    """A writer that feeds what it writes to *digest* too."""

    def __init__(self, out: IO[bytes], digest: Any) -> None:
        self.out, self.digest = out, digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)


def upload_target(storage: Storage, secret_key: Secret | Iterable[Secret]) -> UploadStorage | LocalUploads | None:
    """What signs and takes *storage*'s direct uploads: itself when it is an :class:`UploadStorage`,
    a :class:`LocalUploads` for a :class:`~s3media_wsgi.LocalStorage` (it keeps its multipart state in
    that folder: a pairing of two built-ins, not a capability a backend declares), else None (no direct uploads).
    """
    if isinstance(storage, UploadStorage):
        return storage
    if isinstance(storage, LocalStorage):
        return LocalUploads(storage, secret_key)
    return None


__all__ = [
    "DEFAULT_UPLOAD_EXPIRES",
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "PENDING_PREFIX",
    "STAGING_PREFIX",
    "LocalUploads",
    "check_part_number",
    "check_parts",
    "check_upload_id",
    "media_id_of",
    "pending_key",
    "staging_key",
    "upload_target",
]
