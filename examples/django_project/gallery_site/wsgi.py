"""WSGI entry point of the gallery example (for gunicorn, waitress, ...).

Run ``manage.py migrate`` once before serving it this way (``manage.py runserver`` does it itself).
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallery_site.settings")

application = get_wsgi_application()
