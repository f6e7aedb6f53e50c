"""What one image costs in memory while it is checked at ``put`` and resized, by source format.

The README's "memory of one resize" row promises a number of bytes per
source pixel for each kind of source; these tests hold it.  Each case runs
in a fresh interpreter (the ``peak_rss_mib_of`` fixture of this folder's
conftest): it reads the source from a file (made by this process: memory
the child freed while encoding would be reused by the decode without
showing in its peak), marks the baseline, then puts the image
(which decodes its first frame, ``check_pixels``) and makes one 400x300
resize of it, and reports how far the peak RSS rose.

Why the formats differ: Pillow's WebP decoder keeps two full canvases and
hands the frame over as a copy before the image holds it (about 17 bytes a
pixel); AVIF and HEIC decoders hold their planes and a copy, plus a few MiB
of codec state; PNG with alpha holds the image and its premultiplied copy
(about 9), without alpha about 5; a progressive JPEG is decoded at full size from its
buffered coefficients; a baseline JPEG resized to JPEG is decoded at 1/2 to
1/8 scale and costs far less than a byte a pixel.
"""

from __future__ import annotations

import json

import images
import pytest

from s3media_wsgi.imaging import ImageEngine

MiB = 1024 * 1024

# (label, width, height, mode, format and its options, bytes per source pixel the README states)
CASES = [
    ("webp", 3000, 2000, "RGB", ("WEBP", {"quality": 85}), 17.0),
    ("png-rgba", 3000, 2000, "RGBA", ("PNG", {"compress_level": 1}), 9.0),
    ("png", 3000, 2000, "RGB", ("PNG", {"compress_level": 1}), 5.0),
    ("avif", 2000, 1500, "RGB", ("AVIF", {"quality": 60}), 14.0),
    ("heic", 3000, 2000, "RGB", ("HEIF", {"quality": 80}), 10.0),
    ("progressive-jpeg", 3000, 2000, "RGB", ("JPEG", {"quality": 90, "progressive": True}), 4.5),
    ("baseline-jpeg", 3000, 2000, "RGB", ("JPEG", {"quality": 90}), 1.5),
]

_SNIPPET = """
import json, tempfile
from pathlib import Path

from images import encode, photo
from s3media_wsgi import LocalStorage, Media

data = Path({path!r}).read_bytes()
media = Media(LocalStorage(Path(tempfile.mkdtemp()), base_url="/media/"), secret_key={secret!r},
              max_concurrent_decodes=1)
media.engine.probe(encode(photo(16, 16), "PNG"), decode=True)  # load Pillow's plugins and codecs first
baseline()
media_id = media.put(data, filename="source")
media.engine.resize(data, media.resize_spec(media_id, "400x300"))
print(json.dumps([media_id.width, media_id.height]))
"""


@pytest.mark.parametrize(("label", "width", "height", "mode", "saved", "per_pixel"), CASES, ids=[c[0] for c in CASES])
def test_one_image_costs_what_the_readme_states(
    peak_rss_mib_of, secret, tmp_path, label, width, height, mode, saved, per_pixel
):
    if label in ("avif", "heic") and not ImageEngine().can_read(label):
        pytest.fail(f"no {label} codec here (the dev extra installs one): the README's figure would be unheld")
    if label == "heic":
        import pillow_heif  # the encoder (the engine reads HEIC only through it, so it is here)

        pillow_heif.register_heif_opener()
    path = tmp_path / "source"
    path.write_bytes(images.encode(images.photo(width, height).convert(mode), saved[0], **saved[1]))
    code = _SNIPPET.format(path=str(path), secret=secret)
    growth_mib, stdout = peak_rss_mib_of(code, timeout=120)
    assert json.loads(stdout.strip().splitlines()[-1]) == [width, height]
    stated_mib = per_pixel * width * height / MiB
    # 10% and 8 MiB of room for the allocator and the codec's own tables.
    assert growth_mib <= stated_mib * 1.1 + 8, f"{label}: {growth_mib:.0f} MiB, the README states {stated_mib:.0f}"
    print(f"{label}: {growth_mib:.1f} MiB for {width}x{height} ({growth_mib * MiB / (width * height):.1f} B/px)")
