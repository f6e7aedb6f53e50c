#!/usr/bin/env python
"""Django's command line for the catalog example (an ``ImageField`` switched to ``MediaStorage`` by settings).

    .venv/bin/python examples/django_catalog/manage.py migrate
    .venv/bin/python examples/django_catalog/manage.py createsuperuser
    .venv/bin/python examples/django_catalog/manage.py runserver 127.0.0.1:8000

``CATALOG_STORAGE=filesystem`` runs it as it was before the switch (Django's
``FileSystemStorage``); see ``catalog_site/settings.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
