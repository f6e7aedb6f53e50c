"""Row 8: two processes confirming one upload at once never answer "not found".

Process B heads the pending object, A publishes it and deletes it, B's read (or
copy) then finds nothing: B used to answer 404 for an upload that had just become
media (9 trials in 30).  Two real Python processes confirm each upload at the same
moment, against moto's S3 server over HTTP.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import requests
from images import jpeg

from s3media_wsgi import Media, S3Storage

SECRET = "row8-secret-0123456789-abcdefghijklmn"
TRIALS = 30
TESTS_DIR = Path(__file__).resolve().parent.parent
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 256

# Confirms each key read from stdin at once, and prints what came of it.  The
# second process confirms as the route does (pending only).
WORKER = textwrap.dedent(
    """
    import sys
    from s3media_wsgi import Media, S3Storage
    from s3media_wsgi.errors import MediaError

    endpoint, bucket, secret, pending_only = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    media = Media(S3Storage(bucket, region="us-east-1", endpoint_url=endpoint), secret_key=secret)
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            media_id = media.confirm_upload(line.strip(), pending_only=pending_only) if pending_only else (
                media.confirm_upload(line.strip())
            )
            print(f"ok {media_id.width}", flush=True)
        except MediaError as exc:
            print(f"{type(exc).__name__} {exc}".replace("\\n", " "), flush=True)
    """
)


def test_row8_two_processes_confirming_one_upload_never_get_not_found(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, moto_endpoint, s3_bucket, SECRET, flag],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=TESTS_DIR.parent,
        )  # fmt: skip
        for flag in ("0", "1")
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        image = jpeg(480, 360)
        outcomes: list[tuple[str, str]] = []
        for trial in range(TRIALS):
            # Images are published from the bytes checked; other files through a staged copy: both paths.
            video = trial % 3 == 2
            data = VIDEO if video else image
            upload = (
                media.presign_upload("clip.mp4", "video/mp4")
                if video
                else media.presign_upload("cat.jpg", "image/jpeg")
            )
            sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", data)}, timeout=30)
            assert sent.status_code == 204
            for worker in workers:  # both at once: neither waits for the other's answer
                assert worker.stdin is not None
                worker.stdin.write(upload["key"] + "\n")
                worker.stdin.flush()
            api, route = (w.stdout.readline().strip() for w in workers if w.stdout is not None)
            outcomes.append((api.replace("ok None", "ok 480"), route.replace("ok None", "ok 480")))
            assert media.get(upload["id"]) == data
            assert not media.storage.exists(upload["key"])
    finally:
        for worker in workers:
            if worker.stdin is not None:
                worker.stdin.close()
        for worker in workers:
            worker.wait(timeout=30)
    not_found = [o for o in outcomes if any(part.startswith("NotFound") for part in o)]
    assert not_found == [], f"{len(not_found)} of {TRIALS} trials answered NotFound: {not_found[:3]}"
    # The API always answers with the media (idempotent); the route's loser gets 409 (or, for a file
    # published through a staged copy, whose final copy is not conditional on S3, may get 200 as well).
    assert all(api == "ok 480" for api, _ in outcomes), outcomes
    assert all(route in ("ok 480", f"AlreadyConfirmed {CONFIRMED}") for _, route in outcomes), outcomes


CONFIRMED = "This upload was confirmed already."
