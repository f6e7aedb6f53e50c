"""``s3media setup-bucket`` and ``s3media setup-cdn``: apply (or print) what a delivery mode needs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import bucket as documents
from ..errors import ConfigError
from .advice import _client_error, _error_code, explain, setup_command
from .config import PREFIX, _app_url, bucket_named, load_settings, s3_storage
from .output import FAILED, OK, Console, UsageError


def _read(call: Callable[[], Any], missing: tuple[str, ...]) -> Any:
    """The answer of *call*, or None when S3 says the document does not exist (one of *missing*)."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        if _error_code(exc) in missing:
            return None
        raise


def read_policy(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_policy(Bucket=bucket), ("NoSuchBucketPolicy",))
    return None if answer is None else dict(json.loads(answer["Policy"]))


def read_public_access_block(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_public_access_block(Bucket=bucket), ("NoSuchPublicAccessBlockConfiguration",))
    return None if answer is None else dict(answer["PublicAccessBlockConfiguration"])


def read_website(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_website(Bucket=bucket), ("NoSuchWebsiteConfiguration",))
    if answer is None:
        return None
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def read_cors(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_cors(Bucket=bucket), ("NoSuchCORSConfiguration",))
    return None if answer is None else {"CORSRules": list(answer.get("CORSRules", []))}


def read_lifecycle(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_lifecycle_configuration(Bucket=bucket), ("NoSuchLifecycleConfiguration",))
    return None if answer is None else {"Rules": list(answer.get("Rules", []))}


def _same_rules(actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> bool:
    return len(actual) == len(expected) and all(documents.matches(a, e) for a, e in zip(actual, expected))


def _ensure_bucket(client: Any, bucket: str, region: str | None) -> str:
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
        return "exists"
    except ClientError as exc:
        found = _client_error(exc)
        if not found or found[1] != 404:
            raise
    params: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**params)
    return f"created ({region or 'us-east-1'})"


def _apply_public_access_block(client: Any, bucket: str, wanted: dict[str, Any]) -> str:
    if documents.matches(read_public_access_block(client, bucket), wanted):
        return "unchanged"
    client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted)
    return "applied"


def _apply_policy(client: Any, bucket: str, ours: dict[str, Any] | None) -> str:
    existing = read_policy(client, bucket)
    wanted = documents.merged_policy(existing, ours)
    if wanted is None:
        if existing is None:
            return "unchanged (none)"
        client.delete_bucket_policy(Bucket=bucket)
        return "removed s3media's statements (none left)"
    if existing is not None and _same_rules(documents.statements(existing), wanted["Statement"]):
        return "unchanged"
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted))
    return "applied"


def _apply_website(client: Any, bucket: str, wanted: dict[str, Any] | None) -> str:
    existing = read_website(client, bucket)
    if wanted is None:
        if existing is None:
            return "unchanged (off)"
        client.delete_bucket_website(Bucket=bucket)
        return "turned off"
    if existing is not None and documents.matches(existing, wanted):
        if _same_rules(existing.get("RoutingRules") or [], wanted["RoutingRules"]):
            return "unchanged"
    client.put_bucket_website(Bucket=bucket, WebsiteConfiguration=wanted)
    return "applied"


def _apply_cors(client: Any, bucket: str, rule: dict[str, Any]) -> str:
    existing = (read_cors(client, bucket) or {}).get("CORSRules", [])
    if any(r.get("ID") == rule["ID"] and documents.matches(r, rule) for r in existing):
        return "unchanged"
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": documents.merged_rules(existing, rule)})
    return "applied"


def _apply_lifecycle(client: Any, bucket: str, rule: dict[str, Any]) -> str:
    existing = (read_lifecycle(client, bucket) or {}).get("Rules", [])
    if any(r.get("ID") == rule["ID"] and documents.matches(r, rule) for r in existing):
        return "unchanged"
    rules = documents.merged_rules(existing, rule)
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    return "applied"


def cmd_setup_bucket(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    loaded = load_settings(args, environ, bucket=args.bucket_name)
    bucket_name = bucket_named(loaded)
    settings = loaded.settings
    delivery = loaded.delivery
    app_url = _app_url(args.app_url)
    assert app_url is not None  # required by the parser
    if settings.acl and settings.acl.startswith("public"):
        raise UsageError(
            f"{PREFIX}ACL = {settings.acl!r} would be refused: this bucket blocks public ACLs "
            "(in website mode its bucket policy makes objects public); remove it"
        )
    try:
        docs = documents.bucket_documents(
            bucket_name, delivery, app_url, settings.prefix, [*settings.cors_origins, *args.cors_origin]
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.dry_run:
        region = settings.region or _default_region()
        console.print(json.dumps({"Bucket": bucket_name, "Region": region, "Delivery": delivery, **docs}, indent=2))
        console.note(f"dry run: nothing was applied to bucket {bucket_name!r}")
        return OK

    storage = s3_storage(loaded)
    client = storage.client
    bucket = storage.bucket
    block = docs["PublicAccessBlockConfiguration"]
    steps: list[tuple[str, Callable[[], str], str]] = [
        ("bucket", lambda: _ensure_bucket(client, bucket, storage.region), f"s3://{bucket}"),
    ]
    if delivery == "website":
        # Public bucket policies must be allowed before one is put.
        steps += [
            (
                "public access block",
                lambda: _apply_public_access_block(client, bucket, block),
                "ACLs blocked; public bucket policies allowed",
            ),
            (
                "bucket policy",
                lambda: _apply_policy(client, bucket, docs["Policy"]),
                f"anyone may read {bucket}/*, nobody may list it; anonymous reads of uploads/* denied",
            ),
        ]
    else:
        # s3media's public statements go before public policies are blocked.
        steps += [
            ("bucket policy", lambda: _apply_policy(client, bucket, docs["Policy"]), "no public statement"),
            (
                "public access block",
                lambda: _apply_public_access_block(client, bucket, block),
                "all on: nothing in the bucket is public",
            ),
        ]
    website = docs["WebsiteConfiguration"]
    cors = docs["CORSConfiguration"]["CORSRules"][0]
    steps += [
        (
            "website hosting",
            lambda: _apply_website(client, bucket, website),
            f"404s redirect (302) to {documents.redirect_target(website)}" if website else "",
        ),
        (
            "CORS",
            lambda: _apply_cors(client, bucket, cors),
            f"POST and PUT from {', '.join(cors['AllowedOrigins'])}; ETag exposed",
        ),
        (
            "lifecycle",
            lambda: _apply_lifecycle(client, bucket, docs["LifecycleConfiguration"]["Rules"][0]),
            "uploads/ expire after 1 day; incomplete multipart uploads are aborted after 1 day",
        ),
    ]
    for name, step, detail in steps:
        try:
            state = step()
        except Exception as exc:  # botocore's errors, said with what to do
            problem, fix = explain(exc, f"{name}", bucket, setup_command(bucket, delivery, app_url))
            console.print(f"{console.mark('fail')} {name}: {problem}")
            if fix:
                console.print(f"    fix: {fix}")
            return FAILED
        console.print(f"{console.mark('ok')} {name}: {state}" + (f" — {detail}" if detail else ""))
    console.print()
    console.print("IAM policy for the app (attach it to the app's role or user; only what s3media_wsgi uses):")
    console.print(json.dumps(docs["AppIAMPolicy"], indent=2))
    return OK


def _default_region() -> str | None:
    import boto3

    region: str | None = boto3.session.Session().region_name
    return region


def cmd_setup_cdn(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    loaded = load_settings(args, environ, bucket=args.bucket_name)
    bucket_name = bucket_named(loaded)
    settings = loaded.settings
    delivery = loaded.delivery
    region = settings.region or _default_region()
    if not region:
        raise UsageError(
            f"{PREFIX}REGION (or --region) is required: the CDN's origin is the bucket's regional endpoint"
        )
    app_url = _app_url(args.app_url)
    try:
        config = documents.distribution_config(
            bucket_name,
            region,
            delivery,
            app_url=app_url,
            prefix=settings.prefix,
            domain=args.domain,
            certificate_arn=args.certificate_arn,
            origin_access_control_id=args.oac_id,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    console.print(json.dumps(config, indent=2))
    base = f"https://{args.domain}/" if args.domain else "https://<the distribution's domain>.cloudfront.net/"
    notes = []
    if delivery == "serve" and not args.oac_id:
        notes.append(
            "first create the origin access control (put its Id in OriginAccessControlId):\n"
            "  aws cloudfront create-origin-access-control --origin-access-control-config file://oac.json\n"
            "  with oac.json: " + json.dumps(documents.origin_access_control_config(bucket_name))
        )
    notes.append(
        "create the distribution with this document saved as distribution.json:\n"
        "  aws cloudfront create-distribution --distribution-config file://distribution.json"
    )
    if delivery == "serve":
        notes.append(
            "then let it read the bucket: add these statements to the bucket policy (with the distribution's ARN):\n  "
            + json.dumps(documents.cdn_read_statements(bucket_name))
        )
    notes.append(f"then set {PREFIX}BASE_URL={base}" + (f" and {PREFIX}DELIVERY=serve" if delivery == "serve" else ""))
    if not args.dry_run:
        notes.insert(0, "s3media does not call CloudFront: apply the document above with the AWS CLI.")
    console.note("\n".join(notes))
    return OK
