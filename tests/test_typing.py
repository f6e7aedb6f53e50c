"""The core and the framework adapters are fully annotated: mypy --strict finds nothing.

mypy runs with the ``[tool.mypy]`` settings of pyproject.toml, which name the
files to check.  The adapters live in ``adapters/`` but are installed as
``s3media_wsgi.adapters``; mypy reads them through a symlink in
``build/mypy`` (made here) so that it names them as Python imports them, and
their relative imports (``from ..media import Media``) reach the core's real
types instead of an unresolved ``Any``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Where [tool.mypy] expects the installed layout of the adapters.
LINK = ROOT / "build" / "mypy" / "s3media_wsgi" / "adapters"


def adapters_folder() -> Path:
    """The folder Python imports ``s3media_wsgi.adapters`` from (the editable install's mapping)."""
    spec = importlib.util.find_spec("s3media_wsgi.adapters")
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def link_adapters() -> None:
    """Make ``build/mypy/s3media_wsgi/adapters`` a relative symlink to that folder (atomically; idempotent)."""
    LINK.parent.mkdir(parents=True, exist_ok=True)
    target = os.path.relpath(adapters_folder(), LINK.parent)
    if LINK.is_symlink() and os.readlink(LINK) == target:
        return
    temporary = LINK.with_name(f".adapters-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, LINK)  # another run making the same link at once is fine


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    link_adapters()
    # The default cache (.mypy_cache) keeps repeated runs to a second or two.
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_adapters_are_checked_where_python_imports_them() -> None:
    link_adapters()
    assert LINK.resolve() == (ROOT / "adapters").resolve() == adapters_folder()


def test_core_and_adapters_pass_mypy_strict() -> None:
    out = mypy()
    assert out.returncode == 0, out.stdout + out.stderr
    # Every module of both, and nothing else: the adapters are not silently left out.
    expected = sum(1 for folder in ("s3media_wsgi", "adapters") for _ in (ROOT / folder).rglob("*.py"))
    assert re.search(rf"^Success: no issues found in {expected} source files$", out.stdout, re.M), out.stdout


def test_mypy_sees_the_adapters_real_types(tmp_path: Path) -> None:
    """Through the configured layout, adapter functions have the core's types, not Any."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from s3media_wsgi.adapters.flask import get_media\n"
        "from s3media_wsgi.adapters.django.templatetags.s3media import media_url\n"
        "reveal_type(get_media)\n"
        "reveal_type(media_url)\n"
        "wrong: int = get_media()\n"
    )
    out = mypy(str(probe))
    assert out.returncode == 1, out.stdout + out.stderr
    assert re.search(
        r'probe.py:3: note: Revealed type is "def \(app: .*flask\.app\.Flask.*\) -> s3media_wsgi\.media\.Media"',
        out.stdout,
    ), out.stdout
    assert re.search(
        r'probe.py:4: note: Revealed type is "def \(media_id: (builtins\.)?str \| '
        r'django\.db\.models\.fields\.files\.FieldFile\) -> (builtins\.)?str"',
        out.stdout,
    ), out.stdout
    assert 'expression has type "Media", variable has type "int"' in out.stdout
    assert out.stdout.count(": error:") == 1, out.stdout


@pytest.mark.parametrize("package", ["django-stubs"])
def test_stubs_the_check_needs_are_in_the_dev_extra(package: str) -> None:
    """Without them Django's classes are Any and the adapter's annotations go unchecked."""
    text = (ROOT / "pyproject.toml").read_text()
    dev = re.search(r"^dev = \[(.*?)^\]", text, re.S | re.M)
    assert dev is not None and re.search(rf'"{re.escape(package)}[<>=!~ ]', dev.group(1))
