"""The wheel installs exactly what the editable install imports: same modules, same data files.

``[tool.setuptools] packages`` is an explicit list (the adapters in ``adapters/``
are installed as ``s3media_wsgi.adapters``, which automatic discovery cannot
express).  A subpackage missing from that list still imports in a checkout,
through the editable install, and is then missing from every real install;
this test is what notices.

The wheel is built from a copy of the project, offline (``--no-build-isolation``
uses the setuptools of this environment, which the ``dev`` extra provides).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Top-level entries of the checkout that are not the project's sources.
NOT_SOURCES = {
    ".git",
    ".venv",
    "build",
    "dist",
    "media",
    "media.json",
    ".dev-secret",
    ".mypy_cache",
    ".pytest_cache",
    ".hypothesis",
}


def _skip_generated(directory: str, names: list[str]) -> set[str]:
    skipped = {name for name in names if name == "__pycache__" or name.endswith((".pyc", ".egg-info"))}
    if Path(directory) == ROOT:
        skipped |= NOT_SOURCES & set(names)
    return skipped


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """A wheel of the project as it is in the working tree (committed or not)."""
    setuptools = importlib.metadata.version("setuptools")
    assert int(setuptools.split(".")[0]) >= 77, (
        f"setuptools {setuptools} cannot build this project ([build-system] requires >= 77): "
        "pip install -e '.[dev]' brings the one the dev extra lists"
    )
    base = tmp_path_factory.mktemp("wheel")
    source, out = base / "source", base / "dist"
    # A copy: building in the checkout would leave build/ behind, whose stale files
    # could end up in a later wheel, and would race with anyone else's build.
    shutil.copytree(ROOT, source, ignore=_skip_generated, symlinks=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("s3media_wsgi-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


EDITABLE_SCRIPT = """
import importlib, json, os, pkgutil
import s3media_wsgi

def fail(name):
    raise SystemExit(f"cannot import {name}")

import s3media_wsgi.adapters

modules, data, packages = set(), set(), {}
# The editable install maps s3media_wsgi.adapters to another folder than
# s3media_wsgi's, so walking s3media_wsgi does not reach it: walk both.
for root in (s3media_wsgi, s3media_wsgi.adapters):
    modules.add(root.__name__)
    packages[root.__name__] = root.__path__
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + ".", onerror=fail):
        modules.add(info.name)
        if info.ispkg:
            packages[info.name] = importlib.import_module(info.name).__path__
for name, paths in packages.items():
    for folder in paths:
        for entry in os.listdir(folder):
            full = os.path.join(folder, entry)
            if os.path.isfile(full) and not entry.endswith((".py", ".pyc")):
                data.add(name.replace(".", "/") + "/" + entry)
            elif entry == "assets" and os.path.isdir(full):  # data folders that are not packages
                for asset in os.listdir(full):
                    data.add(name.replace(".", "/") + "/assets/" + asset)
print(json.dumps({"modules": sorted(modules), "data": sorted(data), "file": s3media_wsgi.__file__}))
"""


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """What ``import s3media_wsgi...`` finds in this environment: modules, and data files beside them."""
    # Run away from the checkout, so the imports go through the installed (editable) package.
    done = subprocess.run(
        [sys.executable, "-c", EDITABLE_SCRIPT],
        cwd=tmp_path_factory.mktemp("elsewhere"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(done.stdout)
    assert Path(found["file"]).resolve() == ROOT / "s3media_wsgi" / "__init__.py", (
        "not the editable install of this checkout"
    )
    return found


def wheel_modules(archive: zipfile.ZipFile) -> set[str]:
    names = set()
    for name in archive.namelist():
        if name.startswith("s3media_wsgi/") and name.endswith(".py"):
            dotted = name[: -len(".py")].replace("/", ".")
            names.add(dotted.removesuffix(".__init__"))
    return names


def test_wheel_has_the_modules_the_editable_install_imports(
    wheel: zipfile.ZipFile, editable: dict[str, list[str]]
) -> None:
    in_wheel = wheel_modules(wheel)
    importable = set(editable["modules"])
    assert in_wheel == importable, {
        "only in the wheel": sorted(in_wheel - importable),
        "missing from the wheel": sorted(importable - in_wheel),
    }
    # The adapters, down to the template tags Django finds by module path.
    assert {
        "s3media_wsgi.adapters",
        "s3media_wsgi.adapters.flask",
        "s3media_wsgi.adapters.pyramid",
        "s3media_wsgi.adapters.django.middleware",
        "s3media_wsgi.adapters.django.templatetags.s3media",
    } <= in_wheel
    assert "s3media_wsgi/adapters/django/templatetags/s3media.py" in wheel.namelist()


def test_wheel_has_the_data_files_beside_the_modules(wheel: zipfile.ZipFile, editable: dict[str, list[str]]) -> None:
    names = set(wheel.namelist())
    assert "s3media_wsgi/py.typed" in names  # PEP 561: users' type checkers read the annotations
    in_wheel = {n for n in names if n.startswith("s3media_wsgi/") and not n.endswith(".py")}
    assert in_wheel == set(editable["data"])


def test_wheel_installs_no_top_level_adapters_package(wheel: zipfile.ZipFile) -> None:
    top_level = {name.split("/", 1)[0] for name in wheel.namelist()}
    (dist_info,) = [t for t in top_level if t.endswith(".dist-info")]
    assert top_level == {"s3media_wsgi", dist_info}, top_level
    assert not any(name.startswith("adapters/") for name in wheel.namelist())
    assert wheel.read(f"{dist_info}/top_level.txt").decode().split() == ["s3media_wsgi"]


def test_wheel_carries_no_tests_examples_or_caches(wheel: zipfile.ZipFile) -> None:
    assert not [n for n in wheel.namelist() if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in wheel.namelist() if n.startswith(("tests/", "examples/", "benchmarks/"))]
