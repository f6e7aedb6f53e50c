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

import images
import pytest
from PIL import Image

from s3media_wsgi.imaging import ImageEngine

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
    print(f"{label}: check {check_mib:.1f} MiB, resize {resize_mib:.1f} MiB, stated {stated_mib:.1f}")
    # 10% and 4 MiB of room for the allocator and the codecs' own tables.
    for what, mib in (("the check at put", check_mib), ("a resize", resize_mib)):
        assert mib <= stated_mib * 1.1 + 4, f"{label}: {what} took {mib:.0f} MiB, the README states {stated_mib:.0f}"
