"""``python -m s3media_wsgi``: the ``s3media`` command (see :mod:`s3media_wsgi.cli`)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":  # imported (by a docs or test walk), it runs nothing
    raise SystemExit(main())
