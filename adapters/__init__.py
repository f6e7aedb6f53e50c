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
"""
