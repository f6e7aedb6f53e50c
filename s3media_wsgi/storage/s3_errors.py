"""What an S3 failure means, in one table: read by :class:`~s3media_wsgi.S3Storage` and by the ``s3media`` command.

An S3 error is an error code and an HTTP status; :func:`classify` says which
kind of failure they are, first match wins::

    >>> classify("NoSuchKey", 404), classify("SlowDown", 503), classify("AccessDenied", 403)
    ('not_found', 'unavailable', 'denied')
    >>> classify("NoSuchBucket", 404), classify("PermanentRedirect", 301), classify("Whatever", 400)
    ('no_bucket', 'region', 'error')

The IAM actions the app needs are listed here once: the policy
``s3media setup-bucket`` prints (:func:`s3media_wsgi.bucket.app_iam_policy`)
grants them, and the advice given on a 403 (:func:`denied_advice`) names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

#: Everything the library asks of S3 on objects (HEAD is s3:GetObject; CreateMultipartUpload,
#: UploadPart, CompleteMultipartUpload and CopyObject's write are s3:PutObject; DeleteObjects
#: is s3:DeleteObject), and on the bucket: listing one id's keys to delete them.
APP_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
APP_BUCKET_ACTIONS = ("s3:ListBucket",)

#: The code of a bucket that does not exist.
NO_BUCKET_CODE = "NoSuchBucket"
#: Codes of a key (or an upload) that does not exist.
MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404", "NoSuchUpload"})
#: Codes of a conditional write that lost (the key exists).
CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412"})
#: Codes that mean "try again later" whatever their HTTP status.
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestTimeout",
        "ServiceUnavailable",
        "InternalError",
    }
)
#: Codes of credentials S3 refused.
CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)
#: Codes of a request sent to the wrong region.
REGION_CODES = frozenset({"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"})

Kind = Literal["no_bucket", "not_found", "conflict", "unavailable", "credentials", "region", "denied", "error"]


def classify(code: str, status: int) -> Kind:
    """The kind of the S3 failure with error *code* and HTTP *status* (0 when unknown).

    ``no_bucket``; ``not_found`` (a key); ``conflict`` (a conditional write
    lost); ``unavailable`` (throttled, 5xx: retry); ``credentials`` (refused);
    ``region`` (the bucket is elsewhere); ``denied`` (any other 403); else ``error``.
    """
    if code == NO_BUCKET_CODE:
        return "no_bucket"
    if code in MISSING_CODES or status == 404:
        return "not_found"
    if code in CONFLICT_CODES or status == 412:
        return "conflict"
    if code in TRANSIENT_CODES or status >= 500 or status == 429:
        return "unavailable"
    if code in CREDENTIAL_CODES:
        return "credentials"
    if code in REGION_CODES:
        return "region"
    if status == 403:
        return "denied"
    return "error"


def error_fields(response: Mapping[str, Any]) -> tuple[str, int, str]:
    """``(code, HTTP status, message)`` of a botocore ``ClientError.response``; ``""`` and 0 when absent.

    >>> error_fields({"Error": {"Code": "NoSuchKey", "Message": "gone"}, "ResponseMetadata": {"HTTPStatusCode": 404}})
    ('NoSuchKey', 404, 'gone')
    """
    error = response.get("Error") or {}
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return str(error.get("Code") or ""), status, str(error.get("Message") or "")


def denied_advice(bucket: str) -> str:
    """What the app's credentials must be allowed, said on a 403: exactly what the printed policy grants.

    >>> denied_advice("photos")  # doctest: +NORMALIZE_WHITESPACE
    "the app's IAM policy must allow s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload,
    s3:ListMultipartUploadParts on arn:aws:s3:::photos/* and s3:ListBucket on arn:aws:s3:::photos
    (without ListBucket, S3 answers 403 for missing keys)"
    """
    return (
        f"the app's IAM policy must allow {', '.join(APP_OBJECT_ACTIONS)} on arn:aws:s3:::{bucket}/* "
        f"and {', '.join(APP_BUCKET_ACTIONS)} on arn:aws:s3:::{bucket} "
        "(without ListBucket, S3 answers 403 for missing keys)"
    )


#: Said when the app's credentials were refused.
CREDENTIALS_ADVICE = "check the app's AWS credentials (AWS_ACCESS_KEY_ID...)"

__all__ = [
    "APP_BUCKET_ACTIONS",
    "APP_OBJECT_ACTIONS",
    "CONFLICT_CODES",
    "CREDENTIALS_ADVICE",
    "CREDENTIAL_CODES",
    "MISSING_CODES",
    "NO_BUCKET_CODE",
    "REGION_CODES",
    "TRANSIENT_CODES",
    "Kind",
    "classify",
    "denied_advice",
    "error_fields",
]
