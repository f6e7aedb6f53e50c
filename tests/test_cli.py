"""The ``s3media`` command against moto's S3 server: what it applies, what it checks, what it stores.

Most runs call :func:`s3media_wsgi.cli.main` in the test process (fast); the
ones about exit codes, terminals and the entry point run ``python -m
s3media_wsgi`` in a subprocess.

What moto can and cannot prove here.  It stores every bucket document
(Block Public Access, policy, website with routing rules, CORS, lifecycle) and
gives them back as put, so what ``setup-bucket`` applies is read back exactly.
It enforces some of them: a bucket policy decides anonymous GETs (public
media 200, pending uploads and a private bucket 403), and CORS preflights are
answered from the bucket's rules.  It enforces nothing else: any credentials
are accepted, Block Public Access is only stored, a policy's conditions are
evaluated as if every request were anonymous (so in moto the website mode's
deny of anonymous reads of ``uploads/`` also denies the app's signed reads,
which S3 allows), and no website endpoint is served.  So "no permission" is
staged as a bucket that does not exist, an unreachable endpoint and missing
credentials, and the website loop itself runs against s3rver in
tests/test_website_loop.py.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from images import jpeg, png

from s3media_wsgi import LocalStorage, Media, S3Storage, bucket, cli

APP = "https://app.example.com"
SECRET = "cli-test-secret-0123456789-abcdefghijklm"
ROOT = Path(__file__).resolve().parent.parent
SUBCOMMANDS = ("setup-bucket", "setup-cdn", "check", "put", "url", "delete", "purge-resizes")


# --- running the command -------------------------------------------------------------------------


def run(args: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    """``s3media ARGS`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(args, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def child_env(environ: dict[str, str], **changes: str | None) -> dict[str, str]:
    """This process's environment (AWS test credentials...) without S3MEDIA_*, plus *environ* and *changes*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3MEDIA_")}
    env.update(environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.pop("NO_COLOR", None)
    return env


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m s3media_wsgi ARGS`` in a subprocess, output to pipes (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "s3media_wsgi", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def spawn_on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """As :func:`spawn`, with stdout a pseudo-terminal (100 columns): (exit code, what it showed, stderr)."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "s3media_wsgi", *args],
        env={**env, "TERM": "xterm"},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail("the command did not finish within 120 s")
        assert process.stderr is not None
        err = process.stderr.read().decode()
        return process.wait(timeout=30), shown.decode(), err
    finally:
        os.close(master)
        if process.stderr is not None:
            process.stderr.close()


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
def env(moto_endpoint: str) -> dict[str, str]:
    """The app's settings, as environment variables: S3 on moto, a secret."""
    return {
        "S3MEDIA_ENDPOINT_URL": moto_endpoint,
        "S3MEDIA_REGION": "us-east-1",
        "S3MEDIA_SECRET_KEY": SECRET,
    }


@pytest.fixture
def fresh(s3_client: Any) -> str:
    """A bucket name nobody has created yet."""
    return f"cli-{uuid.uuid4().hex[:12]}"


def read_back(client: Any, name: str) -> dict[str, Any]:
    """Every document setup-bucket may have applied, as the bucket gives it back (None: absent)."""

    def get(call: Callable[[], Any], key: str, missing: str) -> Any:
        try:
            return call()[key]
        except client.exceptions.ClientError as exc:
            assert exc.response["Error"]["Code"] == missing, exc
            return None

    website = get(lambda: {"w": client.get_bucket_website(Bucket=name)}, "w", "NoSuchWebsiteConfiguration")
    if website is not None:
        website = {k: v for k, v in website.items() if k != "ResponseMetadata"}
    policy = get(lambda: client.get_bucket_policy(Bucket=name), "Policy", "NoSuchBucketPolicy")
    return {
        "PublicAccessBlockConfiguration": get(
            lambda: client.get_public_access_block(Bucket=name),
            "PublicAccessBlockConfiguration",
            "NoSuchPublicAccessBlockConfiguration",
        ),
        "Policy": None if policy is None else json.loads(policy),
        "WebsiteConfiguration": website,
        "CORSConfiguration": {
            "CORSRules": get(lambda: client.get_bucket_cors(Bucket=name), "CORSRules", "NoSuchCORSConfiguration")
        },
        "LifecycleConfiguration": {
            "Rules": get(
                lambda: client.get_bucket_lifecycle_configuration(Bucket=name),
                "Rules",
                "NoSuchLifecycleConfiguration",
            )
        },
    }


def set_up(env: dict[str, str], name: str, *extra: str) -> str:
    code, out, err = run(["setup-bucket", name, "--app-url", APP, *extra], env)
    assert code == 0, out + err
    return out


# --- setup-bucket ------------------------------------------------------------------------------------------


def test_setup_bucket_creates_the_bucket_and_applies_every_document(env, fresh, s3_client) -> None:
    out = set_up(env, fresh, "--cors-origin", "https://admin.example.com")
    assert f"bucket: created (us-east-1) — s3://{fresh}" in out
    back = read_back(s3_client, fresh)
    assert back["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,  # website mode: public bucket policies allowed
        "RestrictPublicBuckets": False,
    }
    arn = f"arn:aws:s3:::{fresh}"
    assert back["Policy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "S3MediaPublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"{arn}/*"},
            {"Sid": "S3MediaDenyPendingUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"{arn}/uploads/*", "Condition": {"Null": {"aws:PrincipalArn": "true"}}},
            {"Sid": "S3MediaDenyInternalObjects", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"{arn}/*/_*", "Condition": {"Null": {"aws:PrincipalArn": "true"}}},
        ],
    }  # fmt: skip
    assert back["WebsiteConfiguration"] == {
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {
                "Condition": {"HttpErrorCodeReturnedEquals": "404"},
                "Redirect": {
                    "Protocol": "https",
                    "HostName": "app.example.com",
                    "ReplaceKeyPrefixWith": "media/",
                    "HttpRedirectCode": "302",
                },
            }
        ],
    }
    (cors,) = back["CORSConfiguration"]["CORSRules"]
    assert cors["AllowedOrigins"] == [APP, "https://admin.example.com"]
    assert (cors["AllowedMethods"], cors["AllowedHeaders"], cors["ExposeHeaders"]) == (["POST", "PUT"], ["*"], ["ETag"])
    assert back["LifecycleConfiguration"]["Rules"] == [
        {
            "ID": "s3media-pending-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": "uploads/"},
            "Expiration": {"Days": 1},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
    # The app's IAM policy: the library's actions on this bucket, never s3:*.
    iam = json.loads(out[out.index("{") :])
    actions = {a for s in iam["Statement"] for a in s["Action"]}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
    assert {s["Resource"] for s in iam["Statement"]} == {arn, f"{arn}/*"}


def test_a_second_run_changes_nothing(env, fresh, s3_client) -> None:
    set_up(env, fresh)
    before = read_back(s3_client, fresh)
    out = set_up(env, fresh)
    assert read_back(s3_client, fresh) == before
    states = [line.split(": ", 1)[1].split(" —")[0] for line in out.splitlines() if line.startswith("[ok]")]
    assert states == ["exists", "unchanged", "unchanged", "unchanged", "unchanged", "unchanged"], out


def test_dry_run_prints_json_applies_nothing_and_matches_a_real_run(env, fresh, s3_client, tmp_path) -> None:
    done = spawn(["setup-bucket", fresh, "--app-url", APP, "--dry-run"], child_env(env), tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert "nothing was applied" in done.stderr
    assert fresh not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    assert (printed["Bucket"], printed["Delivery"]) == (fresh, "website")
    set_up(env, fresh)
    back = read_back(s3_client, fresh)
    for name in ("PublicAccessBlockConfiguration", "Policy", "WebsiteConfiguration"):
        assert back[name] == printed[name], name
    assert back["CORSConfiguration"]["CORSRules"] == printed["CORSConfiguration"]["CORSRules"]
    assert back["LifecycleConfiguration"]["Rules"] == printed["LifecycleConfiguration"]["Rules"]
    assert printed["AppIAMPolicy"] == bucket.app_iam_policy(fresh)


def test_private_mode_blocks_public_access_and_keeps_other_statements(env, fresh, s3_client) -> None:
    # A website bucket someone also gave a statement of their own, switched to private.
    set_up(env, fresh)
    theirs = {"Sid": "Logs", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
              "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{fresh}/logs/*"}  # fmt: skip
    policy = json.loads(s3_client.get_bucket_policy(Bucket=fresh)["Policy"])
    s3_client.put_bucket_policy(
        Bucket=fresh, Policy=json.dumps({**policy, "Statement": [theirs, *policy["Statement"]]})
    )
    dry = json.loads(run(["setup-bucket", fresh, "--app-url", APP, "--delivery", "private", "--dry-run"], env)[1])
    assert dry["Policy"] is None and dry["WebsiteConfiguration"] is None

    out = set_up(env, fresh, "--delivery", "private")
    back = read_back(s3_client, fresh)
    assert back["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert back["Policy"]["Statement"] == [theirs]  # s3media's statements gone, theirs kept
    assert back["WebsiteConfiguration"] is None and "website hosting: turned off" in out
    assert back["LifecycleConfiguration"] == dry["LifecycleConfiguration"]
    assert back["CORSConfiguration"] == dry["CORSConfiguration"]


def test_setup_bucket_creates_the_bucket_in_its_region(env, fresh, s3_client) -> None:
    out = set_up({**env, "S3MEDIA_REGION": "eu-west-1"}, fresh)
    assert f"bucket: created (eu-west-1) — s3://{fresh}" in out
    assert s3_client.get_bucket_location(Bucket=fresh)["LocationConstraint"] == "eu-west-1"


def test_setup_bucket_refuses_bad_input_with_exit_2(env, fresh) -> None:
    code, _, err = run(["setup-bucket", fresh, "--app-url", "app.example.com"], env)
    assert code == 2 and "--app-url must be the app's public URL" in err
    code, _, err = run(["setup-bucket", fresh, "--app-url", APP, "--prefix", "media"], env)
    assert code == 2 and "S3MEDIA_PREFIX must be a URL path" in err and "given as --prefix" in err
    code, _, err = run(["setup-bucket", "Not_A_Bucket", "--app-url", APP], env)
    assert code == 2 and "bucket name 'Not_A_Bucket' is invalid" in err
    code, _, err = run(["setup-bucket", fresh, "--app-url", APP], {**env, "S3MEDIA_ACL": "public-read"})
    assert code == 2 and "S3MEDIA_ACL" in err
    assert run(["setup-bucket", fresh], env)[0] == 2  # --app-url is required


# --- setup-cdn ---------------------------------------------------------------------------------------------


def test_setup_cdn_prints_a_distribution_config_for_each_mode(env) -> None:
    code, out, err = run(["setup-cdn", "photos", "--dry-run", "--domain", "media.example.com"], env)
    assert code == 0, err
    website = json.loads(out)
    (origin,) = website["Origins"]["Items"]
    assert origin["DomainName"] == "photos.s3-website-us-east-1.amazonaws.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "http-only"
    behavior = website["DefaultCacheBehavior"]
    assert (behavior["MinTTL"], behavior["DefaultTTL"], behavior["MaxTTL"]) == (0, 0, 31536000)
    assert website["Aliases"]["Items"] == ["media.example.com"]
    assert "create-distribution --distribution-config file://distribution.json" in err

    code, out, err = run(["setup-cdn", "photos", "--dry-run", "--delivery", "serve", "--app-url", APP], env)
    assert code == 0, err
    serve = json.loads(out)
    bucket_origin, app_origin = serve["Origins"]["Items"]
    assert (
        bucket_origin["DomainName"] == "photos.s3.us-east-1.amazonaws.com" and "OriginAccessControlId" in bucket_origin
    )
    assert (app_origin["DomainName"], app_origin["OriginPath"]) == ("app.example.com", "/media")
    (group,) = serve["OriginGroups"]["Items"]
    assert group["FailoverCriteria"]["StatusCodes"]["Items"] == [403, 404]
    assert [m["OriginId"] for m in group["Members"]["Items"]] == ["s3-bucket", "app"]
    assert serve["DefaultCacheBehavior"]["TargetOriginId"] == group["Id"]

    code, out, err = run(["setup-cdn", "photos", "--dry-run", "--delivery", "private"], env)
    assert (code, out) == (2, "") and "CloudFront signed URLs are out of scope" in err
    assert run(["setup-cdn", "photos", "--dry-run", "--delivery", "serve"], env)[0] == 2  # needs --app-url


# --- check ---------------------------------------------------------------------------------------------------


def lines_of(out: str) -> dict[str, str]:
    """Check name -> its line (with the fix below it, if any)."""
    found: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        if line.startswith("["):
            name = line.split("]", 1)[1].strip().split(":", 1)[0]
            found[name] = line
        elif line.startswith("    fix:"):
            found[name] += "\n" + line
    return found


def test_check_passes_on_a_good_bucket(env, fresh) -> None:
    set_up(env, fresh)
    code, out, err = run(["check", "--bucket", fresh, "--app-url", APP], env)
    assert code == 0, out + err
    lines = lines_of(out)
    assert not [line for line in lines.values() if line.startswith("[FAIL]")], out
    for name in ("settings", "credentials", "bucket", "access", "pending uploads", "website", "CORS", "lifecycle"):
        assert lines[name].startswith("[ok]"), lines.get(name)
    assert "which served it: a 32x24 image" in lines["resize"]
    # moto serves no website endpoint: the cold half of the loop is left to tests/test_website_loop.py.
    assert lines["website loop"].startswith("[skip]")
    assert out.rstrip().endswith("checks passed (1 skipped)")


@pytest.mark.parametrize("delivery", ["private", "serve"])
def test_check_passes_in_the_private_modes(env, fresh, delivery) -> None:
    set_up(env, fresh, "--delivery", delivery)
    code, out, _ = run(["check", "--bucket", fresh, "--delivery", delivery], env)
    assert code == 0, out
    assert "website" not in lines_of(out)
    resize = lines_of(out)["resize"]
    assert ("presigned URL, which served it" if delivery == "private" else "made the resize and served it") in resize


def test_check_passes_on_local_storage(env, tmp_path) -> None:
    local = {"S3MEDIA_SECRET_KEY": SECRET, "S3MEDIA_LOCAL_ROOT": str(tmp_path / "media")}
    code, out, _ = run(["check"], local)
    assert code == 0, out
    assert set(lines_of(out)) == {"settings", "objects", "resize"}
    assert not list((tmp_path / "media").rglob("*.*"))  # the probes are gone


def break_cors(client: Any, name: str) -> None:
    client.delete_bucket_cors(Bucket=name)


def break_website(client: Any, name: str) -> None:
    client.delete_bucket_website(Bucket=name)


def break_redirect_code(client: Any, name: str) -> None:
    config = bucket.website_configuration(APP, "/media/")
    config["RoutingRules"][0]["Redirect"]["HttpRedirectCode"] = "301"
    client.put_bucket_website(Bucket=name, WebsiteConfiguration=config)


def break_lifecycle(client: Any, name: str) -> None:
    client.delete_bucket_lifecycle(Bucket=name)


def break_policy(client: Any, name: str) -> None:
    client.delete_bucket_policy(Bucket=name)


def break_listing(client: Any, name: str) -> None:
    policy = json.loads(client.get_bucket_policy(Bucket=name)["Policy"])
    policy["Statement"].append({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                                "Resource": f"arn:aws:s3:::{name}"})  # fmt: skip
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def break_public_pending(client: Any, name: str) -> None:
    policy = json.loads(client.get_bucket_policy(Bucket=name)["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def break_public_ladder(client: Any, name: str) -> None:
    """A bucket set up before the source ladder: its policy has no deny for <id>/_*."""
    policy = json.loads(client.get_bucket_policy(Bucket=name)["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "S3MediaDenyInternalObjects"]
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


@pytest.mark.parametrize(
    ("breakage", "failures"),
    [
        (break_cors, {"CORS": "the bucket has no CORS configuration"}),
        (break_website, {"website": "website hosting is off"}),
        (break_redirect_code, {"website": "404s redirect with a 301, which browsers and CDNs keep"}),
        (break_lifecycle, {"lifecycle": "no enabled lifecycle rule expires objects under 'uploads/'"}),
        (break_listing, {"access": "the bucket policy lets everyone list the bucket"}),
        (
            break_public_pending,
            {"pending uploads": "anyone may read uploads/*", "source ladder": "anyone may read <id>/_*"},
        ),
        (break_public_ladder, {"source ladder": "anyone may read <id>/_*"}),
        # moto evaluates bucket policies for anonymous reads: without one, storage refuses the browser too.
        (
            break_policy,
            {
                "access": "the bucket policy does not let everyone read objects",
                "resize": "which answered 403",
            },
        ),
    ],
)
def test_check_names_each_broken_setting_and_how_to_fix_it(env, fresh, s3_client, breakage, failures) -> None:
    set_up(env, fresh)
    breakage(s3_client, fresh)
    code, out, _ = run(["check", "--bucket", fresh, "--app-url", APP], env)
    assert code == 1, out
    lines = lines_of(out)
    assert [n for n, line in lines.items() if line.startswith("[FAIL]")] == list(failures), out
    for name, problem in failures.items():
        assert lines[name].startswith(f"[FAIL] {name}: ") and problem in lines[name], out
        assert "\n    fix: " in lines[name]
    first = lines[next(iter(failures))]
    assert f"fix: run: s3media setup-bucket {fresh} --app-url {APP}" in first
    assert out.splitlines()[-1] == f"{len(failures)} of 11 checks failed (1 skipped)"


def test_what_moto_enforces_of_the_bucket_policy(env, fresh, s3_client, moto_endpoint) -> None:
    """moto evaluates bucket policies for anonymous GETs: setup-bucket's documents hold there."""
    import urllib.error
    import urllib.request

    def anonymous(key: str) -> int:
        try:
            with urllib.request.urlopen(f"{moto_endpoint}/{fresh}/{key}", timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    set_up(env, fresh)
    for key in ("0a/media.txt", "uploads/0a/pending.txt", "0a/b.jpg/_ladder.json", "0a/b.jpg/_ladder-400x300.jpg"):
        s3_client.put_object(Bucket=fresh, Key=key, Body=b"x")
    # Website mode: media are public, pending uploads and the source ladder are not.
    assert (anonymous("0a/media.txt"), anonymous("uploads/0a/pending.txt")) == (200, 403)
    assert (anonymous("0a/b.jpg/_ladder.json"), anonymous("0a/b.jpg/_ladder-400x300.jpg")) == (403, 403)
    # (moto ignores that a signed request has a principal, so it denies the app's own reads of
    # uploads/ too; S3 applies the deny to anonymous requests only, which carry no aws:PrincipalArn.)
    set_up(env, fresh, "--delivery", "private")
    assert anonymous("0a/media.txt") == 403
    # Block Public Access itself is stored, not enforced: only the policy's removal closed the bucket.


def test_what_moto_enforces_of_the_cors_rule(env, fresh, moto_endpoint) -> None:
    """moto answers CORS preflights from the bucket's rules: the app's pages may upload, others may not."""
    import http.client
    from urllib.parse import urlsplit

    set_up(env, fresh)
    endpoint = urlsplit(moto_endpoint)

    def preflight(origin: str, method: str) -> tuple[int, str | None, str | None]:
        conn = http.client.HTTPConnection(endpoint.hostname or "", endpoint.port, timeout=30)
        try:
            conn.request(
                "OPTIONS",
                f"/{fresh}/uploads/0a/cat.jpg",
                headers={"Origin": origin, "Access-Control-Request-Method": method},
            )
            answer = conn.getresponse()
            answer.read()
            return (
                answer.status,
                answer.getheader("Access-Control-Allow-Origin"),
                answer.getheader("Access-Control-Expose-Headers"),
            )
        finally:
            conn.close()

    assert preflight(APP, "POST") == (200, APP, "ETag")
    assert preflight(APP, "PUT") == (200, APP, "ETag")
    assert preflight("https://elsewhere.example.com", "POST")[0] == 403


def test_check_reports_a_bucket_that_does_not_exist(env, fresh) -> None:
    code, out, _ = run(["check", "--bucket", fresh], env)
    assert code == 1
    lines = lines_of(out)
    assert lines["bucket"].startswith(f"[FAIL] bucket: bucket '{fresh}' does not exist")
    assert f"fix: run: s3media setup-bucket {fresh} --app-url" in lines["bucket"]
    assert all(lines[n].startswith("[skip]") for n in ("access", "website", "CORS", "lifecycle", "objects", "resize"))


def test_check_reports_access_a_bucket_policy_denies(env, fresh, s3_client) -> None:
    # moto applies a bucket policy's Deny to signed requests: "the app may not write" can be staged.
    set_up(env, fresh, "--delivery", "private")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{fresh}/*"}
    s3_client.put_bucket_policy(Bucket=fresh, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    code, out, _ = run(["check", "--bucket", fresh, "--delivery", "private"], env)
    assert code == 1
    lines = lines_of(out)
    assert [n for n, line in lines.items() if line.startswith("[FAIL]")] == ["objects", "resize"], out
    assert "put of a probe object" in lines["objects"] and "access denied" in lines["objects"]
    assert "fix: allow it in the IAM policy of these credentials" in lines["objects"]
    assert "AppIAMPolicy" in lines["resize"]


def test_check_reports_an_unreachable_endpoint(env, fresh) -> None:
    import socket

    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    code, out, _ = run(["check", "--bucket", fresh], {**env, "S3MEDIA_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
    assert code == 1
    bucket_line = lines_of(out)["bucket"]
    assert "S3 cannot be reached" in bucket_line and "fix: check S3MEDIA_ENDPOINT_URL" in bucket_line


def test_check_without_credentials_says_which_to_set(env, fresh, tmp_path) -> None:
    # moto accepts any credentials, so "refused" cannot be staged; "none at all" can.
    set_up(env, fresh)
    bare = child_env(
        {**env, "S3MEDIA_BUCKET": fresh, "S3MEDIA_STORAGE": "s3"},
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
        AWS_SESSION_TOKEN=None,
        AWS_PROFILE=None,
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = spawn(["check"], bare, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = lines_of(done.stdout)
    assert lines["credentials"].startswith("[FAIL] credentials: no AWS credentials found")
    assert "fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in lines["credentials"]
    assert "no AWS credentials found" in lines["bucket"]


def test_check_on_a_terminal_shows_marks_and_plain_words_elsewhere(env, fresh, tmp_path) -> None:
    set_up(env, fresh)
    environ = child_env({**env, "S3MEDIA_BUCKET": fresh, "S3MEDIA_STORAGE": "s3"})
    code, shown, _ = spawn_on_terminal(["check"], environ, tmp_path)
    assert code == 0, shown
    assert shown.count("✔") >= 9 and "✘" not in shown and "[ok]" not in shown
    code, shown, _ = spawn_on_terminal(["check"], {**environ, "NO_COLOR": "1"}, tmp_path)
    assert code == 0 and "[ok]" in shown and "✔" not in shown and "\033[" not in shown
    done = spawn(["check"], environ, tmp_path)
    assert done.returncode == 0 and "[ok]" in done.stdout and "✔" not in done.stdout


# --- put / url / delete / purge-resizes ---------------------------------------------------------------------------


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    (folder / "a cat.jpg").write_bytes(jpeg(320, 240))
    (folder / "trip" / "beach.png").write_bytes(png(64, 64))
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: skipped
    return folder


@pytest.fixture
def s3env(env: dict[str, str], s3_bucket: str) -> dict[str, str]:
    return {**env, "S3MEDIA_STORAGE": "s3", "S3MEDIA_BUCKET": s3_bucket}


def media_of(environ: dict[str, str]) -> Media:
    return Media.from_settings(environ, prefix="S3MEDIA_")


def test_put_stores_a_folder_and_prints_path_and_id(s3env, photos, tmp_path) -> None:
    done = spawn(["put", str(photos)], child_env(s3env), tmp_path)
    assert done.returncode == 0, done.stderr
    pairs = [line.split(" → ") for line in done.stdout.splitlines()]
    assert [Path(p).relative_to(photos).as_posix() for p, _ in pairs] == ["a cat.jpg", "trip/beach.png"]
    assert "\r" not in done.stdout  # no progress bar into a pipe
    media = media_of(s3env)
    for path, media_id in pairs:
        assert media.get(media_id) == Path(path).read_bytes()
    assert pairs[0][1].endswith("/a-cat.jpg") and "2 stored, 0 refused" in done.stderr


def test_put_on_a_terminal_shows_a_progress_bar(s3env, photos, tmp_path) -> None:
    code, shown, err = spawn_on_terminal(["put", str(photos)], child_env(s3env), tmp_path)
    assert code == 0, shown + err
    assert "put: 100%" in shown and "\r" in shown  # tqdm's bar, redrawn in place
    ids = [line.split(" → ")[1].strip() for line in shown.replace("\r", "\n").splitlines() if " → " in line]
    assert len(ids) == 2 and all(media_of(s3env).exists(i) for i in ids)


def test_put_prints_refusals_and_exits_1(s3env, photos) -> None:
    (photos / "page.jpg").write_text("<html><script>alert(1)</script></html>")
    code, out, err = run(["put", str(photos), str(photos / "missing.png")], s3env)
    assert code == 1
    assert len(out.splitlines()) == 2  # the two images
    assert f"{photos / 'page.jpg'}: refused: File type not accepted: HTML page." in err
    assert f"{photos / 'missing.png'}: refused: no such file or folder" in err
    assert "2 stored, 2 refused" in err


def test_storage_budget_bounds_each_put_and_purge(s3env, photos, capsys) -> None:
    # Row 7: the CLI's storage work goes through the guard, with its own budget per file or id.
    code, out, err = run(["put", "--storage-budget", "0.000001", str(photos / "a cat.jpg")], s3env)
    assert code == 1 and out == ""
    assert "refused: S3 put" in err and "storage time budget of 1e-06 s" in err
    code, out, err = run(
        ["purge-resizes", "--storage-budget", "0.000001", "3c72aedc/ba25/41e6/a569/406c8f413974/c.jpg"], s3env
    )
    assert code == 1 and "storage time budget of 1e-06 s" in err
    code, _, _ = run(["delete", "--storage-budget", "-1", "3c72aedc/ba25/41e6/a569/406c8f413974/c.jpg"], s3env)
    assert code != 0 and "positive number of seconds" in capsys.readouterr().err
    code, out, err = run(["put", "--storage-budget", "60", str(photos / "a cat.jpg")], s3env)
    assert code == 0 and "a-cat.jpg" in out, err


def test_url_prints_the_original_and_signed_resizes(s3env, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .dev-secret here: the secret is S3MEDIA_SECRET_KEY's or none
    media = media_of(s3env)
    media_id = media.put(jpeg(200, 100), filename="x.jpg")
    code, out, _ = run(["url", media_id], s3env)
    assert (code, out.strip()) == (0, media.url(media_id))
    args = ["url", media_id, "--size", "400x300", "--mode", "fill", "--format", "webp", "--quality", "80"]
    code, out, _ = run(args, s3env)
    assert code == 0
    assert out.strip() == media.resize_url(media_id, "400x300", mode="fill", format="webp", quality=80)
    key = out.strip()[len(media.storage.base_url) :]
    assert media.verify_resize(key)[1].format == "webp"  # signed with the app's secret

    without_secret = {k: v for k, v in s3env.items() if k != "S3MEDIA_SECRET_KEY"}
    code, _, err = run(args, without_secret)
    assert code == 2 and "S3MEDIA_SECRET_KEY is required" in err
    assert run(["url", media_id], without_secret)[0] == 0  # an original's URL is not signed
    assert run(["url", media_id, "--mode", "fill"], s3env)[0] == 2
    assert run(["url", media_id, "--size", "9999x1"], s3env)[0] == 2
    assert run(["url", "../etc/passwd"], s3env)[0] == 2


def test_url_of_a_private_bucket_through_the_app(env, s3_bucket) -> None:
    private = {**env, "S3MEDIA_BUCKET": s3_bucket, "S3MEDIA_STORAGE": "s3", "S3MEDIA_PRIVATE": "true"}
    media_id = media_of(private).put(jpeg(200, 100), filename="x.jpg")
    code, out, _ = run(["url", media_id, "--size", "100x", "--app-url", APP], private)
    assert code == 0 and out.startswith(f"{APP}/media/{media_id}/100x-fit-85-noupscale-")
    code, out, _ = run(["url", media_id], private)
    assert code == 0 and "X-Amz-Signature=" in out  # a presigned GET


def test_delete_removes_originals_and_resizes(s3env) -> None:
    media = media_of(s3env)
    media_id = media.put(jpeg(200, 100), filename="x.jpg")
    media.create_resize(media.resize_key(media_id, "50x50"))
    code, out, _ = run(["delete", media_id], s3env)
    assert (code, out.strip()) == (0, f"{media_id}: 2 objects deleted")
    assert not media.exists(media_id)
    assert run(["delete", media_id], s3env)[:2] == (0, f"{media_id}: 0 objects deleted\n")
    code, _, err = run(["delete", media_id, "not-an-id"], s3env)
    assert code == 2 and "not a media id: 'not-an-id'" in err


@pytest.mark.parametrize("kind", ["s3", "local"])
def test_purge_resizes_keeps_the_original(kind, s3env, tmp_path) -> None:
    environ = s3env if kind == "s3" else {"S3MEDIA_SECRET_KEY": SECRET, "S3MEDIA_LOCAL_ROOT": str(tmp_path / "m")}
    media = media_of(environ)
    media_id = media.put(jpeg(300, 200), filename="keep.jpg")
    resizes = [media.create_resize(media.resize_key(media_id, size)) for size in ("100x", "50x50", "20x20")]
    other = media.put(jpeg(30, 20), filename="other.jpg")
    other_resize = media.create_resize(media.resize_key(other, "10x10"))

    code, out, _ = run(["purge-resizes", media_id], environ)
    assert (code, out.strip()) == (0, f"{media_id}: 3 resizes deleted, original kept")
    assert media.get(media_id) and not any(media.storage.exists(key) for key in resizes)
    assert media.storage.exists(other_resize)  # another id is untouched
    if isinstance(media.storage, LocalStorage):
        assert [p.name for p in media.storage.root.joinpath(*media_id.split("/")).iterdir()] == ["keep.jpg"]
    else:
        assert isinstance(media.storage, S3Storage)
    # A purged resize is made again on its next request.
    assert media.create_resize(resizes[0]) == resizes[0] and media.storage.exists(resizes[0])
    assert run(["purge-resizes", media_id], environ)[1].strip() == f"{media_id}: 1 resize deleted, original kept"


# --- help and exit codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_help_shows_an_example_and_the_exit_codes(command, capsys) -> None:
    assert cli.main([command, "--help"]) == 0
    shown = capsys.readouterr().out
    assert f"usage: s3media {command}" in shown
    example = shown.split("examples:\n", 1)[1].splitlines()[0]
    assert example.startswith("  ") and f"s3media {command}" in example
    assert "exit codes:" in shown and "usage or configuration error" in shown


def test_the_entry_point_and_its_exit_codes(env, tmp_path) -> None:
    done = spawn(["--help"], child_env(env), tmp_path)
    assert done.returncode == 0 and all(command in done.stdout for command in SUBCOMMANDS)
    assert spawn([], child_env(env), tmp_path).returncode == 2
    assert spawn(["check", "--delivery", "nope"], child_env(env), tmp_path).returncode == 2
    bad = spawn(["check"], child_env({**env, "S3MEDIA_MAX_PIXELS": "lots"}), tmp_path)
    assert bad.returncode == 2 and "S3MEDIA_MAX_PIXELS must be an integer, got 'lots'" in bad.stderr
    script = Path(sys.executable).parent / "s3media"
    if script.exists():  # the console script, when the package is installed (make installs it)
        assert subprocess.run([str(script), "--help"], capture_output=True, timeout=60).returncode == 0


# --- row 16: what put meets on a disk ----------------------------------------------------------------


def run_strict(args: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    """As :func:`run`, into UTF-8 streams that refuse what UTF-8 cannot encode, like a real pipe."""
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    code = cli.main(args, environ=environ, stdout=out, stderr=err)
    out.flush(), err.flush()
    return code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode()  # type: ignore[attr-defined]


def test_row16_put_refuses_unreadable_and_special_files_one_by_one_and_goes_on(s3env, photos, tmp_path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    paths = ["/proc/self/mem", "/dev/zero", str(fifo), str(photos), str(photos / "missing.png")]
    code, out, err = run_strict(["put", *paths], s3env)
    assert code == 1
    assert len(out.splitlines()) == 2  # the two images of the folder, stored after the refusals
    assert "/proc/self/mem: refused: cannot be read: " in err  # EIO: a read error, not a traceback
    assert "/dev/zero: refused: not a regular file" in err
    assert f"{fifo}: refused: not a regular file" in err
    assert f"{photos / 'missing.png'}: refused: no such file or folder" in err
    assert "2 stored, 4 refused" in err


def test_row16_put_refuses_a_file_over_the_limit_without_reading_it(s3env, tmp_path, monkeypatch) -> None:
    big = tmp_path / "huge.jpg"
    with big.open("wb") as sparse:
        sparse.truncate(1 << 40)  # a terabyte, of which nothing is on disk
    small = tmp_path / "small.jpg"
    small.write_bytes(jpeg(32, 32))
    opened: list[str] = []

    def spy(real: Callable[..., Any]) -> Callable[..., Any]:
        def open_and_note(path: Any, *args: Any, **kwargs: Any) -> Any:
            opened.append(os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path))
            return real(path, *args, **kwargs)

        return open_and_note

    monkeypatch.setattr(os, "open", spy(os.open))
    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    code, out, err = run_strict(["put", str(big), str(small)], {**s3env, "S3MEDIA_MAX_UPLOAD_BYTES": "100000"})
    assert code == 1 and len(out.splitlines()) == 1
    assert f"{big}: refused: File too large: " in err and "the limit is 97.7 KiB" in err
    assert str(big) not in opened  # judged by its size alone


def test_row16_put_reads_no_more_than_the_limit_and_one_byte(s3env, tmp_path, monkeypatch) -> None:
    # A file that says it is empty (as /proc files do) but is not: read at most limit + 1 bytes of it.
    liar = tmp_path / "liar.jpg"
    liar.write_bytes(b"\xff" * 500_000)
    asked: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, size: asked.append(size) or real_read(fd, size))
    real_stat, real_fstat, inode = os.stat, os.fstat, liar.stat().st_ino

    def empty(found: os.stat_result) -> os.stat_result:  # /proc files say they are empty
        return os.stat_result((*found[:6], 0, *found[7:10])) if found.st_ino == inode else found

    monkeypatch.setattr(os, "stat", lambda *a, **k: empty(real_stat(*a, **k)))
    monkeypatch.setattr(os, "fstat", lambda fd: empty(real_fstat(fd)))
    code, _, err = run_strict(["put", str(liar)], {**s3env, "S3MEDIA_MAX_UPLOAD_BYTES": "1000"})
    assert code == 1 and "File too large" in err
    assert 0 < sum(asked) <= 1001  # the limit and one byte, to know it is over


def test_row16_put_names_a_file_whose_name_is_not_utf8(s3env, tmp_path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.jpg")  # '\udce9': not UTF-8 on disk
    (folder / name).write_bytes(jpeg(32, 32))
    (folder / "page.jpg").write_text("<html></html>")
    code, out, err = run_strict(["put", str(folder)], s3env)
    assert code == 1
    assert "caf\\udce9.jpg" in out and out.rstrip().endswith("/caf.jpg")  # shown escaped; stored as caf.jpg
    assert "page.jpg: refused: File type not accepted" in err and "1 stored, 1 refused" in err


# --- what surprised a new user --------------------------------------------------------------------


def test_a_bucket_in_the_environment_means_s3(env, s3_bucket) -> None:
    # S3MEDIA_BUCKET alone used to leave storage 'local' (exit 2: "has no effect"); it means S3, as --bucket does.
    media = media_of({**env, "S3MEDIA_STORAGE": "s3", "S3MEDIA_BUCKET": s3_bucket})
    media_id = media.put(jpeg(40, 30), filename="env.jpg")
    code, out, err = run(["url", media_id], {**env, "S3MEDIA_BUCKET": s3_bucket})
    assert (code, out.strip()) == (0, media.url(media_id)), err
    # ...unless S3MEDIA_STORAGE says otherwise: then the contradiction is a usage error, as in the app.
    code, _, err = run(["url", media_id], {**env, "S3MEDIA_BUCKET": s3_bucket, "S3MEDIA_STORAGE": "local"})
    assert code == 2 and "S3MEDIA_BUCKET" in err


def test_setup_takes_the_bucket_as_argument_or_as_flag(env, fresh) -> None:
    # setup-bucket and setup-cdn: BUCKET, --bucket (as check, put, url... take it) or S3MEDIA_BUCKET.
    positional = run(["setup-bucket", fresh, "--app-url", APP, "--dry-run"], env)
    assert positional[0] == 0, positional[2]
    assert run(["setup-bucket", "--bucket", fresh, "--app-url", APP, "--dry-run"], env) == positional
    assert run(["setup-bucket", fresh, "--bucket", fresh, "--app-url", APP, "--dry-run"], env) == positional
    assert run(["setup-bucket", "--app-url", APP, "--dry-run"], {**env, "S3MEDIA_BUCKET": fresh}) == positional
    code, _, err = run(["setup-bucket", fresh, "--bucket", "other-bucket", "--app-url", APP, "--dry-run"], env)
    assert code == 2 and "give the bucket once" in err
    code, _, err = run(["setup-bucket", "--app-url", APP, "--dry-run"], {})
    assert code == 2 and "a bucket is required" in err
    cdn = run(["setup-cdn", "photos", "--dry-run"], env)
    assert cdn[0] == 0 and run(["setup-cdn", "--bucket", "photos", "--dry-run"], env) == cdn


def test_url_places_a_crop_with_focus(tmp_path) -> None:
    env = {"S3MEDIA_LOCAL_ROOT": str(tmp_path / "media"), "S3MEDIA_SECRET_KEY": SECRET}
    media = media_of(env)
    media_id = media.put(jpeg(200, 100), filename="x.jpg")
    for focus, expected in [("0.3,0.25", (0.3, 0.25)), ("auto", "auto"), ("faces", "faces"), ("centre", None)]:
        code, out, err = run(["url", media_id, "--size", "80x80", "--mode", "fill", "--focus", focus], env)
        assert (code, out.strip()) == (0, media.resize_url(media_id, "80x80", mode="fill", focus=expected)), err
    assert "-f30x25-" in media.resize_url(media_id, "80x80", mode="fill", focus=(0.3, 0.25))
    for bad in (
        ["--focus", "2,0"],
        ["--focus", "nan,0.5"],
        ["--focus", "x" * 5000],
        ["--mode", "fit", "--focus", "auto"],
    ):
        code, out, err = run(
            ["url", media_id, "--size", "80x80", *(["--mode", "fill"] if "--mode" not in bad else []), *bad], env
        )
        assert code == 2 and out == "" and "focus" in err, bad
    code, _, err = run(["url", media_id, "--focus", "auto"], env)
    assert code == 2 and "give --size too" in err


def test_url_signs_with_the_demos_dev_secret(tmp_path, monkeypatch) -> None:
    # make demo keeps its secret in .dev-secret in the folder it runs in; s3media run there signs with it.
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    from gallery_common import dev_secret

    monkeypatch.chdir(tmp_path)
    secret = dev_secret(environ={})  # what the demo does on its first run
    local = {"S3MEDIA_LOCAL_ROOT": str(tmp_path / "media")}
    media = media_of({**local, "S3MEDIA_SECRET_KEY": secret})
    media_id = media.put(jpeg(40, 30), filename="demo.jpg")
    code, out, err = run(["url", media_id, "--size", "20x15"], local)
    assert (code, out.strip()) == (0, media.resize_url(media_id, "20x15")), err
    assert ".dev-secret" in " ".join(cli.make_parser().format_help().split())
