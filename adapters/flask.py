"""Flask adapter: ``S3Media(app)`` or ``S3Media().init_app(app)``.

Settings come from ``app.config`` with the ``S3MEDIA_`` prefix
(``S3MEDIA_SECRET_KEY``, ``S3MEDIA_STORAGE``, ...; see
:mod:`s3media_wsgi.settings`).  ``init_app`` wraps ``app.wsgi_app`` in the core
middleware, so ``/media/`` is answered before Flask routes anything, and adds
``media_url``, ``resize_url`` and ``picture`` to the app's Jinja globals.

    from flask import Flask, request
    from s3media_wsgi.adapters.flask import S3Media, current_media

    s3media = S3Media()

    def create_app():
        app = Flask(__name__)
        app.config["S3MEDIA_SECRET_KEY"] = os.environ["S3MEDIA_SECRET_KEY"]
        s3media.init_app(app)
        return app

    @app.post("/upload")
    def upload():
        media_id = current_media.put(request.files["photo"])

In a template: ``{{ picture(media_id, sizes=[320, 640], alt="") }}``.
"""

from __future__ import annotations

import functools

from flask import Flask, current_app
from werkzeug.local import LocalProxy

from ..errors import ConfigError
from ..factory import middleware_kwargs
from ..media import Media
from ..middleware import MediaMiddleware
from ..responder import uploader_url
from ..settings import ENV_PREFIX, parse_settings
from . import S3MediaState

#: Key of the adapter's state in ``app.extensions``.
EXTENSION_KEY = "s3media"
#: Prefix of the adapter's keys in ``app.config``.
CONFIG_PREFIX = ENV_PREFIX


class S3Media:
    """The Flask extension.  One instance may serve many apps; it keeps no app.

    s3media = S3Media()
    s3media.init_app(app)
    get_media(app).url(media_id)
    """

    def __init__(self, app: Flask | None = None, media: Media | None = None) -> None:
        if app is not None:
            self.init_app(app, media)

    def init_app(self, app: Flask, media: Media | None = None) -> S3MediaState:
        """Read ``S3MEDIA_*`` from ``app.config``, wrap ``app.wsgi_app``, register template globals.

        *media* replaces the one the settings would build (settings are still
        parsed for the middleware options).  Raises
        :class:`~s3media_wsgi.errors.ConfigError` for bad settings.
        """
        if EXTENSION_KEY in app.extensions:
            raise ConfigError(f"S3Media is already initialised on app {app.name!r}")
        settings = parse_settings(app.config, prefix=CONFIG_PREFIX)
        state = S3MediaState(media if media is not None else Media.from_settings(settings), settings)
        app.extensions[EXTENSION_KEY] = state
        if settings.enabled:
            app.wsgi_app = MediaMiddleware(  # type: ignore[method-assign]
                app.wsgi_app, state.media, **middleware_kwargs(settings)
            )
        # Bound to this app's Media (each app has its own Jinja environment),
        # so templates work outside a request too, e.g. when rendering e-mails.
        app.add_template_global(state.media.url, "media_url")
        app.add_template_global(state.media.resize_url, "resize_url")
        app.add_template_global(state.media.picture, "picture")
        app.add_template_global(functools.partial(uploader_url, settings.prefix), "uploader_url")
        return state


def get_state(app: Flask | None = None) -> S3MediaState:
    """The adapter state of *app* (default: ``current_app``)."""
    target = app if app is not None else current_app
    try:
        return target.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise ConfigError(
            f"S3Media is not initialised on app {target.name!r}: call S3Media(app) or s3media.init_app(app)"
        ) from None


def get_media(app: Flask | None = None) -> Media:
    """The Media of *app* (default: ``current_app``).

    media_id = get_media().put(request.files["photo"])
    """
    return get_state(app).media


#: The current app's Media, for views: ``current_media.put(...)``.
current_media: Media = LocalProxy(get_media)  # type: ignore[assignment]


__all__ = ["S3Media", "S3MediaState", "current_media", "get_media", "get_state"]
