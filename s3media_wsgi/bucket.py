"""What a bucket (and a CDN in front of it) needs for each delivery mode, as plain documents.

Every function here is pure: it returns the dicts that ``s3media setup-bucket``
applies and ``s3media setup-bucket --dry-run`` prints, so both are the same
documents by construction, and ``s3media check`` reads a bucket's
configuration back with the predicates at the end of this module.

    >>> website_configuration("https://app.example.com", "/media/")["RoutingRules"]
    [{'Condition': {'HttpErrorCodeReturnedEquals': '404'}, 'Redirect': {'Protocol': 'https', \
'HostName': 'app.example.com', 'ReplaceKeyPrefixWith': 'media/', 'HttpRedirectCode': '302'}}]
    >>> lifecycle_configuration()["Rules"][0]["Filter"]
    {'Prefix': 'uploads/'}

The delivery modes (see :class:`~s3media_wsgi.responder.MediaResponder`):

``website``
    The bucket is public for reads (``s3:GetObject``, never ``s3:ListBucket``)
    and hosts a website whose routing rule sends a missing key to the app with
    a 302; the app makes the resize and answers 301 back.
``serve``
    The bucket is private; a CDN asks the bucket first and, on 403/404, the
    app, which answers with the image itself.
``private``
    The bucket is private; the app answers every resize URL with a 302 to a
    presigned GET.

In every mode direct uploads need CORS for the app's pages and a lifecycle
rule that expires what was never confirmed under ``uploads/``.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from .delivery import parse_delivery
from .errors import ConfigError
from .ids import INTERNAL_MARK
from .storage.s3_errors import APP_BUCKET_ACTIONS, APP_OBJECT_ACTIONS
from .uploads import PENDING_PREFIX
from .urls import check_prefix

Document = dict[str, Any]

#: Seconds in a year: the ``max-age`` of stored objects, and the CDN's longest TTL.
ONE_YEAR = 31536000
#: Days after which what was never confirmed is expired, and unfinished multipart uploads aborted.
PENDING_DAYS = 1

#: Names of what s3media puts in a bucket's shared documents, so a second run
#: replaces its own entries and leaves everyone else's alone.
PUBLIC_READ_SID = "S3MediaPublicRead"
DENY_PENDING_SID = "S3MediaDenyPendingUploads"
DENY_INTERNAL_SID = "S3MediaDenyInternalObjects"
OUR_SIDS = frozenset({PUBLIC_READ_SID, DENY_PENDING_SID, DENY_INTERNAL_SID})
#: The resource of what the library keeps for itself under an id (the source ladder): no id,
#: filename or variant holds ``/_`` (:data:`~s3media_wsgi.ids.INTERNAL_MARK`), and S3's ``*`` spans ``/``.
CORS_RULE_ID = "s3media-direct-uploads"
LIFECYCLE_RULE_ID = "s3media-pending-uploads"

INTERNAL_KEYS = f"*/{INTERNAL_MARK}*"

# APP_OBJECT_ACTIONS and APP_BUCKET_ACTIONS, what app_iam_policy grants, are listed in
# storage/s3_errors.py, which also names them in the advice given on a 403.

#: Regions whose website endpoint is ``<bucket>.s3-website-<region>.amazonaws.com``;
#: every other region's is ``<bucket>.s3-website.<region>.amazonaws.com``.
_DASH_WEBSITE_REGIONS = frozenset(
    {
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "eu-west-1",
        "sa-east-1",
        "us-gov-west-1",
    }
)


def check_delivery(delivery: str, name: str = "delivery") -> str:
    """*delivery* if it is a delivery mode, else :class:`ConfigError` naming *name*; see :mod:`.delivery`."""
    return parse_delivery(delivery, name)


def parse_app_url(url: str, name: str = "--app-url") -> tuple[str, str, str]:
    """``(scheme, host[:port], path)`` of the app's public URL, the path without its last ``/``.

    >>> parse_app_url("https://app.example.com/")
    ('https', 'app.example.com', '')
    >>> parse_app_url("http://127.0.0.1:8000/shop")
    ('http', '127.0.0.1:8000', '/shop')
    >>> parse_app_url("app.example.com")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: --app-url must be the app's public URL, such as https://app.example.com; \
got 'app.example.com'
    """
    parts = urlsplit(url.strip()) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be the app's public URL, such as https://app.example.com; got {url!r}")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def app_origin(url: str, name: str = "--app-url") -> str:
    """The origin (``scheme://host[:port]``) of the app's URL: what its pages' requests carry.

    >>> app_origin("https://app.example.com/shop/")
    'https://app.example.com'
    """
    scheme, host, _ = parse_app_url(url, name)
    return f"{scheme}://{host}"


def redirect_prefix(app_url: str, prefix: str) -> str:
    """The key prefix the routing rule puts in front of a missing key: where the app answers it.

    >>> redirect_prefix("https://app.example.com", "/media/")
    'media/'
    >>> redirect_prefix("https://example.com/shop", "/media/")
    'shop/media/'
    """
    _, _, path = parse_app_url(app_url)
    return (path + check_prefix(prefix)).lstrip("/")


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def website_endpoint(bucket: str, region: str) -> str:
    """The host name of the bucket's website endpoint (plain HTTP only).

    >>> website_endpoint("photos", "eu-west-1"), website_endpoint("photos", "eu-central-1")
    ('photos.s3-website-eu-west-1.amazonaws.com', 'photos.s3-website.eu-central-1.amazonaws.com')
    """
    separator = "-" if region in _DASH_WEBSITE_REGIONS else "."
    return f"{bucket}.s3-website{separator}{region}.amazonaws.com"


def rest_endpoint(bucket: str, region: str) -> str:
    """The host name of the bucket's REST endpoint (what a CDN with origin access control reads).

    >>> rest_endpoint("photos", "eu-west-1")
    'photos.s3.eu-west-1.amazonaws.com'
    """
    return f"{bucket}.s3.{region}.amazonaws.com"


# --- the bucket's documents ------------------------------------------------------------------


def public_access_block(delivery: str) -> Document:
    """Block Public Access: all on, except (website mode) public bucket policies.

    ACLs stay blocked in every mode: objects are made public, when they are,
    by the bucket policy alone.

    >>> public_access_block("website")
    {'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': False, 'RestrictPublicBuckets': False}
    >>> set(public_access_block("private").values())
    {True}
    """
    public = check_delivery(delivery) == "website"
    return {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": not public,
        "RestrictPublicBuckets": not public,
    }


def bucket_policy(bucket: str, delivery: str) -> Document | None:
    """The statements s3media puts in the bucket policy; None when it needs none (serve, private).

    Website mode: anyone may read objects (``s3:GetObject`` on every key, never
    ``s3:ListBucket``: ids are unguessable only while nobody can list them),
    except pending uploads under ``uploads/`` and the library's own objects
    (the source ladder, ``<id>/_…``): an anonymous request for one is
    denied, so the website endpoint and a CDN never serve a file nobody has
    confirmed, nor a rung.  The app's own signed requests are not anonymous, so it still
    reads them.

    >>> [s["Sid"] for s in bucket_policy("photos", "website")["Statement"]]
    ['S3MediaPublicRead', 'S3MediaDenyPendingUploads', 'S3MediaDenyInternalObjects']
    >>> bucket_policy("photos", "serve") is None
    True
    """
    if check_delivery(delivery) != "website":
        return None
    arn = bucket_arn(bucket)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": PUBLIC_READ_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/*",
            },
            {
                "Sid": DENY_PENDING_SID,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/{PENDING_PREFIX}*",
                # Anonymous requests carry no principal ARN: only they are denied.
                "Condition": {"Null": {"aws:PrincipalArn": "true"}},
            },
            {
                "Sid": DENY_INTERNAL_SID,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/{INTERNAL_KEYS}",
                "Condition": {"Null": {"aws:PrincipalArn": "true"}},
            },
        ],
    }


def routing_rule(app_url: str, prefix: str) -> Document:
    """The website routing rule: a 404 becomes a 302 to the app, the key under its prefix.

    A 302, not a 301: browsers and CDNs must not remember it, since the next
    request for the key finds the resize in the bucket.
    """
    scheme, host, _ = parse_app_url(app_url)
    return {
        "Condition": {"HttpErrorCodeReturnedEquals": "404"},
        "Redirect": {
            "Protocol": scheme,
            "HostName": host,
            "ReplaceKeyPrefixWith": redirect_prefix(app_url, prefix),
            "HttpRedirectCode": "302",
        },
    }


def website_configuration(app_url: str, prefix: str) -> Document:
    """Website hosting (website mode): an index document, which need not exist, and the routing rule."""
    return {"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [routing_rule(app_url, prefix)]}


def cors_rule(origins: Iterable[str]) -> Document:
    """The CORS rule direct uploads need: POST (forms) and PUT (multipart parts) from *origins*.

    ``ETag`` is exposed: a browser completing a multipart upload reads each
    part's ETag from the PUT's answer.

    >>> cors_rule(["https://app.example.com"])["ExposeHeaders"]
    ['ETag']
    """
    allowed = list(dict.fromkeys(origin.rstrip("/") for origin in origins))
    if not allowed:
        raise ConfigError("CORS needs at least one origin: give --app-url or --cors-origin")
    return {
        "ID": CORS_RULE_ID,
        "AllowedOrigins": allowed,
        "AllowedMethods": ["POST", "PUT"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }


def cors_configuration(origins: Iterable[str]) -> Document:
    return {"CORSRules": [cors_rule(origins)]}


def lifecycle_rule() -> Document:
    """Pending uploads expire, and unfinished multipart uploads are aborted, after a day."""
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": PENDING_PREFIX},
        "Expiration": {"Days": PENDING_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": PENDING_DAYS},
    }


def lifecycle_configuration() -> Document:
    return {"Rules": [lifecycle_rule()]}


def app_iam_policy(bucket: str) -> Document:
    """The least-privilege IAM policy of the app: only the actions the library uses, on this bucket only.

    >>> policy = app_iam_policy("photos")
    >>> [(s["Resource"], len(s["Action"])) for s in policy["Statement"]]
    [('arn:aws:s3:::photos/*', 5), ('arn:aws:s3:::photos', 1)]
    """
    arn = bucket_arn(bucket)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "S3MediaObjects", "Effect": "Allow", "Action": list(APP_OBJECT_ACTIONS), "Resource": f"{arn}/*"},
            {"Sid": "S3MediaListOneId", "Effect": "Allow", "Action": list(APP_BUCKET_ACTIONS), "Resource": arn},
        ],
    }


def bucket_documents(
    bucket: str, delivery: str, app_url: str, prefix: str, cors_origins: Sequence[str] = ()
) -> Document:
    """Every document ``setup-bucket`` applies, under the name of the S3 API's parameter.

    ``Policy`` and ``WebsiteConfiguration`` are None when the mode has none
    (serve, private): s3media's statements are removed from the bucket policy
    and website hosting is turned off.  ``AppIAMPolicy`` is not applied to the
    bucket: it is for the app's role or user.  The app's own origin is always
    among the CORS origins.

    >>> sorted(bucket_documents("photos", "website", "https://app.example.com", "/media/"))
    ['AppIAMPolicy', 'CORSConfiguration', 'LifecycleConfiguration', 'Policy', 'PublicAccessBlockConfiguration', \
'WebsiteConfiguration']
    """
    check_delivery(delivery)
    origins = [app_origin(app_url), *(app_origin(o, "--cors-origin") for o in cors_origins)]
    return {
        "PublicAccessBlockConfiguration": public_access_block(delivery),
        "Policy": bucket_policy(bucket, delivery),
        "WebsiteConfiguration": website_configuration(app_url, prefix) if delivery == "website" else None,
        "CORSConfiguration": cors_configuration(origins),
        "LifecycleConfiguration": lifecycle_configuration(),
        "AppIAMPolicy": app_iam_policy(bucket),
    }


# --- merging into what a bucket already has ------------------------------------------------------


def statements(policy: Mapping[str, Any] | None) -> list[Document]:
    """The statements of a policy document as a list (a single statement may be a bare object)."""
    found = (policy or {}).get("Statement", [])
    return [dict(found)] if isinstance(found, Mapping) else [dict(s) for s in found]


def merged_policy(existing: Mapping[str, Any] | None, ours: Mapping[str, Any] | None) -> Document | None:
    """*existing* with s3media's statements replaced by *ours*'; None when no statement is left.

    >>> other = {"Sid": "Logs", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
    ...          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::photos/logs/*"}
    >>> merged = merged_policy({"Version": "2012-10-17", "Statement": [other]}, bucket_policy("photos", "website"))
    >>> [s["Sid"] for s in merged["Statement"]]
    ['Logs', 'S3MediaPublicRead', 'S3MediaDenyPendingUploads', 'S3MediaDenyInternalObjects']
    >>> merged_policy(merged, None)["Statement"] == [other]
    True
    """
    kept = [s for s in statements(existing) if s.get("Sid") not in OUR_SIDS]
    result = kept + statements(ours)
    if not result:
        return None
    version = (existing or {}).get("Version") or (ours or {}).get("Version") or "2012-10-17"
    return {"Version": version, "Statement": result}


def merged_rules(existing: Iterable[Mapping[str, Any]], ours: Mapping[str, Any]) -> list[Document]:
    """*existing* rules (CORS or lifecycle) with the one of *ours*' ``ID`` replaced by it (or it appended)."""
    return [dict(r) for r in existing if r.get("ID") != ours["ID"]] + [copy.deepcopy(dict(ours))]


def matches(actual: Any, expected: Any) -> bool:
    """True when *actual* holds everything *expected* says (extra keys in *actual* are fine).

    S3 gives back documents with fields added (``MaxAgeSeconds``, empty lists,
    a ``Filter`` rewritten...); what matters is that nothing s3media set is
    missing or different.  A one-item list matches its item alone.

    >>> matches({"Principal": {"AWS": "*"}, "Action": ["s3:GetObject"], "Extra": 1},
    ...         {"Principal": "*", "Action": "s3:GetObject"})
    True
    """
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(matches(actual.get(k), v) for k, v in expected.items())
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return len(expected) == 1 and matches(actual, expected[0])
        return len(actual) == len(expected) and all(matches(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, list) and len(actual) == 1:
        return matches(actual[0], expected)
    if expected == "*" and isinstance(actual, Mapping):
        return actual == {"AWS": "*"}
    return bool(actual == expected) or (isinstance(actual, (str, int)) and str(actual) == str(expected))


# --- reading a bucket's configuration back (s3media check) ------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in _as_list(principal.get("AWS"))


def _covers(patterns: Any, target: str) -> bool:
    """True when one of the resource *patterns* (``*`` wildcards) covers *target*."""
    return any(fnmatch.fnmatchcase(target, p) for p in _as_list(patterns) if isinstance(p, str))


def _allows(statement: Mapping[str, Any], action: str) -> bool:
    return any(a in (action, "s3:*", "*") for a in _as_list(statement.get("Action")))


def public_grants(policy: Mapping[str, Any] | None, bucket: str, action: str, resource: str) -> bool:
    """True when a statement without conditions lets everyone do *action* on *resource* of *bucket*.

    >>> public_grants(bucket_policy("photos", "website"), "photos", "s3:GetObject", "arn:aws:s3:::photos/a/b.jpg")
    True
    >>> public_grants(bucket_policy("photos", "website"), "photos", "s3:ListBucket", "arn:aws:s3:::photos")
    False
    """
    return any(
        s.get("Effect") == "Allow"
        and _is_everyone(s.get("Principal"))
        and not s.get("Condition")
        and _allows(s, action)
        and _covers(s.get("Resource"), resource)
        for s in statements(policy)
    )


def denies_pending(policy: Mapping[str, Any] | None, bucket: str) -> bool:
    """True when a statement denies everyone (or every anonymous request) reading pending uploads."""
    return _denies_reading(policy, f"{bucket_arn(bucket)}/{PENDING_PREFIX}x")


def denies_internal(policy: Mapping[str, Any] | None, bucket: str) -> bool:
    """True when a statement denies everyone (or every anonymous request) reading the library's own objects.

    >>> denies_internal(bucket_policy("photos", "website"), "photos")
    True
    """
    return _denies_reading(policy, f"{bucket_arn(bucket)}/0/{INTERNAL_MARK}ladder.json")


def _denies_reading(policy: Mapping[str, Any] | None, target: str) -> bool:
    """True when a statement of *policy* denies everyone (or every anonymous request) ``s3:GetObject`` on *target*."""
    return any(
        s.get("Effect") == "Deny"
        and _is_everyone(s.get("Principal"))
        and _allows(s, "s3:GetObject")
        and _covers(s.get("Resource"), target)
        for s in statements(policy)
    )


def find_routing_rule(website: Mapping[str, Any] | None) -> Document | None:
    """The routing rule that sends every 404 somewhere else, or None.

    >>> find_routing_rule(website_configuration("https://app.example.com", "/media/"))["Redirect"]["HostName"]
    'app.example.com'
    """
    for rule in _as_list((website or {}).get("RoutingRules")):
        condition = rule.get("Condition") or {}
        if str(condition.get("HttpErrorCodeReturnedEquals")) == "404" and not condition.get("KeyPrefixEquals"):
            return dict(rule)
    return None


def routing_problem(website: Mapping[str, Any] | None, prefix: str, app_url: str | None) -> str | None:
    """What is wrong with the bucket's website routing for the app (None: nothing).

    >>> routing_problem(website_configuration("https://app.example.com", "/media/"), "/media/", None) is None
    True
    >>> routing_problem(website_configuration("https://app.example.com", "/media/"), "/m/", None)
    "404s redirect to key prefix 'media/', not 'm/'"
    """
    if not website:
        return "website hosting is off"
    rule = find_routing_rule(website)
    if rule is None:
        return "no routing rule sends 404s to the app"
    redirect = rule.get("Redirect") or {}
    code = str(redirect.get("HttpRedirectCode") or "301")
    if code not in ("302", "307"):
        return f"404s redirect with a {code}, which browsers and CDNs keep; it must be a 302"
    given = str(redirect.get("ReplaceKeyPrefixWith") or "")
    # Without the app's URL, any path the app may be mounted under is fine; the prefix must end it.
    wanted = redirect_prefix(app_url, prefix) if app_url else check_prefix(prefix).lstrip("/")
    if given != wanted and (app_url or not given.endswith("/" + wanted)):
        return f"404s redirect to key prefix {given!r}, not {wanted!r}"
    if app_url:
        scheme, host, _ = parse_app_url(app_url)
        if redirect.get("HostName") != host or (redirect.get("Protocol") or "http") != scheme:
            return (
                f"404s redirect to {redirect.get('Protocol') or 'http'}://{redirect.get('HostName')}, "
                f"not to {scheme}://{host}"
            )
    elif not redirect.get("HostName"):
        return "the routing rule names no host: 404s would redirect to the bucket itself"
    return None


def redirect_target(website: Mapping[str, Any] | None) -> str:
    """Where the bucket's 404s go, for messages: ``https://app.example.com/media/``."""
    redirect = (find_routing_rule(website) or {}).get("Redirect") or {}
    protocol = redirect.get("Protocol") or "http"
    return f"{protocol}://{redirect.get('HostName', '?')}/{redirect.get('ReplaceKeyPrefixWith', '')}"


def cors_problem(cors: Mapping[str, Any] | None, origins: Sequence[str]) -> str | None:
    """What keeps browsers on *origins* from uploading straight to the bucket (None: nothing).

    >>> cors_problem(cors_configuration(["https://app.example.com"]), ["https://app.example.com"]) is None
    True
    >>> cors_problem(cors_configuration(["https://app.example.com"]), ["https://shop.example.com"])
    'no CORS rule allows POST and PUT from https://shop.example.com'
    """
    rules = _as_list((cors or {}).get("CORSRules"))
    if not rules:
        return "the bucket has no CORS configuration"
    usable = [
        r
        for r in rules
        if {"POST", "PUT"} <= {m.upper() for m in _as_list(r.get("AllowedMethods"))}
        and "*" in _as_list(r.get("AllowedHeaders"))
    ]
    if not usable:
        return "no CORS rule allows POST and PUT with any header (AllowedHeaders '*')"
    for origin in origins:
        if not any({origin, "*"} & set(_as_list(r.get("AllowedOrigins"))) for r in usable):
            return f"no CORS rule allows POST and PUT from {origin}"
    if not any("etag" in {h.lower() for h in _as_list(r.get("ExposeHeaders"))} for r in usable):
        return "the CORS rule does not expose ETag (multipart uploads read it)"
    return None


def lifecycle_problem(lifecycle: Mapping[str, Any] | None) -> str | None:
    """What keeps abandoned uploads from being cleaned up (None: nothing).

    >>> lifecycle_problem(lifecycle_configuration()) is None
    True
    >>> lifecycle_problem({"Rules": []})
    "no enabled lifecycle rule expires objects under 'uploads/'"
    """
    expiring = aborting = False
    for rule in _as_list((lifecycle or {}).get("Rules")):
        if rule.get("Status") != "Enabled":
            continue
        # A filter with tags, or on another prefix, does not reach every pending upload (and one on a
        # shorter prefix would expire media too): only the prefix itself counts.
        prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix"))
        if prefix != PENDING_PREFIX:
            continue
        expiring = expiring or bool((rule.get("Expiration") or {}).get("Days"))
        aborting = aborting or bool((rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"))
    if not expiring:
        return f"no enabled lifecycle rule expires objects under {PENDING_PREFIX!r}"
    if not aborting:
        return f"no enabled lifecycle rule aborts incomplete multipart uploads under {PENDING_PREFIX!r}"
    return None


# --- CloudFront ---------------------------------------------------------------------------------------


def _cache_behavior(target: str) -> Document:
    # TTLs: minimum 0 and default 0, so an answer without caching headers (the
    # S3 website's 302 to the app, an error) is never kept, while objects,
    # stored with max-age=31536000, are kept up to the maximum: a year.
    # Nothing of the viewer's request (query, cookies, headers) is forwarded or
    # part of the cache key: the origin sees its own host name.
    return {
        "TargetOriginId": target,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": 2,
            "Items": ["GET", "HEAD"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "Compress": False,
        "ForwardedValues": {
            "QueryString": False,
            "Cookies": {"Forward": "none"},
            "Headers": {"Quantity": 0},
            "QueryStringCacheKeys": {"Quantity": 0},
        },
        "MinTTL": 0,
        "DefaultTTL": 0,
        "MaxTTL": ONE_YEAR,
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "SmoothStreaming": False,
        "FieldLevelEncryptionId": "",
    }


def _custom_origin(origin_id: str, host: str, protocol: str, path: str = "") -> Document:
    hostname, _, port = host.partition(":")
    return {
        "Id": origin_id,
        "DomainName": hostname,
        "OriginPath": path,
        "CustomHeaders": {"Quantity": 0},
        "CustomOriginConfig": {
            "HTTPPort": int(port) if port and protocol == "http-only" else 80,
            "HTTPSPort": int(port) if port and protocol == "https-only" else 443,
            "OriginProtocolPolicy": protocol,
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": 30,
            "OriginKeepaliveTimeout": 5,
        },
    }


def _viewer_certificate(domain: str | None, certificate_arn: str | None) -> Document:
    if not domain:
        return {"CloudFrontDefaultCertificate": True}
    return {
        "ACMCertificateArn": certificate_arn or f"<ARN of an ACM certificate for {domain}, in us-east-1>",
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }


def distribution_config(
    bucket: str,
    region: str,
    delivery: str,
    *,
    app_url: str | None = None,
    prefix: str = "/media/",
    domain: str | None = None,
    certificate_arn: str | None = None,
    origin_access_control_id: str | None = None,
) -> Document:
    """A CloudFront ``DistributionConfig`` for the mode, for ``aws cloudfront create-distribution``.

    ``website``: one custom origin, the bucket's website endpoint over plain
    HTTP (the only protocol it speaks), whose routing rule's 302 reaches the
    browser.  ``serve``: an origin group, the bucket's REST endpoint read
    through origin access control first, the app (under *prefix*) second,
    failing over on 403 (S3's answer for a missing key to a reader that may
    not list the bucket) and 404.  ``private`` has no distribution: presigned
    URLs address S3 itself, and CloudFront's own signing is out of scope.

    The ``CallerReference`` is fixed for a bucket and mode, so running
    ``create-distribution`` twice with the same document creates one distribution.

    >>> config = distribution_config("photos", "eu-west-1", "website")
    >>> config["Origins"]["Items"][0]["DomainName"], config["DefaultCacheBehavior"]["MaxTTL"]
    ('photos.s3-website-eu-west-1.amazonaws.com', 31536000)
    >>> distribution_config("photos", "eu-west-1", "private")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: the private delivery mode has no CDN distribution: ...
    """
    check_delivery(delivery)
    if delivery == "private":
        raise ConfigError(
            "the private delivery mode has no CDN distribution: its URLs are presigned S3 URLs, which a CDN "
            "can neither cache nor sign (CloudFront signed URLs are out of scope); use --delivery serve "
            "to put a CDN in front of a private bucket"
        )
    config: Document = {
        "CallerReference": f"s3media-{bucket}-{delivery}",
        "Comment": f"s3media_wsgi: media of bucket {bucket} ({delivery} mode)",
        "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [domain]} if domain else {"Quantity": 0},
        "DefaultRootObject": "",
        "PriceClass": "PriceClass_All",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "ViewerCertificate": _viewer_certificate(domain, certificate_arn),
    }
    if delivery == "website":
        config["Origins"] = {
            "Quantity": 1,
            "Items": [_custom_origin("s3-website", website_endpoint(bucket, region), "http-only")],
        }
        config["DefaultCacheBehavior"] = _cache_behavior("s3-website")
        return config
    if not app_url:
        raise ConfigError("the serve mode's distribution fails over to the app: give --app-url")
    scheme, host, path = parse_app_url(app_url)
    s3_origin: Document = {
        "Id": "s3-bucket",
        "DomainName": rest_endpoint(bucket, region),
        "OriginPath": "",
        "CustomHeaders": {"Quantity": 0},
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": origin_access_control_id or "<Id of an origin access control for S3>",
    }
    app = _custom_origin("app", host, "https-only" if scheme == "https" else "http-only", path + prefix.rstrip("/"))
    config["Origins"] = {"Quantity": 2, "Items": [s3_origin, app]}
    config["OriginGroups"] = {
        "Quantity": 1,
        "Items": [
            {
                "Id": "bucket-then-app",
                "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [403, 404]}},
                "Members": {"Quantity": 2, "Items": [{"OriginId": "s3-bucket"}, {"OriginId": "app"}]},
            }
        ],
    }
    config["DefaultCacheBehavior"] = _cache_behavior("bucket-then-app")
    return config


def origin_access_control_config(bucket: str) -> Document:
    """For ``aws cloudfront create-origin-access-control`` (serve mode): CloudFront signs its reads."""
    return {
        "Name": f"s3media-{bucket}"[:64],
        "Description": f"s3media_wsgi: CloudFront reads bucket {bucket}",
        "SigningProtocol": "sigv4",
        "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3",
    }


def cdn_read_statements(bucket: str, distribution_arn: str | None = None) -> list[Document]:
    """The bucket policy statements that let one CloudFront distribution read media (serve mode).

    Pending uploads and the library's own objects (the source ladder) are
    denied to it: the distribution never serves a file nobody confirmed, nor a rung.

    >>> [s["Effect"] for s in cdn_read_statements("photos")]
    ['Allow', 'Deny', 'Deny']
    """
    arn = bucket_arn(bucket)
    principal = {"Service": "cloudfront.amazonaws.com"}
    source = distribution_arn or "arn:aws:cloudfront::<ACCOUNT_ID>:distribution/<DISTRIBUTION_ID>"
    condition = {"StringEquals": {"AWS:SourceArn": source}}
    return [
        {
            "Sid": "S3MediaCloudFrontRead",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": f"{arn}/*",
            "Condition": condition,
        },
        {
            "Sid": "S3MediaCloudFrontNoPendingUploads",
            "Effect": "Deny",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": f"{arn}/{PENDING_PREFIX}*",
        },
        {
            "Sid": "S3MediaCloudFrontNoInternalObjects",
            "Effect": "Deny",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": f"{arn}/{INTERNAL_KEYS}",
        },
    ]


__all__ = [
    "APP_BUCKET_ACTIONS",
    "APP_OBJECT_ACTIONS",
    "CORS_RULE_ID",
    "DENY_INTERNAL_SID",
    "DENY_PENDING_SID",
    "INTERNAL_KEYS",
    "LIFECYCLE_RULE_ID",
    "ONE_YEAR",
    "PUBLIC_READ_SID",
    "app_iam_policy",
    "app_origin",
    "bucket_documents",
    "bucket_policy",
    "cdn_read_statements",
    "cors_configuration",
    "cors_problem",
    "denies_internal",
    "denies_pending",
    "distribution_config",
    "find_routing_rule",
    "lifecycle_configuration",
    "lifecycle_problem",
    "matches",
    "merged_policy",
    "merged_rules",
    "origin_access_control_config",
    "parse_app_url",
    "public_access_block",
    "public_grants",
    "redirect_prefix",
    "rest_endpoint",
    "routing_problem",
    "routing_rule",
    "website_configuration",
    "website_endpoint",
]
