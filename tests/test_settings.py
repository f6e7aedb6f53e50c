"""The one settings parser: conversions, errors naming the key as spelled, building Media."""

from __future__ import annotations

import json

import images
import pytest
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import ConfigError, UploadTooLarge
from s3media_wsgi.settings import KNOWN_KEYS, MediaSettings, parse_settings

SECRET = "s3media-test-secret-0123456789-abcdefgh"
OTHER = "other-test-secret-0123456789-abcdefghij"


def flask_style(**values: object) -> dict[str, object]:
    return {"S3MEDIA_" + k.upper(): v for k, v in values.items()}


def pyramid_style(**values: object) -> dict[str, object]:
    return {"s3media." + k: v for k, v in values.items()}


def hello_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host app"]


# --- parsing ------------------------------------------------------------------------


def test_defaults() -> None:
    s = parse_settings({"secret_key": SECRET})
    assert s == MediaSettings(secret_key=(SECRET,))
    assert (s.storage, s.local_root, s.prefix, s.base_url) == ("local", "media", "/media/", None)
    assert s.serve_local is None and s.enabled is True and s.strict_presets is False


def test_flask_spelling_reads_prefixed_upper_keys_and_ignores_the_rest() -> None:
    config = {
        **flask_style(secret_key=SECRET, max_pixels="1000", serve_local="no", prefix="/m/"),
        "SECRET_KEY": "flask's own",  # not under the prefix: not ours
        "DEBUG": True,
    }
    s = parse_settings(config, prefix="S3MEDIA_")
    assert (s.max_pixels, s.serve_local, s.prefix, s.secret_key) == (1000, False, "/m/", (SECRET,))


def test_pyramid_spelling_reads_dotted_lower_keys() -> None:
    settings = {
        **pyramid_style(secret_key=SECRET, strict_presets="true", presets='{"t": {"size": "10x10"}}'),
        "pyramid.reload_templates": "true",
    }
    s = parse_settings(settings, prefix="s3media.")
    assert s.strict_presets is True and s.presets == {"t": {"size": "10x10"}}


def test_django_spelling_reads_upper_keys_of_a_dict() -> None:
    s = parse_settings({"SECRET_KEY": SECRET, "MAX_UPLOAD_BYTES": 10}, upper=True, container="S3MEDIA")
    assert s.max_upload_bytes == 10


@pytest.mark.parametrize(
    ("mapping", "kwargs", "name"),
    [
        (flask_style(secret_key=SECRET, max_pixels="abc"), {"prefix": "S3MEDIA_"}, "S3MEDIA_MAX_PIXELS"),
        (pyramid_style(secret_key=SECRET, max_pixels="abc"), {"prefix": "s3media."}, "s3media.max_pixels"),
        ({"SECRET_KEY": SECRET, "MAX_PIXELS": "abc"}, {"upper": True, "container": "S3MEDIA"}, 'S3MEDIA["MAX_PIXELS"]'),
    ],
)
def test_a_bad_value_is_named_as_each_framework_spells_it(mapping, kwargs, name) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(mapping, **kwargs)
    assert str(err.value) == f"{name} must be an integer, got 'abc'"


def test_missing_secret_is_an_error_never_a_default() -> None:
    with pytest.raises(ConfigError, match=r"S3MEDIA_SECRET_KEY is required"):
        parse_settings({"S3MEDIA_STORAGE": "local"}, prefix="S3MEDIA_")
    with pytest.raises(ConfigError, match=r"secret_key is required"):
        parse_settings({"secret_key": None})


def test_short_secret_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^s3media\.secret_key: secret_key\[1\] has 5 characters"):
        parse_settings(pyramid_style(secret_key=f"{SECRET}\nshort"), prefix="s3media.")


@pytest.mark.parametrize("value", [f"{SECRET}\n{OTHER}\n", f"{SECRET}, {OTHER}", [SECRET, OTHER], (SECRET, OTHER)])
def test_several_secrets_from_lines_commas_or_lists(value) -> None:
    assert parse_settings({"secret_key": value}).secret_key == (SECRET, OTHER)


def test_unknown_key_under_the_prefix_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(flask_style(secret_key=SECRET, max_pixel="1"), prefix="S3MEDIA_")
    message = str(err.value)
    assert "unknown media setting S3MEDIA_MAX_PIXEL; did you mean S3MEDIA_MAX_PIXELS?" in message
    for key in KNOWN_KEYS:
        assert "S3MEDIA_" + key.upper() in message


def test_lower_case_key_in_an_upper_case_dict_is_unknown() -> None:
    match = r'unknown media setting S3MEDIA\["secret_key"\]; did you mean S3MEDIA\["SECRET_KEY"\]\?'
    with pytest.raises(ConfigError, match=match):
        parse_settings({"secret_key": SECRET}, upper=True, container="S3MEDIA")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("yes", True),
        ("On", True),
        ("1", True),
        (" false ", False),
        ("off", False),
        ("0", False),
        (True, True),
        (0, False),
    ],
)
def test_booleans_like_pyramids_asbool(word, expected) -> None:
    assert parse_settings({"secret_key": SECRET, "serve_local": word}).serve_local is expected


@pytest.mark.parametrize("word", ["maybe", "", 2, 1.0])
def test_anything_else_is_not_a_boolean(word) -> None:
    with pytest.raises(ConfigError, match=r"serve_local must be true or false"):
        parse_settings({"secret_key": SECRET, "serve_local": word})


@pytest.mark.parametrize("value", ["0", -5, True, 3.5, "1e6"])
def test_integers_must_be_positive_ints(value) -> None:
    with pytest.raises(ConfigError, match=r"^max_upload_bytes must be a"):
        parse_settings({"secret_key": SECRET, "max_upload_bytes": value})


def test_integer_strings_with_underscores() -> None:
    assert parse_settings({"secret_key": SECRET, "max_pixels": " 50_000_000 "}).max_pixels == 50_000_000


def test_presets_as_json_string_or_dict() -> None:
    presets = {"thumb": {"size": "200x200", "mode": "fill"}}
    assert parse_settings({"secret_key": SECRET, "presets": json.dumps(presets)}).presets == presets
    assert parse_settings({"secret_key": SECRET, "presets": presets}).presets == presets


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("{not json", r"^s3media\.presets must be a JSON object"),
        ("[1, 2]", r"^s3media\.presets must be a dict"),
        ('{"thumb": {"size": "big"}}', r"^s3media\.presets: preset 'thumb'"),
        ('{"thumb": {"size": "10x10", "colour": "red"}}', r"^s3media\.presets: preset 'thumb' has unknown keys"),
    ],
)
def test_bad_presets_fail_at_parse_time(value, match) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_settings(pyramid_style(secret_key=SECRET, presets=value), prefix="s3media.")


def test_strict_presets_needs_presets() -> None:
    with pytest.raises(ConfigError, match=r"S3MEDIA_STRICT_PRESETS is on but S3MEDIA_PRESETS is empty"):
        parse_settings(flask_style(secret_key=SECRET, strict_presets="yes"), prefix="S3MEDIA_")


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (
            {"storage": "ftp"},
            r"^storage must be one of local, s3, or the dotted path of a function returning a storage, got 'ftp'",
        ),
        ({"storage": "s3"}, r"^bucket is required when storage is 's3'"),
        ({"bucket": "b"}, r"^bucket has no effect when storage is 'local'"),
        ({"storage": "s3", "bucket": "b", "local_root": "x"}, r"^local_root has no effect when storage is 's3'"),
        ({"prefix": "media"}, r"^prefix must be a URL path .* starting and ending with '/'"),
        ({"prefix": "/"}, r"^prefix must be a URL path"),
        ({"base_url": "https://cdn.example/media"}, r"^base_url must be a URL \(or path\) ending in '/'"),
        ({"local_root": "  "}, r"^local_root must be a non-empty string"),
        ({"secret_key": 12345}, r"^secret_key must be a string or a list"),
    ],
)
def test_inconsistent_or_malformed_settings(extra, match) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_settings({"secret_key": SECRET, **extra})


def test_storage_name_is_case_insensitive() -> None:
    assert parse_settings({"secret_key": SECRET, "storage": "S3", "bucket": "b"}).storage == "s3"


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^S3MEDIA must be a dict of media settings, got str"):
        parse_settings("secret", container="S3MEDIA")  # type: ignore[arg-type]


# --- building -------------------------------------------------------------------------


def test_local_media_defaults_base_url_to_the_prefix(tmp_path) -> None:
    media = Media.from_settings(
        flask_style(secret_key=SECRET, local_root=str(tmp_path / "m"), prefix="/files/"), prefix="S3MEDIA_"
    )
    assert isinstance(media.storage, LocalStorage)
    assert media.storage.root == (tmp_path / "m").resolve()
    media_id = media.put(images.jpeg(64, 48), filename="cat.jpg")
    assert media.url(media_id) == f"/files/{media_id}/cat.jpg"
    assert (tmp_path / "m" / media_id / "cat.jpg").read_bytes() == images.jpeg(64, 48)


def test_limits_reach_media(tmp_path) -> None:
    media = Media.from_settings({"secret_key": SECRET, "local_root": str(tmp_path), "max_upload_bytes": "100"})
    with pytest.raises(UploadTooLarge):
        media.put(images.jpeg(64, 48))
    assert list(tmp_path.iterdir()) == []


def test_first_secret_signs_every_one_verifies(tmp_path) -> None:
    old = Media.from_settings({"secret_key": OTHER, "local_root": str(tmp_path)})
    rotated = Media.from_settings({"secret_key": f"{SECRET}\n{OTHER}", "local_root": str(tmp_path)})
    media_id = old.put(images.jpeg(64, 48), filename="a.jpg")
    old_key = old.resize_key(media_id, "32x")
    assert rotated.verify_resize(old_key)[0] == media_id  # URLs already handed out keep working
    assert rotated.resize_key(media_id, "32x") != old_key  # new ones are signed by the first key
    assert rotated.resize_key(media_id, "32x") == Media.from_settings(
        {"secret_key": SECRET, "local_root": str(tmp_path)}
    ).resize_key(media_id, "32x")


def test_s3_media_against_a_real_s3_server(moto_endpoint, s3_bucket, s3_client) -> None:
    settings = pyramid_style(
        secret_key=SECRET,
        storage="s3",
        bucket=s3_bucket,
        region="us-east-1",
        endpoint_url=moto_endpoint,
        base_url=f"{moto_endpoint}/{s3_bucket}/",
    )
    media = Media.from_settings(settings, prefix="s3media.")
    assert isinstance(media.storage, S3Storage)
    media_id = media.put(images.jpeg(64, 48), filename="cat.jpg")
    body = s3_client.get_object(Bucket=s3_bucket, Key=f"{media_id}/cat.jpg")["Body"].read()
    assert body == images.jpeg(64, 48)
    assert media.url(media_id) == f"{moto_endpoint}/{s3_bucket}/{media_id}/cat.jpg"


def test_factory_builds_media_and_middleware_that_serve_and_pass_the_rest_through(tmp_path) -> None:
    from s3media_wsgi.factory import middleware_kwargs

    s = parse_settings({"secret_key": SECRET, "local_root": str(tmp_path)})
    media = Media.from_settings(s)
    app = MediaMiddleware(hello_app, media, **middleware_kwargs(s))
    assert isinstance(app, MediaMiddleware)
    media_id = media.put(images.jpeg(64, 48), filename="a.jpg")
    assert Request.blank("/elsewhere").get_response(app).body == b"host app"
    served = Request.blank(media.resize_url(media_id, "32x")).get_response(app)
    assert served.status_code == 200 and served.content_type == "image/jpeg"


def test_from_settings_on_a_subclass_builds_the_subclass(tmp_path) -> None:
    class MyMedia(Media):
        pass

    media = MyMedia.from_settings({"secret_key": SECRET, "local_root": str(tmp_path)})
    assert type(media) is MyMedia


def test_local_root_may_be_a_path_object(tmp_path):
    from s3media_wsgi.settings import parse_settings

    settings = parse_settings(
        {"SECRET_KEY": "demo-secret-0123456789-abcdefghijk", "LOCAL_ROOT": tmp_path / "media"},
        upper=True,
        container="S3MEDIA",
    )
    assert settings.local_root == str(tmp_path / "media")
    media = Media.from_settings(settings)
    assert media.storage.root == (tmp_path / "media").resolve()


# --- row 16: hostile strings in settings ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["presets", "image_limits"])
@pytest.mark.parametrize(
    "value, match",
    [
        ("[" * 50_000 + "]" * 50_000, "bytes, over"),
        ("[" * 5_000 + "]" * 5_000, "nests deeper than"),
        ('{"a":' * 2_000 + "1" + "}" * 2_000, "nests deeper than"),
        ('{"thumb": {"size": "' + "1" * 200_000 + '"}}', "bytes, over"),
        ('{"thumb": {"size": "10x10"}', "not valid JSON"),
        ('{"thumb": {"size": "10x10"}}\udcff', "not valid JSON"),
    ],
)
def test_row16_hostile_json_settings_are_a_config_error(key, value, match) -> None:
    with pytest.raises(ConfigError, match=rf"^s3media\.{key} must be a JSON object .*({match})"):
        parse_settings(pyramid_style(secret_key=SECRET, **{key: value}), prefix="s3media.")


@pytest.mark.parametrize(
    "key, value",
    [
        ("secret_key", SECRET + "\ud800"),
        ("secret_key", "\udcff" + SECRET),
        ("bucket", "photos\udcff"),
        ("local_root", "media\ud800"),
        ("prefix", "/m\udcff/"),
        ("cache_control", "private\ud800"),
        ("presets", '{"th\\ud800umb": {"size": "10x10"}}'),
        ("presets", '{"th\ud800umb": {"size": "10x10"}}'),
        ("presets", '{"thumb": {"size": "10x10", "mode": "fill\ud800"}}'),
        ("image_limits", '{"max_pixels": "1000\ud800"}'),
        ("image_limits", '{"max_pixels\udcff": 1000}'),
        ("allowed_types", "jpeg,\ud800"),
        ("cors_origins", "https://a\ud800.example"),
        ("uploads", "myapp.\ud800:hook"),
    ],
)
def test_row16_a_lone_surrogate_in_a_setting_is_a_config_error(key, value) -> None:
    settings = {"secret_key": SECRET, key: value}
    if key in ("bucket", "cache_control"):
        settings.update(storage="s3", bucket=settings.get("bucket", "photos"), region="us-east-1")
    with pytest.raises(ConfigError, match=rf"^s3media\.{key}"):
        parse_settings(pyramid_style(**settings), prefix="s3media.")


# --- the registry: each setting declared once, everything else follows or is checked ---------------


def test_the_docs_settings_table_is_the_one_the_registry_prints() -> None:
    from pathlib import Path

    from s3media_wsgi.settings import markdown_table

    docs = Path(__file__).resolve().parent.parent / "docs" / "reference"
    table = (docs / "settings-table.md").read_text()
    assert table == markdown_table(), (
        "regenerate it: python -m s3media_wsgi.settings --markdown > docs/reference/settings-table.md"
    )
    # The settings page shows that file, and no hand-written table of its own.
    page = (docs / "settings.md").read_text()
    assert "```{include} settings-table.md\n```" in page
    assert "| key | meaning | default |" not in page


def test_media_settings_has_one_field_per_setting_with_its_default() -> None:
    import dataclasses

    from s3media_wsgi.settings import SETTINGS

    fields = dataclasses.fields(MediaSettings)
    assert {f.name for f in fields} == set(SETTINGS) == set(KNOWN_KEYS)
    unset = MediaSettings()
    assert {f.name: getattr(unset, f.name) for f in fields} == {k: s.default for k, s in SETTINGS.items()}


def test_a_setting_cannot_be_defined_twice() -> None:
    from s3media_wsgi.settings import SETTINGS, as_str, define

    with pytest.raises(ValueError, match="defined twice"):
        define("bucket", as_str, None, "s3", "again")
    with pytest.raises(ValueError, match="unknown group"):
        define("brand_new", as_str, None, "nowhere", "?")
    assert "brand_new" not in SETTINGS


@pytest.mark.parametrize(
    ("spell", "kwargs"),
    [
        (lambda key: "S3MEDIA_" + key.upper(), {"prefix": "S3MEDIA_"}),
        (lambda key: "s3media." + key, {"prefix": "s3media."}),
        (lambda key: key.upper(), {"upper": True, "container": "S3MEDIA"}),
    ],
)
def test_every_registered_key_is_read_in_each_framework_spelling(spell, kwargs) -> None:
    from s3media_wsgi.settings import DJANGO_SETTING, ENV_PREFIX, PYRAMID_PREFIX, SETTINGS, spelling

    assert (ENV_PREFIX, PYRAMID_PREFIX, DJANGO_SETTING) == ("S3MEDIA_", "s3media.", "S3MEDIA")
    for key in SETTINGS:
        written = spell(key)
        prefix = kwargs.get("prefix", "")
        assert spelling(key, prefix, kwargs.get("upper")) == written
        # Known (None counts as not set), and a letter more is not.
        assert parse_settings({written: None, spell("secret_key"): SECRET}, **kwargs).secret_key == (SECRET,)
        with pytest.raises(ConfigError, match="unknown media setting"):
            parse_settings({spell("secret_key"): SECRET, written + "X": "1"}, **kwargs)
