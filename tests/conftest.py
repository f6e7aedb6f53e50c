"""Shared fixtures: real storages (a temp folder; moto's S3 server over HTTP) and real images."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# boto3 must never find real credentials or a real endpoint while testing.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}.items():
    os.environ[_name] = _value

SECRET = "test-secret-0123456789-abcdefghijklmnop"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 implementation (moto's server) on 127.0.0.1, on a free port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Any]:
    """A Redis server of the tests' own (``redis-server`` on 127.0.0.1, a free port), for the whole session."""
    from servers import serve_redis

    with serve_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    """The session's Redis server, emptied for this test: its URL."""
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return str(redis_server.url)


@pytest.fixture
def own_redis_server() -> Iterator[Any]:
    """A Redis server for this test alone, which the test may stop (``.stop()``)."""
    from servers import serve_redis

    with serve_redis() as server:
        yield server


@pytest.fixture
def s3_client(moto_endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client) -> str:
    """A fresh, empty bucket for one test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_storage(moto_endpoint: str, s3_bucket: str, s3_client):
    from s3media_wsgi import S3Storage

    return S3Storage(
        bucket=s3_bucket,
        region="us-east-1",
        base_url=f"{moto_endpoint}/{s3_bucket}/",
        endpoint_url=moto_endpoint,
        client=s3_client,
    )


@pytest.fixture
def local_storage(tmp_path):
    from s3media_wsgi import LocalStorage

    return LocalStorage(tmp_path / "media", base_url="/media/")


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """Each storage backend in turn: the contract suite runs against both."""
    return request.getfixturevalue(f"{request.param}_storage")


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture(scope="module")
def migrated() -> None:
    """Django's tables of every installed app, made by their migrations (ours included), once per test module.

    For the Django tests only, which configure Django when they are imported.
    """
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


@pytest.fixture
def db(migrated: None) -> Iterator[None]:
    """Each test in a transaction rolled back at its end, as Django's TestCase does."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size of every image Pillow decodes pixels of from here on (``ImageFile.load`` calls), in order."""
    from PIL import ImageFile

    sizes = []
    load = ImageFile.ImageFile.load

    def spy(im):
        if im.tile:  # a load() of pixels already decoded (resize, convert) decodes nothing
            sizes.append(im.size)
        return load(im)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


# --- test tiers ----------------------------------------------------------------------------------
#
# Three tiers, chosen here by folder and fixture (no test carries a marker of its own):
#
# - ``browser``: tests/browser/ (Chromium driven by Playwright; the Uppy tests also need Node.js
#   and tests/browser/node_modules).
# - ``integration``: real servers and processes: moto's S3 server (any test using it, directly or
#   through the ``storage`` fixture's "s3" case), waitress/wsgiref, subprocesses (the CLI, mypy,
#   packaging), s3rver on Node.js (the website loop), the examples, most of tests/reliability/.
# - unit: the rest; ``make test-fast`` runs it alone (``-m "not integration and not browser"``).
#
# What the browser tier, the website loop and the task-queue tests need from outside Python
# (Chromium, Node.js, npm packages, redis-server) is checked once per session: when something is
# missing those tests are not run and the session says so in ONE message naming the command that
# installs it.  With
# S3MEDIA_REQUIRE_ALL_TIERS=1 (``make test`` and so .ci/run set it) or CI set, the same message
# stops the session instead, with a failing status: CI never passes without the browser tests.

TESTS = Path(__file__).resolve().parent

#: Modules (relative to tests/) that are integration tests as a whole: each talks to a real server or
#: runs processes in most of its tests.
INTEGRATION_MODULES = frozenset(
    {
        "test_cli.py",
        "test_example_catalog.py",
        "test_example_wsgi.py",
        "test_examples.py",
        "test_http_server.py",
        "test_packaging.py",
        "test_production_loop.py",
        "test_typing.py",
        "test_website_loop.py",
    }
)
#: Folders (relative to tests/) whose every test is an integration test.
INTEGRATION_FOLDERS = ("reliability",)
#: Fixtures that start a real server: a test using any (even indirectly) is an integration test.
INTEGRATION_FIXTURES = frozenset(
    {"moto_endpoint", "fault_proxy", "peak_rss_mib_of", "redis_server", "own_redis_server"}
)
#: Fixtures that run redis-server (and need the Redis client and RQ of the dev extra).
REDIS_FIXTURES = frozenset({"redis_server", "own_redis_server"})
#: Parametrised fixtures whose given cases start a real server.
INTEGRATION_PARAMS = {"storage": {"s3"}}


def _tier(item: pytest.Item) -> str:
    relative = Path(str(item.path)).resolve().relative_to(TESTS)
    if relative.parts[0] == "browser":
        return "browser"
    if relative.parts[0] in INTEGRATION_FOLDERS or str(relative) in INTEGRATION_MODULES:
        return "integration"
    if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return "integration"
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(params.get(name) in cases for name, cases in INTEGRATION_PARAMS.items()):
        return "integration"
    return "unit"


def pytest_configure(config: pytest.Config) -> None:
    # The markers themselves are registered in pyproject.toml ([tool.pytest.ini_options] markers).
    config.pluginmanager.register(_Prerequisites(), "s3media-prerequisites")


def _missing_for_browser(needs_node: bool) -> list[str]:
    """What the browser tier lacks, each with the command that installs it."""
    missing = []
    chromium = os.environ.get("S3MEDIA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not os.access(chromium, os.X_OK):
        missing.append("Chromium (apt-get install -y chromium, or S3MEDIA_CHROMIUM=/path/to/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright's Python package (pip install -e '.[dev]')")
    if needs_node:
        if shutil.which("node") is None or shutil.which("npm") is None:
            missing.append("Node.js and npm (apt-get install -y nodejs npm)")
        if not (TESTS / "browser" / "node_modules" / ".package-lock.json").is_file():
            missing.append("Uppy and esbuild (cd tests/browser && npm ci)")
    return missing


def _missing_for_website_loop() -> list[str]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return ["Node.js and npm for s3rver (apt-get install -y nodejs npm; then cd tests/website && npm ci)"]
    return []  # the test runs `npm ci` in tests/website itself when s3rver is not there


def _missing_for_redis() -> list[str]:
    missing = []
    if shutil.which("redis-server") is None:
        missing.append("redis-server (apt-get install -y redis-server)")
    try:
        import redis  # noqa: F401
        import rq  # noqa: F401
    except ImportError:
        missing.append("the Python packages redis and rq (pip install -e '.[dev]')")
    return missing


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, before ``-m`` reads the marks."""
    for item in items:
        tier = _tier(item)
        if tier != "unit":
            item.add_marker(getattr(pytest.mark, tier))


class _Prerequisites:
    """After ``-m``/``-k``: are Chromium, Playwright, Node.js and redis-server there for the selected tests?"""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        browser = [item for item in items if item.get_closest_marker("browser")]
        loop = [item for item in items if Path(str(item.path)).name == "test_website_loop.py"]
        queues = [item for item in items if REDIS_FIXTURES.intersection(getattr(item, "fixturenames", ()))]
        missing = []
        needy: list[pytest.Item] = []
        if browser and (lacking := _missing_for_browser(any("uppy_bundle" in i.fixturenames for i in browser))):
            missing += lacking
            needy += browser
        if loop and (lacking := _missing_for_website_loop()):
            missing += lacking
            needy += loop
        if queues and (lacking := _missing_for_redis()):
            missing += lacking
            needy += queues
        if not missing:
            return
        message = "missing " + "; ".join(missing)
        not_run = set(needy)
        if os.environ.get("S3MEDIA_REQUIRE_ALL_TIERS") == "1" or os.environ.get("CI"):
            raise pytest.UsageError(
                f"{len(not_run)} browser, website-loop and task-queue tests cannot run: {message}. "
                "(S3MEDIA_REQUIRE_ALL_TIERS=1 or CI is set: every tier must run.)"
            )
        config.hook.pytest_deselected(items=[item for item in items if item in not_run])
        items[:] = [item for item in items if item not in not_run]
        config.stash[_NOT_RUN] = (
            f"{len(not_run)} browser, website-loop and task-queue tests deselected: {message}. "
            "(`make test` and CI fail instead.)"
        )


_NOT_RUN = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    note = config.stash.get(_NOT_RUN, None)
    if note:
        terminalreporter.write_sep("=", "tiers not run", yellow=True, bold=True)
        terminalreporter.write_line(note)


def pytest_report_header(config: pytest.Config) -> str:
    return "tiers: unit, integration, browser (tests/conftest.py); make test-fast runs the unit tier"
