"""Every error s3media_wsgi raises derives from :class:`MediaError`.

Each class carries the HTTP status the middleware answers with, and
:func:`s3media_wsgi.answers.answer_for` turns an error into its answer (status,
message, ``Retry-After``, log level) for the resize side and the upload routes
alike, reading only the class attributes below: nowhere else decides.

- ``status_code``: the HTTP status.
- ``public_message``: the short plain-text body a stranger's request gets.
- ``temporary``: retrying later may work (storage unreachable, a full queue):
  answered with ``Retry-After`` (``retry_after``, else the middleware's
  default) and logged as a warning.
- ``shown``: the exception's own message (``str(exc)``) is written for the
  person who uploaded and names no key, path or setting, so an upload page
  may show it (what :meth:`Media.put <s3media_wsgi.Media.put>` refuses:
  :class:`UnsupportedMediaType`, :class:`UploadTooLarge`,
  :class:`ImageTooLarge`, :class:`NotAnImage`; and the upload routes'
  refusals, :class:`InvalidUpload` and :class:`UploadError`).  Otherwise the
  message is for logs and developers and may name keys, paths or settings.
- ``log_traceback``: a server-side failure (5xx, not temporary) is logged
  with its traceback (a bug), or without it (:class:`StorageError`: the
  message names what an operator must fix).

    >>> from s3media_wsgi.errors import MediaError, InvalidSignature
    >>> issubclass(InvalidSignature, MediaError)
    True
    >>> InvalidSignature.status_code
    404
    >>> StorageUnavailable.temporary, NotAnImage.shown, StorageError.shown
    (True, True, False)
"""

from __future__ import annotations


class MediaError(Exception):
    """Root of every error raised by s3media_wsgi."""

    #: HTTP status the middleware answers with when this error escapes a request.
    status_code: int = 500
    #: Body of that response: short, plain text, never a detail a stranger can use.
    public_message: str = "Internal error"
    #: Seconds a client should wait (``Retry-After``) when the failure is temporary;
    #: None: not temporary, or the middleware's default for storage outages.
    retry_after: int | None = None
    #: Retrying later may work: answered with ``Retry-After`` and logged as a warning.
    temporary: bool = False
    #: ``str(exc)`` is written for the person who uploaded (names no key, path or setting):
    #: an upload page may show it; otherwise a page shows ``public_message``.
    shown: bool = False
    #: A server-side failure (5xx, not temporary) is logged with its traceback: a bug.
    log_traceback: bool = True


class ConfigError(MediaError, ValueError):
    """A constructor argument or setting is invalid; the message says what to fix."""


# --- things a stranger can probe: all look the same from outside (404) -------


class NotFound(MediaError, LookupError):
    """The object (original or resize) does not exist in storage."""

    status_code = 404
    public_message = "Not found"


class InvalidId(NotFound, ValueError):
    """A string that is not a well-formed media id (or key) was given."""


class InvalidPath(NotFound):
    """A request path under the prefix is malformed or unsafe."""


class InvalidSignature(NotFound):
    """A resize URL's signature does not verify against any configured key."""


# --- a caller's mistake when building a URL -----------------------------------


class InvalidResize(MediaError, ValueError):
    """Resize parameters are invalid (bad size, mode, quality, format or preset)."""

    status_code = 404
    public_message = "Not found"


# --- signed requests or uploads that cannot be served -------------------------


class UnsupportedMediaType(MediaError, ValueError):
    """An upload's real type (sniffed from its bytes) is not on the allow-list."""

    status_code = 415
    public_message = "Unsupported media type"
    shown = True


class UploadTooLarge(MediaError, ValueError):
    """An upload is larger than ``max_upload_bytes``."""

    status_code = 413
    public_message = "Upload too large"
    shown = True


class ImageTooLarge(MediaError, ValueError):
    """An image exceeds a pixel, side or frame limit; refused before decoding."""

    status_code = 413
    public_message = "Image too large"
    shown = True


class NotAnImage(MediaError, ValueError):
    """A resize was asked of a file that is not a decodable, allowed image."""

    status_code = 422
    public_message = "Not an image"
    shown = True


class InvalidUpload(MediaError, ValueError):
    """A direct upload's key, upload id, part or signed form is not one this app issued, or has expired."""

    status_code = 403
    public_message = "Upload refused"
    shown = True


class UploadRefusedByApp(MediaError, ValueError):
    """The app's ``on_confirm`` hook refused a direct upload; its message is for the uploader.

    Raise it from the hook (``raise UploadRefusedByApp("This file carries a virus.")``):
    the pending upload is deleted and the confirm route answers 422 with the message.
    """

    status_code = 422
    public_message = "Upload refused"
    shown = True


class AlreadyExists(MediaError):
    """A write would have replaced an existing object; nothing was written."""

    status_code = 409
    public_message = "Conflict"


class AlreadyConfirmed(AlreadyExists):
    """A direct upload is confirmed through the route a second time: it is media already.

    The route confirms pending uploads only, so a stranger who read an id in
    a URL gets no URL of the original and no receipt for it.
    """

    public_message = "This upload was confirmed already."


class UploadError(MediaError):
    """A refusal of the upload routes themselves (not the core's): its own status, and a message a page can show.

    The status is the instance's (``UploadError(411, "A Content-Length is
    needed.")``), and so is the public message: the message is written for
    the uploader, never naming a key or a path.

        >>> UploadError(411, "A Content-Length is needed.").status_code
        411
    """

    shown = True

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.public_message = message

    @property
    def status(self) -> int:
        return self.status_code


# --- our side ----------------------------------------------------------------


class StorageError(MediaError):
    """Storage refused the request in a way retrying will not fix.

    A missing bucket, denied access, bad credentials, a full disk: the
    message names what to fix.  Answered 500, not 503, so clients are not
    told to retry something that needs an operator.
    """

    status_code = 500
    public_message = "Storage error"
    log_traceback = False


class StorageUnavailable(StorageError):
    """Storage could not be reached, timed out, failed (5xx), throttled, or is refused for now (open circuit)."""

    status_code = 503
    public_message = "Storage unavailable, try again shortly"
    temporary = True


class Busy(MediaError):
    """Too much image work is waiting already: this request was not queued behind it."""

    status_code = 503
    public_message = "Busy, try again shortly"
    temporary = True
    retry_after = 1


class StorageBusy(StorageUnavailable):
    """Too many media requests are already waiting for storage; this one was not queued."""

    retry_after = 1


__all__ = [
    "AlreadyConfirmed",
    "AlreadyExists",
    "Busy",
    "ConfigError",
    "ImageTooLarge",
    "InvalidId",
    "InvalidPath",
    "InvalidResize",
    "InvalidSignature",
    "InvalidUpload",
    "MediaError",
    "NotAnImage",
    "NotFound",
    "StorageBusy",
    "StorageError",
    "StorageUnavailable",
    "UnsupportedMediaType",
    "UploadError",
    "UploadRefusedByApp",
    "UploadTooLarge",
]
