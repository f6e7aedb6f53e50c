#!/usr/bin/env python
"""Django's command line for the gallery example.

    .venv/bin/python examples/django_project/manage.py runserver 127.0.0.1:8000

``runserver`` without an address listens on ``HOST``:``PORT`` (default 127.0.0.1:8000).
It first makes the gallery's database, or brings it up to date (``migrate``):
nothing to set up before the first run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Runnable from any directory: the project folder holds gallery_site.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gallery_site.settings")
    from django.core.management import execute_from_command_line

    if sys.argv[1:2] == ["runserver"]:
        # Like the other examples, `runserver` alone listens on HOST:PORT (127.0.0.1:8000).
        if all(arg.startswith("-") for arg in sys.argv[2:]):
            sys.argv.append(f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
        # The photos' SQLite file and its tables, made on the first run (a no-op afterwards).
        execute_from_command_line([sys.argv[0], "migrate", "--no-input", "--verbosity", "0"])
    execute_from_command_line(sys.argv)
