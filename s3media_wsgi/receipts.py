"""Upload receipts: proof that this page's user uploaded a media id, for a form to hand back.

A media id is not a secret: it is in every URL of the file.  So a form that
took a bare id would let anyone attach someone else's media (a private file
included) to their own row.  A confirmed direct upload is answered with a
*receipt* instead: the id's stored value (the id, then what the upload pass
learned: size, placeholder; see :attr:`MediaId.stored <s3media_wsgi.MediaId.stored>`),
an expiry and an HMAC over both (under a salt of its own), optionally bound
to the uploader by a value the ``uploads`` hook returned (a user id, a
session key).  Forms take the receipt and get the :class:`~s3media_wsgi.MediaId`
back, info included, only when the signature, the expiry and the binding all
hold: the info comes from the server and is signed, so a form stores it
without reading storage again.

    >>> receipts = Receipts("receipt-secret-0123456789-abcdefghij")
    >>> media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    >>> receipt = receipts.issue(media_id, bound_to="user-7")
    >>> receipts.check(receipt, bound_to="user-7") == media_id
    True
    >>> receipts.check(receipt, bound_to="user-8")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.InvalidUpload: This upload receipt is not valid here: upload the file again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from . import ids
from .errors import InvalidId, InvalidUpload
from .signing import HexSigner, Secret

#: Seconds a receipt stays valid: long enough to finish filling in a form.
DEFAULT_RECEIPT_EXPIRES = 6 * 3600
#: Salt separating receipts from every other signature made with the same secret.
RECEIPT_SALT = "s3media_wsgi.receipt.v1"
#: Longest receipt accepted: a stored value, an expiry of at most 12 digits, a signature, two separators.
MAX_RECEIPT_LENGTH = ids.MAX_STORED_LENGTH + 160
#: Separates the stored value, the expiry and the signature; never in a stored value.
SEPARATOR = ":"

_REFUSED = "This upload receipt is not valid here: upload the file again."


class Receipts:
    """Issue and check receipts with *secret_key* (a secret or a list; the first signs, all verify)."""

    def __init__(self, secret_key: Secret | Sequence[Secret], expires_in: int = DEFAULT_RECEIPT_EXPIRES) -> None:
        self._signer = HexSigner(secret_key, salt=RECEIPT_SALT)
        self.expires_in = expires_in

    @staticmethod
    def _message(media_id: str, expires: str, bound_to: str | None) -> str:
        return f"{media_id}\n{expires}\n{bound_to or ''}"

    def issue(self, media_id: str, bound_to: str | None = None, *, now: float | None = None) -> str:
        """A receipt for *media_id*, valid :attr:`expires_in` seconds, for *bound_to* only when given.

        *media_id* may be a :class:`~s3media_wsgi.MediaId` (its info goes into
        the receipt, signed), a stored value, or a plain id.
        """
        stored = ids.MediaId.from_stored(media_id).stored
        expires = str(int(now if now is not None else time.time()) + self.expires_in)
        signature = self._signer.sign(self._message(stored, expires, bound_to))
        return SEPARATOR.join((stored, expires, signature))

    def check(self, receipt: object, bound_to: str | None = None, *, now: float | None = None) -> ids.MediaId:
        """The :class:`~s3media_wsgi.MediaId` of *receipt*, with its info; :class:`InvalidUpload` when forged,
        expired, or bound to someone else."""
        if not isinstance(receipt, str) or len(receipt) > MAX_RECEIPT_LENGTH or receipt.count(SEPARATOR) != 2:
            raise InvalidUpload(_REFUSED)
        stored, expires, signature = receipt.split(SEPARATOR)
        if not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
            raise InvalidUpload(_REFUSED)
        if not self._signer.verify(self._message(stored, expires, bound_to), signature):
            raise InvalidUpload(_REFUSED)
        if int(expires) < (now if now is not None else time.time()):
            raise InvalidUpload("This upload receipt has expired: upload the file again.")
        try:
            return ids.MediaId.from_stored(stored)  # signed by this server, still read with every bound
        except InvalidId:
            raise InvalidUpload(_REFUSED) from None


def is_receipt(value: object) -> bool:
    """True when *value* has a receipt's shape (not whether it verifies).

    >>> is_receipt("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg:1700000000:" + "0" * 32)
    True
    >>> is_receipt("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg")
    False
    """
    return isinstance(value, str) and value.count(SEPARATOR) == 2 and len(value) <= MAX_RECEIPT_LENGTH


__all__ = ["DEFAULT_RECEIPT_EXPIRES", "RECEIPT_SALT", "Receipts", "is_receipt"]
