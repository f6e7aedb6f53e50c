"""S3 failures said with what to do, in the command line's terms."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import StorageError
from ..storage.s3_errors import classify, error_fields
from .config import PREFIX


def _client_error(exc: BaseException) -> tuple[str, int, str] | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    return error_fields(response)


def _error_code(exc: BaseException) -> str:
    found = _client_error(exc)
    return found[0] if found else ""


def explain(exc: BaseException, action: str, bucket: str, setup: str) -> tuple[str, str]:
    """``(what happened, how to fix it)`` for a failed S3 call (or a StorageError around one)."""
    from botocore import exceptions as bx

    cause: BaseException = exc
    while isinstance(cause, StorageError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, bx.NoCredentialsError):
        return (
            f"{action}: no AWS credentials found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where an IAM role applies",
        )
    if isinstance(cause, (bx.ConnectionError, bx.HTTPClientError)):
        return (
            f"{action}: S3 cannot be reached: {cause}",
            f"check {PREFIX}ENDPOINT_URL and {PREFIX}REGION, and the network",
        )
    found = _client_error(cause)
    if found is None:
        return f"{action}: {exc}", ""
    code, status, message = found
    detail = f"{action}: {code or 'error'} (HTTP {status})"
    kind = classify(code, status)
    if kind == "no_bucket" or (kind == "not_found" and action.startswith("bucket")):
        return f"bucket {bucket!r} does not exist", f"{setup}, or fix {PREFIX}BUCKET"
    if kind == "credentials":
        return (
            f"{detail}: the credentials were refused",
            "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile), and this machine's clock",
        )
    if kind == "region":
        return f"{detail}: the bucket is in another region", f"set {PREFIX}REGION to the bucket's region"
    if kind == "denied":
        return (
            f"{detail}: access denied",
            "allow it in the IAM policy of these credentials (for the app's own: "
            f"`s3media setup-bucket {bucket} --app-url URL --dry-run` prints it as AppIAMPolicy)",
        )
    return f"{detail} {message}".rstrip(), ""


def setup_command(bucket: str, delivery: str, app_url: str | None) -> str:
    """The ``setup-bucket`` command line that fixes a bucket's configuration, for messages."""
    words = ["s3media", "setup-bucket", bucket, "--app-url", app_url or "https://YOUR-APP.example.com"]
    if delivery != "website":
        words += ["--delivery", delivery]
    return "run: " + " ".join(words)
