"""Pyramid adapter through webtest.TestApp."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytest.importorskip("pyramid")
webtest = pytest.importorskip("webtest")

import images  # noqa: E402
from PIL import Image  # noqa: E402
from pyramid.config import Configurator  # noqa: E402
from pyramid.interfaces import ITweens  # noqa: E402
from pyramid.response import Response  # noqa: E402
from pyramid.tweens import MAIN  # noqa: E402

from s3media_wsgi import Media  # noqa: E402
from s3media_wsgi.adapters.pyramid import TWEEN, get_media, tween_factory  # noqa: E402
from s3media_wsgi.errors import ConfigError  # noqa: E402

#: Requests that reached the app's own tween (which sits over the router, as a
#: transaction manager would).
SEEN_BY_APP_TWEEN: list[str] = []


def app_tween_factory(handler, registry):
    def app_tween(request):
        SEEN_BY_APP_TWEEN.append(request.path)
        return handler(request)

    return app_tween


def helpers_renderer(info: Any):
    """A renderer that, like a Jinja2 or Chameleon one, draws on the renderer globals."""

    def render(value: dict[str, Any], system: dict[str, Any]) -> str:
        media_id = value["media_id"]
        return "\n".join(
            [
                system["media_url"](media_id),
                system["resize_url"](media_id, "90x90", mode="fill"),
                str(system["picture"](media_id, sizes=[100, 200], alt=value["alt"])),
                system["resize_url"](media_id, "90x90", mode="fill", focus="auto"),
            ]
        )

    return render


def upload_view(request):
    field = request.POST["photo"]
    media_id = request.media.put(field.file, filename=field.filename)
    return Response(json_body={"id": media_id})


def echo_view(request):
    response = Response(body=request.body, content_type="application/octet-stream")
    response.headers["X-Host"] = "yes"
    response.set_cookie("session", "abc")
    return response


def make_app(tmp_path: Path, secret: str, **settings: Any) -> webtest.TestApp:
    settings = {
        "s3media.secret_key": secret,
        "s3media.local_root": str(tmp_path / "media"),
        "pyramid.includes": "",
        **settings,
    }
    with Configurator(settings=settings) as config:
        config.include("s3media_wsgi.adapters.pyramid")
        config.add_tween(f"{__name__}.app_tween_factory", over=MAIN)
        config.add_renderer(".helpers", helpers_renderer)
        config.add_route("home", "/")
        config.add_view(lambda request: Response("home"), route_name="home")
        config.add_route("echo", "/echo")
        config.add_view(echo_view, route_name="echo", request_method="POST")
        config.add_route("upload", "/upload")
        config.add_view(upload_view, route_name="upload", request_method="POST")
        config.add_route("page", "/page/*media_id")
        config.add_view(
            lambda request: {"media_id": "/".join(request.matchdict["media_id"]), "alt": request.params.get("alt", "")},
            route_name="page",
            renderer="page.helpers",
        )
        # A route under the prefix: with the feature on, the tween answers first.
        config.add_route("shadow", "/media/*rest")
        config.add_view(lambda request: Response("routed"), route_name="shadow")
        wsgi = config.make_wsgi_app()
    return webtest.TestApp(wsgi)


@pytest.fixture
def app(tmp_path: Path, secret: str) -> webtest.TestApp:
    SEEN_BY_APP_TWEEN.clear()
    return make_app(tmp_path, secret)


def media_of(app: webtest.TestApp) -> Media:
    return get_media(app.app.registry)


def upload(app: webtest.TestApp, data: bytes = b"") -> str:
    response = app.post("/upload", upload_files=[("photo", "cat.jpg", data or images.jpeg(400, 300))])
    return response.json["id"]


# --- configuration -------------------------------------------------------------------------


def test_tween_sits_just_under_ingress(app: webtest.TestApp) -> None:
    tweens = app.app.registry.queryUtility(ITweens)
    names = [name for name, _ in tweens.implicit()]
    # Outermost: before the app's own tweens, the exception view tween and the router.
    assert names[0] == TWEEN
    assert f"{__name__}.app_tween_factory" in names[1:]
    assert "pyramid.tweens.excview_tween_factory" in names[1:]


def test_bad_setting_named_as_pyramid_spells_it(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError, match=r"^s3media\.max_pixels must be an integer, got 'abc'$"):
        make_app(tmp_path, secret, **{"s3media.max_pixels": "abc"})
    with pytest.raises(ConfigError, match=r"^s3media\.secret_key is required"):
        make_app(tmp_path, "", **{"s3media.secret_key": None})
    with pytest.raises(ConfigError, match=r"unknown media setting s3media\.bukcet; did you mean s3media\.bucket"):
        make_app(tmp_path, secret, **{"s3media.bukcet": "b"})


def test_ini_style_strings_are_converted(tmp_path: Path, secret: str) -> None:
    app = make_app(
        tmp_path,
        f"{secret}\nsecond-secret-{'y' * 30}",
        **{
            "s3media.presets": '{"thumb": {"size": "50x50", "mode": "fill"}}',
            "s3media.max_upload_bytes": "2000000",
            "s3media.serve_local": "true",
        },
    )
    state = app.app.registry["s3media"]
    assert state.settings.max_upload_bytes == 2_000_000 and state.settings.serve_local is True
    assert state.media.presets == {"thumb": {"size": "50x50", "mode": "fill"}}
    media_id = upload(app)
    assert app.get(state.media.resize_url(media_id, "thumb")).content_type == "image/jpeg"


# --- serving -----------------------------------------------------------------------------


def test_request_media_and_dev_serving_with_304_and_range(app: webtest.TestApp) -> None:
    data = images.jpeg(400, 300)
    media_id = upload(app, data)
    url = media_of(app).url(media_id)
    full = app.get(url)
    assert full.status_int == 200 and full.body == data and full.content_type == "image/jpeg"
    assert app.get(url, headers={"If-None-Match": full.headers["ETag"]}, status=304).body == b""
    part = app.get(url, headers={"Range": "bytes=10-19"}, status=206)
    assert part.body == data[10:20]
    assert SEEN_BY_APP_TWEEN == ["/upload"]  # media requests never reached the app's tweens


def test_signed_resize_served_forged_one_404(app: webtest.TestApp) -> None:
    media_id = upload(app)
    url = media_of(app).resize_url(media_id, "80x60", mode="fill", format="png")
    response = app.get(url)
    assert response.content_type == "image/png"
    assert Image.open(io.BytesIO(response.body)).size == (80, 60)
    forged = re.sub(r"-[0-9a-f]{32}\.png$", "-" + "f" * 32 + ".png", url)
    assert app.get(forged, status=404).body == b"Not found"
    # Under the prefix the core answers, even where the app has a route of its own.
    assert app.get("/media/not/a/key", status=404).body == b"Not found"


def test_host_routes_pass_through_untouched(app: webtest.TestApp) -> None:
    assert app.get("/").body == b"home"
    response = app.post("/echo", params=b"raw \x00\xff body", content_type="application/octet-stream")
    assert response.body == b"raw \x00\xff body" and response.headers["X-Host"] == "yes"
    assert "session=abc" in response.headers["Set-Cookie"]
    assert app.get("/nowhere", status=404)
    assert SEEN_BY_APP_TWEEN == ["/", "/echo", "/nowhere"]


def test_renderer_globals_give_signed_urls_that_serve(app: webtest.TestApp) -> None:
    media_id = upload(app)
    media = media_of(app)
    body = app.get(f"/page/{media_id}", params={"alt": '"a" & <b>'}).text
    lines = body.split("\n")
    assert lines[0] == media.url(media_id)
    assert lines[1] == media.resize_url(media_id, "90x90", mode="fill")
    assert lines[2].startswith('<picture><source type="image/avif"')
    assert 'alt="&quot;a&quot; &amp; &lt;b&gt;"' in lines[2]
    assert lines[3] == media.resize_url(media_id, "90x90", mode="fill", focus="auto") and "-fauto-" in lines[3]
    urls = set(re.findall(r'(/media/[^"\s<]+)', body))
    assert len(urls) == 9  # original, one fill, 2 widths x 3 formats, one fill placed by attention
    for url in urls:
        assert app.get(url).status_int == 200, url


def test_disabled_tween_returns_the_handler_unchanged(tmp_path: Path, secret: str) -> None:
    app = make_app(tmp_path, secret, **{"s3media.enabled": "false"})
    registry = app.app.registry

    def handler(request):
        raise AssertionError("not called")

    assert tween_factory(handler, registry) is handler
    media_id = upload(app)  # request.media still works
    assert app.get(media_of(app).url(media_id)).body == b"routed"  # the app's own route answers


def test_enabled_tween_wraps_the_handler(app: webtest.TestApp) -> None:
    def handler(request):
        return Response("inner")

    assert tween_factory(handler, app.app.registry) is not handler


def test_explicit_tween_list_without_ours_fails_fast(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError, match=r"pyramid\.tweens is set and does not list"):
        make_app(tmp_path, secret, **{"pyramid.tweens": "pyramid.tweens.excview_tween_factory"})
    # Listed (first), it is used: media URLs are answered.
    app = make_app(
        tmp_path,
        secret,
        **{"pyramid.tweens": "s3media_wsgi.adapters.pyramid.tween_factory\npyramid.tweens.excview_tween_factory"},
    )
    assert app.get("/media/not-an-id/x.jpg", status=404).content_type == "text/plain"
    # Switched off, an explicit list without it is the user's choice.
    make_app(tmp_path, secret, **{"pyramid.tweens": "pyramid.tweens.excview_tween_factory", "s3media.enabled": "false"})


def test_renderer_globals_take_the_stored_value(app: webtest.TestApp) -> None:
    media = media_of(app)
    media_id = media.put(images.jpeg(400, 300), filename="cat.jpg")
    from_value = app.get("/page/" + quote(media_id.stored, safe="/")).text.split("\n")
    from_id = app.get(f"/page/{media_id}").text.split("\n")
    assert from_value[:2] == from_id[:2] == [media.url(media_id), media.resize_url(media_id, "90x90", mode="fill")]
    assert 'width="200" height="150"' in from_value[2] and "width=" not in from_id[2]
