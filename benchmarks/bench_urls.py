"""How many signed resize URLs one thread builds per second (target: >= 100k/s)."""

from __future__ import annotations

import secrets
import tempfile
import time

from s3media_wsgi import LocalStorage, Media, MediaId, MediaInfo, S3Storage
from s3media_wsgi.ids import new_id

TARGET = 100_000


def _rate(media: Media, ids: list[str], rounds: int = 5) -> float:
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for media_id in ids:
            media.resize_url(media_id, "400x300", mode="fill", format="webp")
        best = max(best, len(ids) / (time.perf_counter() - started))
    return best


def run(n: int = 50_000) -> list[dict]:
    ids = [new_id(f"photo-{i}.jpg") for i in range(n)]
    secret = secrets.token_urlsafe(48)
    rows = []
    # What an app keeps in its column for a typical photo (MediaId.stored): the id, then its info.
    info = MediaInfo("image/jpeg", 2_345_678, 4032, 3024, "VwsKNZpwdneAeIh4h3d3h4Bw9weH", "#c04017")
    stored = [MediaId(media_id, info=info).stored for media_id in ids]
    with tempfile.TemporaryDirectory() as root:
        local = Media(LocalStorage(root, base_url="/media/"), secret_key=secret)
        rows.append({"case": "resize_url, LocalStorage", "per_s": _rate(local, ids)})
        # Each call reads the value (id and info) first: measured, with no target of its own.
        rows.append({"case": "resize_url of stored values, LocalStorage", "per_s": _rate(local, stored), "target": 0})
    # No client is made until the first request, and building a URL makes none.
    s3 = Media(
        S3Storage(bucket="photos", region="eu-west-1", base_url="https://media.example.com/"),
        secret_key=[secret, secret[::-1]],
    )
    rows.append({"case": "resize_url, S3Storage, 2 keys", "per_s": _rate(s3, ids)})
    return rows


def report(rows: list[dict]) -> str:
    lines = [f"{'case':44} {'URLs/s':>12}  target >= {TARGET:,}/s"]
    for r in rows:
        target = r.get("target", TARGET)
        ok = ("ok" if r["per_s"] >= target else "MISSED") if target else "(no target)"
        lines.append(f"{r['case']:44} {r['per_s']:>12,.0f}  {ok}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
