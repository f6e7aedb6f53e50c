"""A small Flask gallery: upload images straight to storage, list them as responsive <picture>s, delete them.

Run it (from the repository root) and open http://127.0.0.1:8000 (``HOST`` and
``PORT`` change that)::

    .venv/bin/python examples/flask_app.py

Local storage in ``examples/media/flask/`` by default, images only (the
``allowed_types`` setting; ``S3MEDIA_ALLOWED_TYPES`` changes it).  Every ``S3MEDIA_*``
environment variable goes into ``app.config`` unchanged, so S3 is::

    S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=my-bucket S3MEDIA_REGION=eu-west-1 \\
        .venv/bin/python examples/flask_app.py

The page sends each file chosen or dropped straight to storage with
``uploader.js``, through the middleware's upload routes (on because
``S3MEDIA_UPLOADS`` names a hook: here one letting everyone upload, as this
demo has no users), then POSTs the upload's receipt (the confirmed id, signed:
a bare id is not taken) to ``/register``, which checks it on the server and
answers the new image's HTML.  Without JavaScript the
form posts the files to ``/upload``, which stores them with ``put``.

The secret, the list of ids, the upload hook, the page template and its
script come from ``gallery_common.py``, shared by all the examples.  There is
no login and no CSRF protection (``/register`` takes JSON only, which a form
on another site cannot send): this is a demo for your own machine, not a site.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, redirect, render_template_string, request
from gallery_common import (
    ITEM,
    NO_FILE,
    PAGE,
    Refused,
    Uploads,
    listen_address,
    media_settings,
    refusal_message,
    register,
    uploads_file,
)

from s3media_wsgi.adapters.flask import S3Media, current_media
from s3media_wsgi.errors import MediaError

DEFAULT_ROOT = Path(__file__).resolve().parent / "media" / "flask"


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """The gallery app, configured from *environ* (default: ``os.environ``)."""
    environ = os.environ if environ is None else environ
    app = Flask(__name__)
    # Flask's spelling: S3MEDIA_BUCKET is app.config["S3MEDIA_BUCKET"].  The settings include
    # S3MEDIA_UPLOADS, the hook that turns the upload routes on (gallery_common.anyone_may_upload).
    app.config.update({f"S3MEDIA_{key}": value for key, value in media_settings(environ, DEFAULT_ROOT).items()})
    state = S3Media().init_app(app)
    uploads = Uploads(uploads_file(environ, app.config.get("S3MEDIA_LOCAL_ROOT", DEFAULT_ROOT)))
    # What uploader.js calls "endpoint": the middleware's prefix without its last "/".
    endpoint = state.settings.prefix.rstrip("/")

    def page(error: str = "", status: int = 200) -> tuple[str, int]:
        html = render_template_string(PAGE, framework="Flask", items=uploads.items(), error=error, endpoint=endpoint)
        return html, status

    @app.get("/")
    def index() -> tuple[str, int]:
        return page()

    @app.post("/register")
    def register_upload() -> Any:
        """The page reports an upload the middleware confirmed: check it, list it, answer its HTML."""
        if not request.is_json:
            return jsonify(error="Send the upload as JSON."), 415
        try:
            item = register(current_media, uploads, request.get_json(silent=True))
        except Refused as refused:
            return jsonify(error=str(refused)), refused.status
        return jsonify(id=item["id"], html=render_template_string(ITEM, item=item))

    @app.post("/upload")
    def upload() -> Any:
        """Without JavaScript: the form's files, stored by the app itself."""
        photos = [photo for photo in request.files.getlist("photo") if photo.filename]
        if not photos:
            return page(NO_FILE, 400)
        for photo in photos:
            try:
                media_id = current_media.put(photo)
            except MediaError as exc:
                return page(refusal_message(exc), exc.status_code)
            uploads.add(media_id, photo.filename or "")
        return redirect("/", 303)

    @app.post("/delete")
    def delete() -> Any:
        media_id = request.form.get("id", "")
        # Only ids of this gallery: the form must not delete anything else in storage.
        if not uploads.remove(media_id):
            return page("No such image.", 404)
        current_media.delete(media_id)
        return redirect("/", 303)

    return app


if __name__ == "__main__":
    host, port = listen_address(os.environ)
    create_app().run(host=host, port=port)
