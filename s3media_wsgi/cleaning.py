"""Remove location, maker notes and XMP from a stored original, without re-encoding it.

:func:`clean` drops whole JPEG segments, PNG chunks and WebP chunks; the
compressed pixel data is never touched, so the decoded pixels stay
bit-identical.  What is kept and dropped, per format:

* **JPEG**: kept are the APP0 JFIF header (it tells decoders the colour
  space), APP2 ``ICC_PROFILE``, APP14 ``Adobe`` (it says how to convert the colours) and every segment a decoder needs
  (tables, frame, scans).  The Exif APP1 is *replaced* by a minimal Exif
  holding only the orientation (none when it is 1): rewriting the camera's
  IFDs in place would mean following every offset, maker notes included,
  whose private offsets are absolute in some makes; a new IFD of one entry
  cannot carry anything left over (GPS, maker note, serial numbers, the Exif
  thumbnail, which may show the uncropped picture).  Dropped: XMP and
  extended XMP (APP1), APP13 (Photoshop IRB, IPTC: captions, creator,
  location), COM comments, JFXX thumbnails, every other APPn (vendor data,
  MPF), and
  everything after the first EOI (an MPO's other pictures, appended
  "motion photo" videos): only the first picture is ever decoded.
* **PNG**: kept are the critical chunks (``IHDR``, ``PLTE``, ``IDAT``,
  ``IEND``), the colour and display chunks (``iCCP``, ``sRGB``, ``gAMA``,
  ``cHRM``, ``cICP``, ``mDCv``, ``cLLi``, ``sBIT``, ``pHYs``, ``bKGD``,
  ``tRNS``, ``hIST``, ``sPLT``) and APNG's (``acTL``, ``fcTL``, ``fdAT``).
  ``eXIf`` becomes a minimal one (orientation only, when not 1); every other
  ancillary chunk is dropped: ``tEXt``, ``zTXt``, ``iTXt`` (XMP lives in
  one, ImageMagick writes raw Exif into another), ``tIME``, and private ones
  (C2PA's ``caBX``...).  Whole chunks go, so every CRC stays valid.
* **WebP**: ``EXIF`` becomes a minimal one (orientation only, when not 1),
  ``XMP `` and unknown chunks are dropped, ``VP8X``'s EXIF and XMP flags and
  the RIFF size are set to what is left; ``ICCP``, ``ANIM``, ``ANMF``,
  ``ALPH``, ``VP8`` and ``VP8L`` are kept.  Bytes after the RIFF size go.
* **GIF, AVIF, HEIC** and anything else: stored as they are.  AVIF and HEIC
  keep their Exif and XMP as items whose places ``iloc`` gives in absolute
  offsets: removing them safely means rewriting ``iinf``, ``iloc``, ``iref``
  and ``mdat`` together, which is not done yet.

The file was walked by :mod:`s3media_wsgi.structure` before this runs, so
cleaning is not expected to fail; when it does (or its result does not walk),
the original bytes are kept and a warning logged.

    >>> clean(b"GIF89a...", 1) == b"GIF89a..."
    True
"""

from __future__ import annotations

import logging
import re
import zlib

from . import structure

log = logging.getLogger("s3media_wsgi")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"IEND",
        b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"mDCv", b"cLLi", b"sBIT",
        b"pHYs", b"bKGD", b"tRNS", b"hIST", b"sPLT",
        b"acTL", b"fcTL", b"fdAT",
    }
)  # fmt: skip
_WEBP_KEPT = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04

_JPEG_MARKER = re.compile(rb"\xff[^\x00\xff\xd0-\xd7]")
_SOI, _EOI, _SOS, _TEM, _COM = 0xD8, 0xD9, 0xDA, 0x01, 0xFE
_APP0, _APP1, _APP2, _APP14 = 0xE0, 0xE1, 0xE2, 0xEE
_EXIF_HEADER = b"Exif\x00\x00"


def minimal_exif(orientation: int) -> bytes:
    """A TIFF structure (big-endian) whose one IFD holds only the orientation tag.

    >>> minimal_exif(6).hex()
    '4d4d002a00000008000101120003000000010006000000000000'
    """
    entry = (0x0112).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
    entry += orientation.to_bytes(2, "big") + bytes(2)
    return b"MM\x00\x2a" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry + bytes(4)


def clean(data: bytes, orientation: int) -> bytes:
    """*data* without location, maker notes, XMP and the other metadata listed above.

    *orientation* (1-8, what the engine read) is kept.  Returns *data*
    itself when nothing was removed, or when cleaning failed.
    """
    try:
        if data.startswith(b"\xff\xd8"):
            cleaned = _clean_jpeg(data, orientation)
        elif data.startswith(_PNG_SIGNATURE):
            cleaned = _clean_png(data, orientation)
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            cleaned = _clean_webp(data, orientation)
        else:
            return data
        if cleaned == data:
            return data
        # What is stored must walk as the original did.
        structure.check(cleaned, max_metadata_bytes=len(cleaned), max_jpeg_scans=1 << 30)
    except Exception as exc:  # never lose an upload to its metadata: keep it as it came
        log.warning("could not remove the metadata of an image (%s: %s); stored as uploaded", type(exc).__name__, exc)
        return data
    return cleaned


def _clean_jpeg(data: bytes, orientation: int) -> bytes:
    out = [data[:2]]
    pos = 2
    exif_written = False
    find = _JPEG_MARKER.search
    while True:
        found = find(data, pos)
        if found is None:
            raise ValueError("no EOI")
        at = found.start()
        marker = data[at + 1]
        if marker == _EOI:
            out.append(data[pos : at + 2])  # anything between the last scan and EOI is entropy data
            return b"".join(out)
        if marker == _TEM:
            out.append(data[pos : at + 2])
            pos = at + 2
            continue
        length = (data[at + 2] << 8) | data[at + 3]
        end = at + 2 + length
        body = data[at + 4 : end]
        if marker == _SOS:
            # Scan header and entropy-coded data up to the next marker: kept as is.
            out.append(data[pos:end])
            pos = end
            continue
        keep = True
        if 0xE0 <= marker <= 0xEF or marker == _COM:
            keep = (marker == _APP0 and body.startswith(b"JFIF\x00")) or (
                marker == _APP2 and body.startswith(b"ICC_PROFILE\x00")
            )
            keep = keep or (marker == _APP14 and body.startswith(b"Adobe"))
            if marker == _APP1 and body.startswith(_EXIF_HEADER) and not exif_written:
                exif_written = True
                if orientation != 1:
                    payload = _EXIF_HEADER + minimal_exif(orientation)
                    out.append(data[pos:at])  # stray bytes before it, if any
                    out.append(b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload)
                    pos = end
                    continue
        if keep:
            out.append(data[pos:end])
        else:
            out.append(data[pos:at])
        pos = end


def _clean_png(data: bytes, orientation: int) -> bytes:
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while True:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        after = pos + 12 + length
        if after > len(data):
            raise ValueError(f"chunk {kind!r} runs past the end")
        if kind in _PNG_KEPT:
            out.append(data[pos:after])
        elif kind == b"eXIf" and orientation != 1:
            out.append(_png_chunk(b"eXIf", minimal_exif(orientation)))
        if kind == b"IEND":
            return b"".join(out)
        pos = after


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _clean_webp(data: bytes, orientation: int) -> bytes:
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    chunks: list[bytearray] = []
    pos = 12
    exif = False
    while pos + 8 <= riff_end:
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        after = pos + 8 + size + (size & 1)
        if kind in _WEBP_KEPT:
            chunks.append(bytearray(data[pos : min(after, riff_end)]))
        elif kind == b"EXIF" and orientation != 1 and not exif:
            exif = True
            body = minimal_exif(orientation)
            chunks.append(bytearray(b"EXIF" + len(body).to_bytes(4, "little") + body + bytes(len(body) & 1)))
        pos = after
    for chunk in chunks:
        if chunk[:4] == b"VP8X":
            chunk[8] = (chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)) | (_VP8X_EXIF if exif else 0)
            break
    else:  # an EXIF chunk needs the extended format's header: a simple file has none to carry it
        chunks = [chunk for chunk in chunks if chunk[:4] != b"EXIF"]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


__all__ = ["clean", "minimal_exif"]
