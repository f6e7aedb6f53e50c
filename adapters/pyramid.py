"""Pyramid adapter: ``config.include("s3media_wsgi.adapters.pyramid")``.

Settings are the ``s3media.*`` keys of the app's settings (``.ini`` or dict):
``s3media.secret_key``, ``s3media.storage``, ...; see :mod:`s3media_wsgi.settings`.
``s3media.enabled = false`` keeps ``request.media`` and the template helpers but
answers no requests.

The include

- registers the tween :func:`tween_factory` just under ``INGRESS``, so media
  requests are answered before routing and before other tweens (such as a
  transaction manager) do any work for them;
- adds ``request.media`` (the :class:`~s3media_wsgi.Media`, reified);
- adds ``media_url``, ``resize_url`` and ``picture`` to every renderer's globals
  (Jinja2, Chameleon, Mako) unless another subscriber already set those names.

For example::

    def main(global_config, **settings):
        with Configurator(settings=settings) as config:
            config.include("s3media_wsgi.adapters.pyramid")
            ...
            return config.make_wsgi_app()

    @view_config(route_name="upload", request_method="POST")
    def upload(request):
        media_id = request.media.put(request.POST["photo"].file, request.POST["photo"].filename)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.events import BeforeRender
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

from ..errors import ConfigError
from ..factory import middleware_kwargs
from ..media import Media
from ..responder import MediaResponder, uploader_url
from ..response import MediaResponse
from ..settings import PYRAMID_PREFIX, parse_settings
from . import S3MediaState

#: Key of the adapter's state in the registry.
REGISTRY_KEY = "s3media"
#: Prefix of the adapter's keys in the settings.
SETTINGS_PREFIX = PYRAMID_PREFIX
#: Dotted name the tween is registered under.
TWEEN = "s3media_wsgi.adapters.pyramid.tween_factory"

Handler = Callable[[Request], Response]


def to_pyramid(answer: MediaResponse) -> Response:
    """A Pyramid response with exactly the core's status, headers and body."""
    response = Response(status=answer.status_line, headerlist=list(answer.headers))
    if answer.file is not None:
        response.app_iter = answer.file_body()
    else:
        response.app_iter = [answer.body] if answer.body else []
    return response


def tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Answer media requests with the core; hand every other request to *handler* untouched.

    Returns *handler* itself when ``s3media.enabled`` is false.
    """
    state: S3MediaState = registry[REGISTRY_KEY]
    if not state.settings.enabled:
        return handler
    core = MediaResponder(state.media, **middleware_kwargs(state.settings))
    prefix = core.prefix

    def s3media_tween(request: Request) -> Response:
        # The raw WSGI path: request.path_info would decode it as UTF-8 and raise
        # on bytes that are not, before the app's own error views could answer.
        path = request.environ.get("PATH_INFO", "")
        if not path.startswith(prefix):  # the hot path of every page
            return handler(request)
        answer = core.respond(
            request.method,
            path,
            request.headers,
            query=request.query_string,
            body=request.body_file,
            request=request,
            origin=request.host_url,
        )
        return handler(request) if answer is None else to_pyramid(answer)

    return s3media_tween


def _media(request: Request) -> Media:
    return request.registry[REGISTRY_KEY].media  # type: ignore[no-any-return]


def _add_template_helpers(event: BeforeRender) -> None:
    request = event.get("request")
    if request is None:  # render() called without a request: no registry to read
        return
    state: S3MediaState = request.registry[REGISTRY_KEY]
    media = state.media
    helpers = (
        ("media_url", media.url),
        ("resize_url", media.resize_url),
        ("picture", media.picture),
        ("uploader_url", functools.partial(uploader_url, state.settings.prefix)),
    )
    for name, helper in helpers:
        # Never replace a global another subscriber set, as Pyramid asks of
        # BeforeRender subscribers (they run in no fixed order).
        event.setdefault(name, helper)


def includeme(config: Configurator) -> None:
    """Read ``s3media.*`` settings and wire the tween, ``request.media`` and template helpers.

    Raises :class:`~s3media_wsgi.errors.ConfigError` for bad settings, at include time.
    """
    raw = config.get_settings()
    settings = parse_settings(raw, prefix=SETTINGS_PREFIX)
    explicit = raw.get("pyramid.tweens")
    if settings.enabled and explicit and TWEEN not in _words(explicit):
        # An explicit list replaces every tween added in code, ours included:
        # media URLs would then all be 404s, with nothing to say why.
        raise ConfigError(
            f"pyramid.tweens is set and does not list {TWEEN}; add it first in that list "
            "(so media requests skip the other tweens), or set s3media.enabled = false"
        )
    config.registry[REGISTRY_KEY] = S3MediaState(Media.from_settings(settings), settings)
    config.add_tween(TWEEN, under=INGRESS)
    config.add_request_method(_media, "media", reify=True)
    config.add_subscriber(_add_template_helpers, BeforeRender)


def _words(value: object) -> list[str]:
    """The names in a setting written as a list or as whitespace-separated text."""
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def get_media(registry: Registry) -> Media:
    """The Media configured on *registry* (for scripts and tests; views use ``request.media``)."""
    return registry[REGISTRY_KEY].media  # type: ignore[no-any-return]


__all__ = ["S3MediaState", "get_media", "includeme", "to_pyramid", "tween_factory"]
