"""The ``s3media`` argument parser: every subcommand, its flags, its help."""

from __future__ import annotations

import argparse

from ..delivery import DELIVERIES
from .check import cmd_check
from .config import SETTINGS_HELP
from .media_commands import cmd_delete, cmd_purge_resizes, cmd_put, cmd_url
from .output import EXIT_CODES
from .setup import cmd_setup_bucket, cmd_setup_cdn

#: Seconds of storage time the CLI gives one file (put) or one id (delete, purge-resizes).
CLI_STORAGE_BUDGET = 300.0


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def _budget_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--storage-budget",
        type=_seconds,
        default=CLI_STORAGE_BUDGET,
        metavar="SECONDS",
        help=f"storage time {what} may take, retries included, before it fails (default {CLI_STORAGE_BUDGET:g})",
    )


def _epilog(examples: str) -> str:
    return f"examples:\n{examples}\n\n{SETTINGS_HELP}\n\n{EXIT_CODES}"


def _setting_flags(parser: argparse.ArgumentParser, *, bucket: bool = True) -> None:
    group = parser.add_argument_group("settings (override the S3MEDIA_* environment variables)")
    if bucket:
        group.add_argument("--bucket", help="S3 bucket (S3MEDIA_BUCKET); implies S3MEDIA_STORAGE=s3")
    group.add_argument("--region", help="the bucket's AWS region (S3MEDIA_REGION)")
    group.add_argument("--endpoint-url", help="an S3-compatible endpoint (S3MEDIA_ENDPOINT_URL)")
    group.add_argument("--base-url", help="URL prefix of stored files (S3MEDIA_BASE_URL)")
    group.add_argument("--prefix", help="the middleware's URL prefix (S3MEDIA_PREFIX), default /media/")
    group.add_argument(
        "--delivery",
        choices=DELIVERIES,
        help="how resizes reach browsers (S3MEDIA_DELIVERY): website (public bucket, website routing rule), "
        "serve (private bucket, the app or a CDN serves images), private (302 to presigned URLs)",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="show the library's log lines")


def make_parser() -> argparse.ArgumentParser:
    """The ``s3media`` argument parser (every subcommand's ``--help`` shows examples)."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="s3media",
        description="Set up and check a bucket for s3media_wsgi, and manage media from a shell.",
        epilog=_epilog(
            "  s3media setup-bucket photos --app-url https://app.example.com --region eu-west-1\n"
            "  s3media check --bucket photos --app-url https://app.example.com\n"
            "  s3media put ./photos\n"
            "  s3media <command> --help"
        ),
        formatter_class=raw,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    setup = commands.add_parser(
        "setup-bucket",
        help="create a bucket if missing and configure it for a delivery mode (idempotent)",
        description=(
            "Create BUCKET if it is missing and apply, idempotently, what the delivery mode needs: Block Public\n"
            "Access, the bucket policy (website mode: public reads, no listing, pending uploads denied), website\n"
            "hosting with a routing rule sending 404s to the app (website mode; off otherwise), CORS for direct\n"
            "uploads, and a lifecycle rule cleaning up uploads/.  s3media's entries in the bucket policy, CORS and\n"
            "lifecycle rules are replaced and everyone else's are kept.  Then prints the app's least-privilege\n"
            "IAM policy.  --dry-run prints every document as one JSON object and applies nothing."
        ),
        epilog=_epilog(
            "  s3media setup-bucket photos --app-url https://app.example.com --region eu-west-1\n"
            "  s3media setup-bucket photos --app-url https://app.example.com --delivery private --dry-run"
        ),
        formatter_class=raw,
    )
    setup.add_argument(
        "bucket_name", nargs="?", metavar="BUCKET", help="the bucket's name (or --bucket, or S3MEDIA_BUCKET)"
    )
    setup.add_argument("--app-url", required=True, help="the app's public URL, where the bucket sends missing resizes")
    setup.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another origin whose pages upload to the bucket (repeatable; the app's origin and "
        "S3MEDIA_CORS_ORIGINS are always allowed)",
    )
    setup.add_argument("--dry-run", action="store_true", help="print the documents as JSON, apply nothing")
    _setting_flags(setup)
    setup.set_defaults(run=cmd_setup_bucket)

    cdn = commands.add_parser(
        "setup-cdn",
        help="print a CloudFront DistributionConfig for the bucket",
        description=(
            "Print a CloudFront DistributionConfig (JSON, on stdout) for `aws cloudfront create-distribution\n"
            "--distribution-config file://distribution.json`, and on stderr the steps around it.  website mode:\n"
            "the bucket's website endpoint as an HTTP origin, TTLs min 0 / default 0 / max one year (the routing\n"
            "rule's 302 is never cached, stored objects are for a year).  serve mode: an origin group, the bucket\n"
            "(origin access control) first, the app second, failing over on 403 and 404.  private mode has no\n"
            "distribution (presigned URLs address S3; CloudFront signing is out of scope): exit 2.\n"
            "s3media never calls CloudFront: with or without --dry-run, apply the document with the AWS CLI."
        ),
        epilog=_epilog(
            "  s3media setup-cdn photos --dry-run --region eu-west-1 --domain media.example.com "
            "> distribution.json\n"
            "  s3media setup-cdn photos --dry-run --delivery serve --app-url https://app.example.com"
        ),
        formatter_class=raw,
    )
    cdn.add_argument(
        "bucket_name", nargs="?", metavar="BUCKET", help="the bucket's name (or --bucket, or S3MEDIA_BUCKET)"
    )
    cdn.add_argument("--dry-run", action="store_true", help="print the document (s3media never applies it)")
    cdn.add_argument("--domain", help="your media domain (an alias of the distribution), e.g. media.example.com")
    cdn.add_argument("--certificate-arn", help="ARN of the ACM certificate (us-east-1) for --domain")
    cdn.add_argument("--app-url", help="the app's public URL (serve mode: the failover origin)")
    cdn.add_argument("--oac-id", help="Id of the origin access control CloudFront signs with (serve mode)")
    _setting_flags(cdn)
    cdn.set_defaults(run=cmd_setup_cdn)

    check = commands.add_parser(
        "check",
        help="check a deployment: credentials, bucket, its configuration, a resize round trip",
        description=(
            "Check what the app needs, one line each: credentials, the bucket, public access for the mode, the\n"
            "website routing rule (website mode), CORS, the lifecycle rule, a probe object's round trip, and a\n"
            "resize round trip in the mode (a probe image stored, its resize asked of the app's responder\n"
            "in-process and followed as browsers would, then deleted).  Each failure says how to fix it.\n"
            "On a terminal results are ✔/✘ (NO_COLOR or a pipe: [ok]/[FAIL]/[skip])."
        ),
        epilog=_epilog(
            "  S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=photos S3MEDIA_REGION=eu-west-1 s3media check\n"
            "  s3media check --bucket photos --delivery private --app-url https://app.example.com"
        ),
        formatter_class=raw,
    )
    check.add_argument("--app-url", help="the app's public URL: checked against the routing rule and CORS")
    _setting_flags(check)
    check.set_defaults(run=cmd_check)

    put = commands.add_parser(
        "put",
        help="store files (folders recursively) and print their ids",
        description=(
            "Store each file (folders recursively, hidden entries skipped) with Media.put and print\n"
            "`path → id`; refusals go to stderr with the reason.  A progress bar over bytes shows when\n"
            "stdout is a terminal."
        ),
        epilog=_epilog("  s3media put ./photos cat.jpg\n  s3media put --bucket photos ./photos > ids.txt"),
        formatter_class=raw,
    )
    put.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder")
    _budget_flag(put, "each file")
    _setting_flags(put)
    put.set_defaults(run=cmd_put)

    url = commands.add_parser(
        "url",
        help="print the URL of an original, or of a resize",
        description="Print the URL of media ID, or with --size the signed URL of a resize (needs S3MEDIA_SECRET_KEY).",
        epilog=_epilog(
            "  s3media url 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg\n"
            "  s3media url 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg --size 400x300 --mode fit "
            "--format webp --quality 80\n"
            "  s3media url 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg --size 300x300 --mode fill --focus 0.3,0.25"
        ),
        formatter_class=raw,
    )
    url.add_argument("id", metavar="ID", help="a media id, as put printed it")
    url.add_argument("--size", help="400x300, 400x, x300 or a preset name")
    url.add_argument("--mode", choices=("fit", "fill"), help="fit (inside the box) or fill (cover it, cropped)")
    url.add_argument("--format", help="jpg, png, webp, avif or gif (default: the original's)")
    url.add_argument("--quality", type=int, help="1-95 (default 85)")
    url.add_argument("--upscale", action="store_true", help="let a small image grow")
    url.add_argument(
        "--focus",
        help="where a fill crop is placed: X,Y (fractions 0-1 of the upright original), auto, faces or centre "
        "(default: the preset's, else the centre)",
    )
    url.add_argument("--app-url", help="make a relative URL (answered by the app) absolute")
    _setting_flags(url)
    url.set_defaults(run=cmd_url)

    delete = commands.add_parser(
        "delete",
        help="delete media: the original and every resize",
        description="Delete each ID's original and every resize of it.  An id with nothing stored is not an error.",
        epilog=_epilog("  s3media delete 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"),
        formatter_class=raw,
    )
    delete.add_argument("ids", nargs="+", metavar="ID", help="a media id")
    _budget_flag(delete, "each id")
    _setting_flags(delete)
    delete.set_defaults(run=cmd_delete)

    purge = commands.add_parser(
        "purge-resizes",
        help="delete every resize of the ids, keep the originals",
        description=(
            "Delete every resize of each ID and keep its original: the next request of a resize makes it again\n"
            "(after changing the engine or its settings, say).  CDN copies stay until they expire or are\n"
            "invalidated."
        ),
        epilog=_epilog("  s3media purge-resizes 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"),
        formatter_class=raw,
    )
    purge.add_argument("ids", nargs="+", metavar="ID", help="a media id")
    _budget_flag(purge, "each id")
    _setting_flags(purge)
    purge.set_defaults(run=cmd_purge_resizes)
    return parser
