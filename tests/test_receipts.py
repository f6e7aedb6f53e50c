"""Upload receipts: signed, short-lived, bound to the uploader when asked."""

from __future__ import annotations

import pytest

from s3media_wsgi.errors import InvalidUpload
from s3media_wsgi.receipts import Receipts

SECRET = "receipt-secret-0123456789-abcdefghij"
OTHER = "another-secret-0123456789-klmnopqrst"
ID = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"


def test_a_receipt_gives_its_id_back() -> None:
    receipts = Receipts(SECRET)
    assert receipts.check(receipts.issue(ID)) == ID


@pytest.mark.parametrize(
    "forge",
    [
        lambda r: r[:-1] + ("0" if r[-1] != "0" else "1"),  # signature changed
        lambda r: r.replace("cat.jpg", "dog.jpg"),  # another id, same signature
        lambda r: r.split(":")[0],  # the bare id
        lambda r: r + ":x",
        lambda r: "x" * 10_000,
        lambda r: r.replace(r.split(":")[1], str(int(r.split(":")[1]) + 3600)),  # a later expiry
    ],
)
def test_a_changed_receipt_is_refused(forge) -> None:
    receipts = Receipts(SECRET)
    with pytest.raises(InvalidUpload):
        receipts.check(forge(receipts.issue(ID)))


def test_binding_and_secret_and_expiry() -> None:
    receipts = Receipts(SECRET, expires_in=60)
    bound = receipts.issue(ID, bound_to="user-1", now=1_000_000)
    assert receipts.check(bound, "user-1", now=1_000_030) == ID
    with pytest.raises(InvalidUpload):
        receipts.check(bound, "user-2", now=1_000_030)
    with pytest.raises(InvalidUpload):
        receipts.check(bound, None, now=1_000_030)
    with pytest.raises(InvalidUpload, match="expired"):
        receipts.check(bound, "user-1", now=1_000_061)
    with pytest.raises(InvalidUpload):
        Receipts(OTHER).check(receipts.issue(ID))
    # Rotation: a receipt signed with the old key still verifies while it is listed.
    assert Receipts([OTHER, SECRET]).check(Receipts(SECRET).issue(ID)) == ID


def test_receipts_do_not_verify_as_resize_signatures() -> None:
    from s3media_wsgi.signing import ResizeSigner

    receipt = Receipts(SECRET).issue(ID)
    media_id, expires, signature = receipt.split(":")
    assert not ResizeSigner(SECRET).verify(f"{media_id}\n{expires}\n", signature)
