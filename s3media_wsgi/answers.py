"""The one place an exception becomes an answer: status, public message, ``Retry-After``, log level.

The resize side (plain text) and the upload routes (JSON) both call
:func:`answer_for`, so a storage outage or a full decode queue is told the
same way on both, with the same ``Retry-After``.

    >>> from s3media_wsgi.errors import StorageUnavailable, NotAnImage
    >>> answer_for(StorageUnavailable("bucket unreachable"), 17)[:4]
    (503, 'Storage unavailable, try again shortly', 'Storage unavailable, try again shortly', 17)
    >>> answer_for(NotAnImage("That file is not an image."), 17).shown
    'That file is not an image.'
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from .errors import MediaError

#: Seconds a client is told to wait (``Retry-After``) after a temporary failure with no hint of its own,
#: unless the middleware is given another (``retry_after=``).
DEFAULT_RETRY_AFTER = 5


class Answer(NamedTuple):
    """How to answer an exception.

    ``public`` is the short text a stranger gets (the resize side's body);
    ``shown`` what the upload routes put in ``{"error"}`` (the exception's own
    message when the error's class says ``shown``, else ``public``); ``retry_after``
    the seconds of ``Retry-After`` (None: no header); ``level`` the
    :mod:`logging` level to log it at (``logging.ERROR`` with a traceback for
    a bug: anything not a :class:`~s3media_wsgi.errors.MediaError`).
    """

    status: int
    public: str
    shown: str
    retry_after: int | None
    level: int
    #: Log the traceback too (a bug, or a 500 that is not storage's).
    traceback: bool = False


def answer_for(exc: BaseException, retry_after: int) -> Answer:
    """The answer to *exc*; *retry_after* is the configured ``Retry-After`` for a temporary failure.

    Read from the error's class attributes only (see
    :mod:`s3media_wsgi.errors`): ``status_code``, ``public_message``,
    ``shown``, ``temporary``, ``retry_after``, ``log_traceback``.  A
    temporary failure (storage unreachable, a full queue, no decode slot)
    carries ``Retry-After``: the error's own hint when it has one (a
    circuit's remaining wait, a queue's 1 s), else *retry_after*; it is
    logged as a warning.  Another 5xx is logged as an error (with its
    traceback unless the class says it names what to fix), a client's
    mistake (4xx) at debug level; anything not a MediaError is a bug: 500,
    logged as an error with its traceback.
    """
    if not isinstance(exc, MediaError):
        public = MediaError.public_message
        return Answer(500, public, public, None, logging.ERROR, traceback=True)
    status, public = exc.status_code, exc.public_message
    shown = str(exc) if exc.shown and str(exc) else public
    if exc.temporary:
        wait = retry_after if exc.retry_after is None else exc.retry_after
        return Answer(status, public, shown, wait, logging.WARNING)
    if status >= 500:
        return Answer(status, public, shown, None, logging.ERROR, traceback=exc.log_traceback)
    return Answer(status, public, shown, None, logging.DEBUG)


__all__ = ["DEFAULT_RETRY_AFTER", "Answer", "answer_for"]
