import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3media_wsgi.errors import ConfigError, InvalidPath, InvalidResize
from s3media_wsgi.variants import (
    ResizeSpec,
    default_format,
    load_presets,
    parse_size,
    parse_variant,
)

SIG = "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("size", "expected"),
    [("400x300", (400, 300)), ("400x", (400, None)), ("x300", (None, 300)), ("1x1", (1, 1))],
)
def test_parse_size(size, expected):
    assert parse_size(size) == expected


@pytest.mark.parametrize(
    "bad", ["x", "", "400", "0x300", "040x300", "400X300", "-1x2", "400x300x2", " 400x300", 400, None]
)
def test_parse_size_refuses(bad):
    with pytest.raises(InvalidResize):
        parse_size(bad)


def test_variant_roundtrip_matches_documented_shape():
    spec = ResizeSpec(400, 300, "fit", 85, False, "webp")
    assert spec.variant(SIG) == f"400x300-fit-85-noupscale-{SIG}.webp"
    assert parse_variant(spec.variant(SIG)) == (spec, SIG)
    width_only = ResizeSpec(400, None, "fit", 70, True, "jpg")
    assert width_only.variant(SIG) == f"400x-fit-70-upscale-{SIG}.jpg"
    assert parse_variant(width_only.variant(SIG))[0] == width_only


@pytest.mark.parametrize(
    "bad",
    [
        f"400x300-fit-85-noupscale-{SIG}.bmp",
        f"400x300-fit-085-noupscale-{SIG}.jpg",
        f"0400x300-fit-85-noupscale-{SIG}.jpg",
        f"400x300-crop-85-noupscale-{SIG}.jpg",
        f"400x300-fit-85-noupscale-{SIG.upper()}.jpg",
        f"400x300-fit-85-noupscale-{SIG[:-1]}.jpg",
        f"400x300-fit-85-maybe-{SIG}.jpg",
        f"400x300-fit-85-noupscale-{SIG}.jpg/x",
        "my-photo.jpg",
    ],
)
def test_parse_variant_refuses_non_canonical(bad):
    with pytest.raises(InvalidPath):
        parse_variant(bad)


@pytest.mark.parametrize(
    "spec",
    [
        ResizeSpec(None, None),
        ResizeSpec(400, None, "fill"),
        ResizeSpec(5000, 10),
        ResizeSpec(10, 10, quality=0),
        ResizeSpec(10, 10, quality=96),
        ResizeSpec(10, 10, quality=True),
        ResizeSpec(10, 10, mode="stretch"),
        ResizeSpec(10, 10, format="bmp"),
    ],
)
def test_validate_refuses(spec):
    with pytest.raises(InvalidResize):
        spec.validate(4096)


def test_default_format():
    assert [default_format(e) for e in ("png", "gif", "webp", "avif", "jpg", "heic", "pdf", "")] == [
        "png",
        "gif",
        "webp",
        "avif",
        "jpg",
        "jpg",
        "jpg",
        "jpg",
    ]


def test_presets_validated_once():
    assert load_presets({"thumb": {"size": "200x200", "mode": "fill"}}, 4096)["thumb"]["mode"] == "fill"
    for bad in (
        {"400x300": {"size": "400x300"}},
        {"thumb": {"mode": "fill"}},
        {"thumb": {"size": "200x200", "colour": "red"}},
        {"thumb": {"size": "x200", "mode": "fill"}},
        {"thumb": "200x200"},
        {"x300": {"size": "100x100"}},
        {"400x": {"size": "100x100"}},
        {"thumb": {"size": "100x100", "upscale": "false"}},
    ):
        with pytest.raises(ConfigError):
            load_presets(bad, 4096)


@given(
    st.one_of(st.none(), st.integers(1, 4096)),
    st.one_of(st.none(), st.integers(1, 4096)),
    st.sampled_from(["fit", "fill"]),
    st.integers(1, 95),
    st.booleans(),
    st.sampled_from(["jpg", "png", "webp", "avif", "gif"]),
)
def test_every_valid_spec_roundtrips(w, h, mode, q, up, fmt):
    spec = ResizeSpec(w, h, mode, q, up, fmt)
    try:
        spec.validate(4096)
    except InvalidResize:
        return
    assert parse_variant(spec.variant(SIG)) == (spec, SIG)
