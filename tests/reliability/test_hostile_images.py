"""Hostile uploads cost a bounded amount of memory and time, measured in a fresh process each.

Peak memory is a process's high-water mark, so each case runs in its own
interpreter (the ``peak_rss_mib_of`` fixture of this folder's conftest): it
builds the hostile bytes, marks the baseline, makes the calls under test,
and reports how far the peak rose.  Before the container walk
(s3media_wsgi.structure) a 20 MiB GIF comment of 1-byte sub-blocks grew the
peak by ~910 MiB in ``Media.put``, and 20 MiB of empty JPEG APP15 segments by
~700 MiB; three 40 MB GIF floods at once by ~3.5 GiB with one decode slot;
a 22 KB JPEG of 2,000 scans took 13 s of CPU per resize.
"""

from __future__ import annotations

import json
import textwrap

import pytest

# ``BUILD`` makes ``uploads``, byte strings put at once from one thread each;
# ``AFTER`` may add entries to ``extra``, reported with the rest.
_HARNESS = """
import json, tempfile, threading, time
from pathlib import Path

import images
from s3media_wsgi import LocalStorage, Media, ids

MiB = 1024 * 1024
{build}
root = Path(tempfile.mkdtemp())
media = Media(LocalStorage(root, base_url="/media/"), secret_key={secret!r}, max_concurrent_decodes=1)
media.engine.probe(images.jpeg(16, 16))  # load Pillow's plugins and codecs first
outcomes = []


def put(data):
    try:
        media.put(data, filename="upload")
        outcomes.append("stored")
    except Exception as exc:
        outcomes.append(type(exc).__name__)


baseline()
started = time.perf_counter()
threads = [threading.Thread(target=put, args=(data,)) for data in uploads]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
seconds = time.perf_counter() - started
extra = {{}}
{after}
stored = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
print(json.dumps(dict(seconds=seconds, outcomes=outcomes, stored=stored, **extra)))
"""


def run(peak_rss_mib_of, secret: str, build: str, after: str = "") -> dict:
    code = _HARNESS.format(build=textwrap.dedent(build), after=textwrap.dedent(after), secret=secret)
    growth_mib, stdout = peak_rss_mib_of(code, timeout=300)
    result = json.loads(stdout.strip().splitlines()[-1])
    result["growth_mib"] = growth_mib
    return result


@pytest.mark.parametrize(
    "build",
    [
        "uploads = [images.gif_comment_flood(20 * MiB)]",
        "uploads = [images.jpeg_app_flood(20 * MiB)]",
    ],
    ids=["gif-comment-of-1-byte-sub-blocks", "jpeg-of-empty-app15-segments"],
)
def test_a_20_mib_metadata_flood_is_refused_within_bounded_memory(peak_rss_mib_of, secret, build):
    result = run(peak_rss_mib_of, secret, build)
    assert result["outcomes"] == ["NotAnImage"]
    assert result["stored"] == []
    # Was ~700-910 MiB; the walk allocates nothing that grows with the file.
    assert result["growth_mib"] < 200, result
    assert result["seconds"] < 2, result


def test_concurrent_floods_wait_for_the_one_decode_slot(peak_rss_mib_of, secret):
    # The worst variant measured (the GIF comment flood, ~45 bytes of memory per
    # 2 bytes of file), 40 MB three times at once.  Probes used to run outside
    # the decode semaphore: +3.5 GiB, 47 s.  Now each probe holds the only slot
    # and the walk refuses the file before Pillow allocates anything that grows
    # with it (measured: < 1 MiB, 0.4 s).  300 MiB is one upload's bound (200
    # MiB, as above) plus room for the three threads and allocator slack, and
    # still a tenth of what it was.
    result = run(peak_rss_mib_of, secret, "uploads = [images.gif_comment_flood(40_000_000) for _ in range(3)]")
    assert result["outcomes"] == ["NotAnImage"] * 3
    assert result["stored"] == []
    assert result["growth_mib"] < 300, result
    assert result["seconds"] < 5, result


def test_jpeg_of_2000_scans_is_refused_by_put_and_by_resize(peak_rss_mib_of, secret):
    # 22 KB declaring 7000x7000: libjpeg runs every scan over every block, 13 s of CPU per resize.
    build = "uploads = [images.jpeg_repeated_scans(2000)]"
    # The same bytes stored before the check existed (bypassing put) are refused when resized.
    after = """
    from s3media_wsgi.errors import ImageTooLarge
    media_id = ids.new_id("scans.jpg")
    assert media.storage.put(ids.original_key(media_id), uploads[0], "image/jpeg")
    resize_started = time.perf_counter()
    try:
        media.create_resize(media.resize_key(media_id, "400x300"))
        refused = "made"
    except ImageTooLarge:
        refused = "ImageTooLarge"
    extra = dict(resize=refused, resize_seconds=time.perf_counter() - resize_started)
    """
    result = run(peak_rss_mib_of, secret, build, after)
    assert result["outcomes"] == ["ImageTooLarge"]
    assert result["seconds"] < 1, result
    assert result["resize"] == "ImageTooLarge"
    assert result["resize_seconds"] < 1, result
    # Only the original placed by hand: no resize was stored.
    assert len(result["stored"]) == 1 and result["stored"][0].endswith("/scans.jpg"), result["stored"]
