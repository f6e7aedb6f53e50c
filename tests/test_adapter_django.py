"""Django adapter through Django's test Client, with override_settings."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

django = pytest.importorskip("django")

from django_testapp import configure  # noqa: E402

# Configured once per process, shared with test_django_field.py (tests/django_testapp/__init__.py);
# the tests below set ROOT_URLCONF and MIDDLEWARE themselves.
configure()

import images  # noqa: E402
from django.core.checks import Error, run_checks  # noqa: E402
from django.core.exceptions import MiddlewareNotUsed  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.template import Context, Template  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from PIL import Image  # noqa: E402

from s3media_wsgi import LocalStorage, Media  # noqa: E402
from s3media_wsgi.adapters.django import current_request, get_media, get_settings  # noqa: E402
from s3media_wsgi.adapters.django.checks import check_settings  # noqa: E402
from s3media_wsgi.adapters.django.middleware import S3MediaMiddleware  # noqa: E402
from s3media_wsgi.errors import ConfigError  # noqa: E402

MIDDLEWARE = ["s3media_wsgi.adapters.django.middleware.S3MediaMiddleware"]

PAGE = Template(
    "{% load s3media %}"
    "<a href=\"{% media_url media_id %}\">{% resize_url media_id '90x90' mode='fill' %}</a>\n"
    "{% picture media_id sizes='100,200' alt=alt class='photo' data_pk=7 %}\n"
    "<i>{% resize_url media_id '90x90' mode='fill' focus='0.2,0.3' %}</i>"
)


# --- the host app's own views ---------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


def echo(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(request.body, content_type="application/octet-stream")
    response["X-Host"] = "yes"
    response.set_cookie("session", "abc")
    return response


def upload(request: HttpRequest) -> JsonResponse:
    media_id = get_media().put(request.FILES["photo"])
    return JsonResponse({"id": media_id, "width": media_id.width})


def page(request: HttpRequest, media_id: str) -> HttpResponse:
    return HttpResponse(PAGE.render(Context({"media_id": media_id, "alt": request.GET.get("alt", "")})))


def shadow(request: HttpRequest, rest: str) -> HttpResponse:
    return HttpResponse("routed")


def whoami(request: HttpRequest) -> HttpResponse:
    """Whether the view's request is the one current_request() gives (what a form field asks)."""
    return HttpResponse("same" if current_request() is request else f"other: {current_request()!r}")


urlpatterns = [
    path("", home),
    path("echo", echo),
    path("upload", upload),
    path("page/<path:media_id>", page),
    path("media/<path:rest>", shadow),
    path("whoami", whoami),
]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def conf(tmp_path: Path, secret: str) -> Iterator[dict[str, object]]:
    value: dict[str, object] = {"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "media")}
    with override_settings(S3MEDIA=value, ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE):
        yield value


@pytest.fixture
def client(conf: dict[str, object]) -> Client:
    return Client()


def post_photo(client: Client, data: bytes = b"") -> str:
    photo = io.BytesIO(data or images.jpeg(400, 300))
    photo.name = "cat.jpg"
    response = client.post("/upload", {"photo": photo})
    assert response.status_code == 200, response.content
    return response.json()["id"]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- settings and checks --------------------------------------------------------------------


def test_system_check_reports_missing_settings() -> None:
    with override_settings(S3MEDIA=None):
        errors = run_checks(tags=["s3media"])
    assert [e.id for e in errors] == ["s3media.E001"]
    assert isinstance(errors[0], Error)
    assert "settings.S3MEDIA is missing" in errors[0].msg and "SECRET_KEY" in errors[0].hint


def test_system_check_reports_a_non_dict_and_bad_values() -> None:
    with override_settings(S3MEDIA="secret"):
        assert [e.id for e in check_settings()] == ["s3media.E002"]
    with override_settings(S3MEDIA={"SECRET_KEY": "demo-secret-0123456789-abcdefghijk", "MAX_PIXELS": "abc"}):
        (error,) = run_checks(tags=["s3media"])
    assert error.id == "s3media.E003"
    assert "S3MEDIA[\"MAX_PIXELS\"] must be an integer, got 'abc'" in error.msg
    with override_settings(S3MEDIA={"STORAGE": "s3"}):
        (error,) = check_settings()
    assert error.id == "s3media.E003" and 'S3MEDIA["SECRET_KEY"] is required' in error.msg


def test_system_check_passes_valid_settings(conf: dict[str, object]) -> None:
    assert run_checks(tags=["s3media"]) == []


def test_get_media_is_cached_and_rebuilt_when_settings_change(
    conf: dict[str, object], tmp_path: Path, secret: str
) -> None:
    first = get_media()
    assert isinstance(first, Media) and get_media() is first
    with override_settings(S3MEDIA={"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "other"), "PREFIX": "/f/"}):
        other = get_media()
        assert other is not first and other.storage.base_url == "/f/"
        assert get_settings().prefix == "/f/"
    assert get_media() is not other and get_media().storage.base_url == "/media/"


def test_get_media_without_settings_is_a_clear_error() -> None:
    with override_settings(S3MEDIA=None), pytest.raises(ConfigError, match="settings.S3MEDIA is missing"):
        get_media()


# --- serving ---------------------------------------------------------------------------------


def test_dev_serving_with_304_range_and_head(client: Client) -> None:
    data = images.jpeg(400, 300)
    media_id = post_photo(client, data)
    url = get_media().url(media_id)
    full = client.get(url)
    assert full.status_code == 200 and body(full) == data
    assert full["Content-Type"] == "image/jpeg" and full["X-Content-Type-Options"] == "nosniff"
    assert full["Content-Length"] == str(len(data))
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=full["ETag"])
    assert not_modified.status_code == 304 and body(not_modified) == b""
    assert "Content-Type" not in not_modified  # Django's default text/html is not added
    part = client.get(url, HTTP_RANGE="bytes=5-14")
    assert part.status_code == 206 and body(part) == data[5:15]
    assert part["Content-Range"] == f"bytes 5-14/{len(data)}"
    head = client.head(url)
    assert head.status_code == 200 and body(head) == b"" and head["Content-Length"] == str(len(data))


def test_signed_resize_served_forged_one_404(client: Client) -> None:
    media_id = post_photo(client)
    url = get_media().resize_url(media_id, "80x60", mode="fill", format="webp")
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(body(response))).size == (80, 60)
    forged = re.sub(r"-[0-9a-f]{32}\.webp$", "-" + "a" * 32 + ".webp", url)
    refused = client.get(forged)
    assert refused.status_code == 404 and body(refused) == b"Not found"
    assert client.post(url).status_code == 405  # under the prefix, the core answers every method


def test_host_views_pass_through_untouched(client: Client) -> None:
    assert client.get("/").content == b"home"
    response = client.post("/echo", data=b"raw \x00\xff body", content_type="application/octet-stream")
    assert response.content == b"raw \x00\xff body" and response["X-Host"] == "yes"
    assert response.cookies["session"].value == "abc"
    assert client.get("/nowhere").status_code == 404


def test_template_tags_render_signed_urls_that_serve(client: Client) -> None:
    media_id = post_photo(client)
    media = get_media()
    html = client.get(f"/page/{media_id}", {"alt": '"a" & <b>'}).content.decode()
    assert f'<a href="{media.url(media_id)}">{media.resize_url(media_id, "90x90", mode="fill")}</a>' in html
    assert '<picture><source type="image/avif"' in html and "&lt;picture" not in html
    assert 'alt="&quot;a&quot; &amp; &lt;b&gt;"' in html
    assert 'class="photo"' in html and 'data-pk="7"' in html
    placed = media.resize_url(media_id, "90x90", mode="fill", focus=(0.2, 0.3))
    assert f"<i>{placed}</i>" in html and "-f20x30-" in placed
    urls = set(re.findall(r'(/media/[^"\s<]+)', html))
    assert len(urls) == 9  # original, one fill, 2 widths x 3 formats, one fill placed on a point
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_disabled_raises_middleware_not_used(conf: dict[str, object]) -> None:
    with override_settings(S3MEDIA={**conf, "ENABLED": False}):
        with pytest.raises(MiddlewareNotUsed):
            S3MediaMiddleware(lambda request: HttpResponse("inner"))
        client = Client()
        media_id = post_photo(client)  # get_media() still works
        response = client.get(get_media().url(media_id))
        assert response.content == b"routed"  # Django's own URL answered


def test_prefix_setting_moves_the_media_urls(conf: dict[str, object]) -> None:
    with override_settings(S3MEDIA={**conf, "PREFIX": "/files/"}):
        client = Client()
        media_id = post_photo(client)
        url = get_media().resize_url(media_id, "50x")
        assert url.startswith("/files/") and client.get(url).status_code == 200
        assert client.get(url.replace("/files/", "/media/", 1)).content == b"routed"


def test_asgi_request_without_a_wsgi_environ_is_served(client: Client) -> None:
    from django.test import AsyncRequestFactory

    media_id = post_photo(client)
    url = get_media().resize_url(media_id, "40x")
    middleware = S3MediaMiddleware(lambda request: HttpResponse("inner"))
    request = AsyncRequestFactory().get(url, headers={"range": "bytes=0-1"})
    assert not hasattr(request, "environ")
    response = middleware(request)
    assert response.status_code == 206 and body(response) == b"\xff\xd8"  # a JPEG's first two bytes
    assert middleware(AsyncRequestFactory().get("/elsewhere")).content == b"inner"
    assert middleware(HttpRequest()).content == b"inner"  # built by hand: no path, passed on


def test_under_asgi_files_stream_from_an_async_iterator_without_warnings(client: Client) -> None:
    import asyncio
    import warnings

    from django.test import AsyncClient

    media_id = post_photo(client)
    original = get_media().url(media_id)
    resize = get_media().resize_url(media_id, "40x")

    async def scenario() -> list[tuple[int, bytes, dict[str, str]]]:
        async_client = AsyncClient()
        out = []
        for url, headers in ((original, {}), (resize, {"range": "bytes=0-1"}), ("/", {})):
            response = await async_client.get(url, headers=headers)
            if response.streaming:
                content = b"".join([part async for part in response])
            else:
                content = response.content
            out.append((response.status_code, content, dict(response.headers)))
        return out

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="StreamingHttpResponse must consume")
        (whole, part, page) = asyncio.run(scenario())
    assert whole[0] == 200 and whole[1] == get_media().get(media_id)
    assert whole[2]["Content-Type"] == "image/jpeg" and "Content-Disposition" not in whole[2]
    assert part[0] == 206 and part[1] == b"\xff\xd8"
    assert page[0] == 200 and page[1] == b"home"


def test_the_middleware_keeps_the_current_request_for_the_view_under_wsgi_and_asgi(client: Client) -> None:
    import asyncio

    from django.test import AsyncClient

    assert current_request() is None
    assert client.get("/whoami").content == b"same"
    assert current_request() is None  # reset once the response is made

    async def scenario() -> bytes:
        return (await AsyncClient().get("/whoami")).content  # a sync view, run in a thread with the context

    assert asyncio.run(scenario()) == b"same"
    assert current_request() is None


def test_under_wsgi_a_whole_file_is_a_file_response_and_a_range_stops_at_its_end(client: Client) -> None:
    from django.http import FileResponse

    media_id = post_photo(client)
    data = get_media().get(media_id)
    whole = client.get(get_media().url(media_id))
    assert isinstance(whole, FileResponse) and body(whole) == data
    assert whole["Content-Length"] == str(len(data))
    assert "Content-Disposition" not in whole  # Django's inline guess is not the core's
    part = client.get(get_media().url(media_id), headers={"range": "bytes=2-9"})
    assert part.status_code == 206 and body(part) == data[2:10]


def make_media_for_factory() -> Media:
    return Media(LocalStorage(_made["root"], base_url="/media/"), secret_key=_made["secret"], max_side=640)


_made: dict[str, object] = {}


def test_every_option_and_a_ready_media_reach_django(tmp_path: Path, secret: str) -> None:
    _made.update(root=tmp_path / "made", secret=secret)
    options = {"SECRET_KEY": secret, "LOCAL_ROOT": tmp_path, "ALLOWED_TYPES": ["gif"], "MAX_SIDE": 99}
    with override_settings(S3MEDIA=options):
        assert get_media().allowed_types == {"gif"} and get_media().max_side == 99
    with override_settings(S3MEDIA={"MEDIA_FACTORY": f"{__name__}:make_media_for_factory"}):
        assert get_media().max_side == 640
        assert run_checks(tags=["s3media"]) == []


def test_system_check_warns_when_the_middleware_is_not_first(conf: dict[str, object]) -> None:
    late = ["django.middleware.common.CommonMiddleware", *MIDDLEWARE]
    with override_settings(MIDDLEWARE=late):
        (warning,) = run_checks(tags=["s3media"])
        assert warning.id == "s3media.W001"
    with override_settings(MIDDLEWARE=MIDDLEWARE):
        assert run_checks(tags=["s3media"]) == []


def test_template_tags_take_the_stored_value(client: Client) -> None:
    post_photo(client)  # the settings in place
    media_id = get_media().put(images.jpeg(400, 300), filename="cat.jpg")
    from_value = client.get("/page/" + quote(media_id.stored, safe="/")).content.decode()
    from_id = client.get(f"/page/{media_id}").content.decode()
    assert from_value.split("\n")[0] == from_id.split("\n")[0]
    assert 'width="200" height="150"' in from_value and "width=" not in from_id
