"""What one image costs in memory when it is checked at ``put``, and when it is resized, by source kind.

The README's "memory of one resize or upload check" row promises a number
of bytes per source pixel for each kind of source; these tests hold it.
Each case runs in a fresh interpreter (the ``peak_rss_mib_of`` fixture of
this folder's conftest).  The source is made by this process and read from
a file there (memory the child freed while encoding would otherwise be
reused by the decode without showing in its peak), and every codec is
loaded before the first baseline (so that loading one is not counted as
the image's cost).  Then ``put`` (which decodes the first frame,
``check_pixels``) is measured from one baseline, and one resize from
another.

Why the kinds differ: Pillow's WebP decoder keeps two full canvases and
hands the frame over as a copy before the image holds it; AVIF and HEIC
decoders hold their planes and a copy; PNG with alpha is premultiplied for
the resize (two 4-byte copies); a progressive JPEG is decoded from its
buffered coefficients; a baseline JPEG is decoded at 1/2 to 1/8 scale when
the output is lossy and at most a quarter of its width.
"""

from __future__ import annotations

import json
import math

import images
import pytest
from PIL import Image

from s3media_wsgi.imaging import ImageEngine, decode_cost, ladder_cost

MiB = 1024 * 1024
W, H = 3000, 2000


def _palette_with_transparency() -> Image.Image:
    img = images.photo(W, H).convert("P", palette=Image.Palette.ADAPTIVE)
    img.info["transparency"] = 0
    return img


# (label, the source as a function of nothing, format and save options, output size, stated bytes per pixel)
CASES = [
    ("webp", lambda: images.photo(W, H), ("WEBP", {"quality": 85}), "400x300", 18.0),
    ("webp-lossless", lambda: images.photo(W, H), ("WEBP", {"lossless": True, "method": 0}), "400x300", 18.0),
    ("avif", lambda: images.photo(W, H), ("AVIF", {"quality": 60, "speed": 10}), "400x300", 10.0),
    ("heic", lambda: images.photo(W, H), ("HEIF", {"quality": 80}), "400x300", 10.0),
    ("png-rgba", lambda: images.photo(W, H).convert("RGBA"), ("PNG", {"compress_level": 1}), "400x300", 10.0),
    ("png-16-bit", lambda: images.photo(W, H).convert("I;16"), ("PNG", {"compress_level": 1}), "400x300", 10.0),
    ("png-palette-trns", _palette_with_transparency, ("PNG", {"compress_level": 1}), "400x300", 10.0),
    ("jpeg-cmyk-progressive", lambda: images.photo(W, H).convert("CMYK"), ("JPEG", {"progressive": True}), "400x300",
     10.0),
    ("png-rgb", lambda: images.photo(W, H), ("PNG", {"compress_level": 1}), "400x300", 5.0),
    ("gif", lambda: images.photo(W, H).convert("P", palette=Image.Palette.ADAPTIVE), ("GIF", {}), "400x300", 5.0),
    ("jpeg-444-progressive", lambda: images.photo(W, H), ("JPEG", {"progressive": True, "subsampling": 0}), "400x300",
     7.5),
    ("jpeg-baseline-to-wide", lambda: images.photo(W, H), ("JPEG", {"quality": 90}), "1600x", 7.5),
    ("jpeg-progressive", lambda: images.photo(W, H), ("JPEG", {"quality": 90, "progressive": True}), "400x300", 4.5),
    ("jpeg-baseline", lambda: images.photo(W, H), ("JPEG", {"quality": 90}), "400x300", 1.5),
]  # fmt: skip

_SNIPPET = """
import io, json, tempfile
from pathlib import Path

from images import encode, photo
from PIL import Image
from s3media_wsgi import LocalStorage, Media
{heif}
data = Path({path!r}).read_bytes()
media = Media(LocalStorage(Path(tempfile.mkdtemp()), base_url="/media/"), secret_key={secret!r},
              max_concurrent_decodes=1)
small = photo(64, 48)
for fmt, options in [("JPEG", {{}}), ("JPEG", {{"progressive": True}}), ("PNG", {{}}), ("WEBP", {{}}), ("GIF", {{}}),
                     ("WEBP", {{"lossless": True}}), *([("AVIF", {{}})] if {avif} else []),
                     *([("HEIF", {{}})] if {heic} else [])]:
    warm = encode(small, fmt, **options)
    media.engine.resize(warm, media.resize_spec(media.put(warm), "32x"))
baseline()
media_id = media.put(data, filename="source")
check_mib = max(0, _peak_rss_kib() - _PEAK_BASELINE_KIB) / 1024
baseline()
media.engine.resize(data, media.resize_spec(media_id, {size!r}))
print(json.dumps([media_id.width, media_id.height, check_mib]))
"""


@pytest.mark.parametrize(("label", "make", "saved", "size", "per_pixel"), CASES, ids=[c[0] for c in CASES])
def test_one_image_costs_what_the_readme_states(peak_rss_mib_of, secret, tmp_path, label, make, saved, per_pixel, size):
    engine = ImageEngine()
    if label in ("avif", "heic") and not engine.can_read(label):
        pytest.fail(f"no {label} codec here (the dev extra installs one): the README's figure would be unheld")
    heif = ""
    if label == "heic" or engine.can_read("heic"):
        import pillow_heif  # the encoder (the engine reads HEIC only through it, so it is here)

        pillow_heif.register_heif_opener()
        heif = "import pillow_heif; pillow_heif.register_heif_opener()"
    path = tmp_path / "source"
    path.write_bytes(images.encode(make(), saved[0], **saved[1]))
    # The memory budget reserves what this test holds (ImageLimits.decode_memory).
    with Image.open(path) as opened:
        assert decode_cost(opened, W * H, drafted=label == "jpeg-baseline") == math.ceil(per_pixel * W * H)
        # The check at put also makes the source ladder: the budget reserves that on top.
        check_per_pixel = decode_cost(opened, W * H, drafted=True) / (W * H) + ladder_cost(opened, W * H) / (W * H)
    code = _SNIPPET.format(
        path=str(path),
        secret=secret,
        size=size,
        heif=heif,
        avif=engine.can_read("avif"),
        heic=bool(heif),
    )
    resize_mib, stdout = peak_rss_mib_of(code, timeout=120)
    width, height, check_mib = json.loads(stdout.strip().splitlines()[-1])
    assert (width, height) == (W, H)
    stated_mib = per_pixel * W * H / MiB
    check_stated_mib = check_per_pixel * W * H / MiB
    print(f"{label}: check {check_mib:.1f} MiB (stated {check_stated_mib:.1f}), resize {resize_mib:.1f} MiB, "
          f"stated {stated_mib:.1f}")  # fmt: skip
    # 10% and 4 MiB of room for the allocator and the codecs' own tables.
    for what, mib, stated in (("the check at put", check_mib, check_stated_mib), ("a resize", resize_mib, stated_mib)):
        assert mib <= stated * 1.1 + 4, f"{label}: {what} took {mib:.0f} MiB, the docs state {stated:.0f}"


# --- many threads at once: the per-process plan ------------------------------------

#: The README's plan for one process: the images being worked on at once cost
#: at most ``ImageLimits.decode_memory`` together (1 GiB by default).
PLAN_MIB = 1024

_BURSTS = """
import json, threading

import images
from s3media_wsgi.imaging import ImageEngine, decode_cost
from s3media_wsgi.variants import ResizeSpec


def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


engine = ImageEngine(max_concurrency=2)
engine.resize(images.lossless_webp_canvas(64, 48), ResizeSpec(32, None, "fit", 85, False, "webp"))  # load the codec
data = images.lossless_webp_canvas()  # 28 bytes, 7071 x 7071: 50 MP
spec = ResizeSpec(400, 300, "fit", 85, False, "webp")
bursts = []
baseline()
start = rss_mib()
for _ in range({bursts}):
    outcomes = []

    def resize():
        try:
            engine.resize(data, spec)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=resize) for _ in range({threads})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak = max(0, _peak_rss_kib() - _PEAK_BASELINE_KIB) / 1024
    bursts.append(dict(peak=peak, settled=rss_mib() - start, outcomes=sorted(outcomes)))
print(json.dumps(bursts))
"""


def test_bursts_of_big_decodes_keep_to_the_memory_plan(peak_rss_mib_of):
    # 4 bursts of 8 threads resizing a 28-byte, 50 MP lossless WebP (~760 MiB
    # to decode) with 2 decode slots.  Before the memory budget the two slots
    # decoded two at once (1.5 GiB here, 2.3-2.75 GiB reported elsewhere), and
    # glibc's arenas kept 150-250 MiB (elsewhere 1.2-1.6 GiB) after each burst.
    growth, stdout = peak_rss_mib_of(_BURSTS.format(bursts=4, threads=8), timeout=300)
    bursts = json.loads(stdout.strip().splitlines()[-1])
    for i, burst in enumerate(bursts, 1):
        print(f"burst {i}: peak {burst['peak']:.0f} MiB, settled {burst['settled']:.0f} MiB, {burst['outcomes']}")
    for burst in bursts:
        assert "ok" in burst["outcomes"]
        assert set(burst["outcomes"]) <= {"ok", "Busy"}
        # What is freed goes back to the system: a few MiB of room for Python and the allocator.
        assert burst["settled"] <= 48, f"{burst['settled']:.0f} MiB stayed after a burst: {bursts}"
    # 10% of room for the allocator (the budget's estimate already rounds up).
    assert growth <= PLAN_MIB * 1.1, f"peak {growth:.0f} MiB over the plan of {PLAN_MIB} MiB: {bursts}"
