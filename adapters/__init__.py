"""Framework adapters: thin glue between a web framework and the core.

Each adapter reads the framework's own configuration through
:func:`s3media_wsgi.settings.parse_settings`, puts the core
:class:`~s3media_wsgi.MediaMiddleware` in front of the application, and
exposes ``media_url``, ``resize_url`` and ``picture`` to templates.

- Flask: ``s3media_wsgi.adapters.flask.S3Media``
- Pyramid: ``config.include("s3media_wsgi.adapters.pyramid")``
- Django: ``"s3media_wsgi.adapters.django"`` in ``INSTALLED_APPS`` and
  ``"s3media_wsgi.adapters.django.middleware.S3MediaMiddleware"`` in ``MIDDLEWARE``

Importing this package imports no framework; each submodule imports only its own.

One shared piece lives here: :class:`S3MediaState`, what the Flask and Pyramid
adapters keep per application.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..media import Media
from ..settings import MediaSettings


@dataclass(frozen=True)
class S3MediaState:
    """What an adapter keeps per application: its Media and the parsed settings.

    Flask keeps it in ``app.extensions["s3media"]``, Pyramid in
    ``registry["s3media"]``.
    """

    media: Media
    settings: MediaSettings


__all__ = ["S3MediaState"]
