"""A small Pyramid gallery: upload images straight to storage, list them as responsive <picture>s, delete them.

Run it (from the repository root) and open http://127.0.0.1:8000 (``HOST`` and
``PORT`` change that)::

    .venv/bin/python examples/pyramid_app.py

Local storage in ``examples/media/pyramid/`` by default, images only (the
``s3media.allowed_types`` setting; ``S3MEDIA_ALLOWED_TYPES`` changes it).  Every ``S3MEDIA_*``
environment variable becomes the ``s3media.*`` setting of the same name
(``S3MEDIA_BUCKET`` → ``s3media.bucket``), so S3 is::

    S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=my-bucket S3MEDIA_REGION=eu-west-1 \\
        .venv/bin/python examples/pyramid_app.py

In an ``.ini`` file the same settings read ``s3media.storage = s3`` etc.

The page sends each file chosen or dropped straight to storage with
``uploader.js``, through the middleware's upload routes (on because
``s3media.uploads`` names a hook: here one letting everyone upload, as this
demo has no users), then POSTs the upload's receipt (the confirmed id, signed:
a bare id is not taken) to ``/register``, which checks it on the server and
answers the new image's HTML.  Without JavaScript the
form posts the files to ``/upload``, which stores them with ``put``.

The secret, the list of ids, the upload hook, the page template and its
script come from ``gallery_common.py``, shared by all the examples.  No login,
no CSRF protection (``/register`` takes JSON only, which a form on another
site cannot send): a demo for your own machine.

The page is a Jinja2 template drawn by a ten-line renderer; with pyramid_jinja2
or Chameleon the template would read ``picture(...)`` from the renderer
globals just the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import jinja2
from gallery_common import (
    ITEM,
    NO_FILE,
    PAGE,
    Refused,
    ThreadingServer,
    Uploads,
    listen_address,
    media_settings,
    refusal_message,
    register,
    uploads_file,
)
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render
from pyramid.request import Request

from s3media_wsgi.errors import MediaError

DEFAULT_ROOT = Path(__file__).resolve().parent / "media" / "pyramid"


def jinja2_renderer(source: str) -> Callable[[Any], Callable[[dict[str, Any], dict[str, Any]], str]]:
    """A renderer factory drawing the Jinja2 template *source* with the view's values over the renderer globals."""
    template = jinja2.Environment(autoescape=True).from_string(source)

    def factory(info: Any) -> Callable[[dict[str, Any], dict[str, Any]], str]:
        def render(value: dict[str, Any], system: dict[str, Any]) -> str:
            return template.render({**system, "framework": "Pyramid", **value})

        return render

    return factory


def _uploads(request: Request) -> Uploads:
    return request.registry["uploads"]  # type: ignore[no-any-return]


def _endpoint(request: Request) -> str:
    """What uploader.js calls "endpoint": the middleware's prefix without its last "/"."""
    return request.registry["s3media"].settings.prefix.rstrip("/")  # type: ignore[no-any-return]


def index(request: Request) -> dict[str, Any]:
    return {"items": _uploads(request).items(), "error": "", "endpoint": _endpoint(request)}


def _refused(request: Request, message: str, status: int) -> dict[str, Any]:
    request.response.status_int = status
    return {"items": _uploads(request).items(), "error": message, "endpoint": _endpoint(request)}


def register_upload(request: Request) -> dict[str, Any]:
    """The page reports an upload the middleware confirmed: check it, list it, answer its HTML."""
    if request.content_type != "application/json":
        request.response.status_int = 415
        return {"error": "Send the upload as JSON."}
    try:
        payload = request.json_body
    except ValueError:
        payload = None
    try:
        item = register(request.media, _uploads(request), payload)
    except Refused as refused:
        request.response.status_int = refused.status
        return {"error": str(refused)}
    return {"id": item["id"], "html": render("gallery_item", {"item": item}, request=request)}


def upload(request: Request) -> Any:
    """Without JavaScript: the form's files, stored by the app itself."""
    photos = [photo for photo in request.POST.getall("photo") if getattr(photo, "filename", "")]
    if not photos:
        return _refused(request, NO_FILE, 400)
    for photo in photos:
        try:
            media_id = request.media.put(photo.file, filename=photo.filename)
        except MediaError as exc:
            return _refused(request, refusal_message(exc), exc.status_code)
        _uploads(request).add(media_id, photo.filename)
    return HTTPSeeOther("/")


def delete(request: Request) -> Any:
    media_id = request.POST.get("id", "")
    # Only ids of this gallery: the form must not delete anything else in storage.
    if not _uploads(request).remove(media_id):
        return _refused(request, "No such image.", 404)
    request.media.delete(media_id)
    return HTTPSeeOther("/")


def main(global_config: Mapping[str, Any] | None = None, **settings: Any) -> Any:
    """The WSGI app; *settings* (e.g. from an ``.ini`` file) override the environment."""
    # Pyramid's spelling: S3MEDIA_BUCKET is the setting s3media.bucket.  The settings include
    # s3media.uploads, the hook that turns the upload routes on (gallery_common.anyone_may_upload).
    from_env = media_settings(os.environ, DEFAULT_ROOT)
    settings = {**{f"s3media.{key.lower()}": value for key, value in from_env.items()}, **settings}
    root = settings.get("s3media.local_root", DEFAULT_ROOT)
    with Configurator(settings=settings) as config:
        config.include("s3media_wsgi.adapters.pyramid")
        config.registry["uploads"] = Uploads(uploads_file(os.environ, root))
        config.add_renderer("gallery", jinja2_renderer(PAGE))
        config.add_renderer("gallery_item", jinja2_renderer(ITEM))
        config.add_route("index", "/")
        config.add_route("register", "/register")
        config.add_route("upload", "/upload")
        config.add_route("delete", "/delete")
        config.add_view(index, route_name="index", request_method="GET", renderer="gallery")
        config.add_view(register_upload, route_name="register", request_method="POST", renderer="json")
        config.add_view(upload, route_name="upload", request_method="POST", renderer="gallery")
        config.add_view(delete, route_name="delete", request_method="POST", renderer="gallery")
        return config.make_wsgi_app()


def serve() -> None:
    """Serve the gallery on ``HOST``:``PORT`` (127.0.0.1:8000), a thread per request."""
    host, port = listen_address(os.environ)
    # A thread per request: the page's many resizes are made side by side, not one after another.
    server = make_server(host, port, main(), server_class=ThreadingServer)
    print(f"Serving on http://{host}:{port}")
    server.serve_forever()


if __name__ == "__main__":
    serve()
