"""Settings reach every option, in every framework; building happens in one place; modules import without cycles."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import ConfigError
from s3media_wsgi.factory import build_storage, middleware_kwargs
from s3media_wsgi.settings import (
    ADAPTER_KEYS,
    KNOWN_KEYS,
    LOCAL_KEYS,
    MEDIA_KEYS,
    MIDDLEWARE_KEYS,
    S3_KEYS,
    parse_settings,
)

SECRET = "factory-secret-0123456789-abcdefghijk"
ROOT = Path(__file__).resolve().parent.parent


def test_every_key_belongs_to_one_part() -> None:
    parts = set(LOCAL_KEYS) | set(S3_KEYS) | set(MEDIA_KEYS) | set(MIDDLEWARE_KEYS) | set(ADAPTER_KEYS)
    parts |= {"storage", "media_factory"}
    assert parts == set(KNOWN_KEYS)


def test_every_media_option_is_a_setting_with_the_same_name(tmp_path: Path) -> None:
    import inspect

    media_params = set(inspect.signature(Media.__init__).parameters) - {"self", "storage"}
    assert media_params == set(MEDIA_KEYS)
    s3_params = set(inspect.signature(S3Storage.__init__).parameters) - {"self", "client"}
    assert s3_params == set(S3_KEYS)


def test_media_settings_reach_media(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "secret_key": SECRET,
            "local_root": str(tmp_path),
            "presets": '{"thumb": {"size": "100x100", "mode": "fill"}}',
            "strict_presets": "on",
            "max_pixels": "1000000",
            "max_side": "1024",
            "max_frames": "7",
            "max_upload_bytes": "2048",
            "allowed_types": "png, jpeg",
            "max_concurrent_decodes": "3",
            "check_pixels": "off",
            "image_limits": '{"max_avif_pixels": 1000000, "max_jpeg_scans": 12}',
            "storage_budget": "2.5",
            "max_storage_requests": "2",
            "breaker_threshold": "9",
            "breaker_cooldown": "4",
        }
    )
    media = Media.from_settings(settings)
    limits = media.engine.limits
    assert (limits.max_pixels, limits.max_side, limits.max_frames) == (1_000_000, 1024, 7)
    assert media.max_upload_bytes == 2048 and media.allowed_types == {"png", "jpeg"}
    assert media.engine.max_concurrency == 3 and media.check_pixels is False
    assert (limits.max_avif_pixels, limits.max_jpeg_scans) == (1_000_000, 12)
    assert media.presets.strict and list(media.presets) == ["thumb"]
    guard = media.guard
    assert (guard.budget_seconds, guard.max_requests) == (2.5, 2)
    assert (guard.breaker.threshold, guard.breaker.cooldown) == (9, 4.0)


@pytest.mark.parametrize(
    ("value", "match"),
    [('{"max_avif_pixel": 1}', "unknown limits"), ('{"max_jpeg_scans": 0}', "positive"), ("[1]", "must be a dict")],
)
def test_image_limits_setting_is_checked(value: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_settings({"secret_key": SECRET, "image_limits": value})


def test_s3_settings_reach_the_storage(moto_endpoint: str, s3_bucket: str) -> None:
    settings = parse_settings(
        {
            "secret_key": SECRET,
            "storage": "s3",
            "bucket": s3_bucket,
            "region": "us-east-1",
            "endpoint_url": moto_endpoint,
            "acl": "public-read",
            "cache_control": "public, max-age=60",
            "connect_timeout": "1.5",
            "read_timeout": "3",
            "max_attempts": "2",
        }
    )
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.acl, storage.cache_control) == ("public-read", "public, max-age=60")
    config = storage.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1.5, 3.0)
    assert config.retries["total_max_attempts"] == 2
    assert storage.base_url == f"{moto_endpoint}/{s3_bucket}/"  # path style on the endpoint


def test_middleware_settings_reach_the_middleware(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "secret_key": SECRET,
            "local_root": str(tmp_path),
            "prefix": "/files/",
            "base_url": "/files/",
            "retry_after": "0",
            "local_cache_control": "no-cache",
        }
    )
    app = MediaMiddleware(lambda e, s: [], Media.from_settings(settings), **middleware_kwargs(settings))
    assert app.prefix == "/files/" and app.responder.retry_after == 0
    from images import png
    from webob import Request

    media_id = app.media.put(png(8, 8), filename="dot.png")
    res = Request.blank("/files/" + media_id + "/dot.png").get_response(app)
    assert res.status_int == 200 and res.headers["Cache-Control"] == "no-cache"


def make_storage() -> LocalStorage:
    return LocalStorage(_FACTORY_ROOT["root"], base_url="/media/")


def make_media() -> Media:
    return Media(LocalStorage(_FACTORY_ROOT["root"], base_url="/media/"), secret_key=SECRET, max_side=640)


def make_something_else() -> object:
    return object()


_FACTORY_ROOT: dict[str, Any] = {}


@pytest.fixture
def here(tmp_path: Path) -> str:
    _FACTORY_ROOT["root"] = tmp_path / "made"
    return __name__


def test_storage_may_be_a_dotted_path_to_a_factory(here: str) -> None:
    media = Media.from_settings({"secret_key": SECRET, "storage": f"{here}:make_storage"})
    assert isinstance(media.storage, LocalStorage) and media.storage.root.name == "made"
    with pytest.raises(ConfigError, match="not a storage"):
        Media.from_settings({"secret_key": SECRET, "storage": f"{here}.make_something_else"})
    with pytest.raises(ConfigError, match="cannot be loaded"):
        Media.from_settings({"secret_key": SECRET, "storage": f"{here}:no_such_thing"})
    with pytest.raises(ConfigError, match="local_root has no effect"):
        parse_settings({"secret_key": SECRET, "storage": f"{here}:make_storage", "local_root": "x"})


def test_media_factory_gives_a_ready_media(here: str) -> None:
    media = Media.from_settings({"media_factory": f"{here}:make_media"})  # no secret needed here
    assert media.max_side == 640
    with pytest.raises(ConfigError, match="not a Media"):
        Media.from_settings({"media_factory": f"{here}:make_something_else"})
    with pytest.raises(ConfigError, match=r"max_side has no effect when media_factory is set"):
        parse_settings({"media_factory": f"{here}:make_media", "max_side": "100"})
    with pytest.raises(ConfigError, match="media_factory must be"):
        parse_settings({"media_factory": "not a path"})


def test_flask_reaches_every_option_and_a_ready_media(here: str) -> None:
    flask = pytest.importorskip("flask")
    from s3media_wsgi.adapters.flask import S3Media

    app = flask.Flask("opts")
    app.config.update(
        S3MEDIA_SECRET_KEY=SECRET, S3MEDIA_LOCAL_ROOT=_FACTORY_ROOT["root"], S3MEDIA_ALLOWED_TYPES="png",
        S3MEDIA_MAX_SIDE="300",
    )  # fmt: skip
    S3Media(app)
    state = app.extensions["s3media"]
    assert state.media.allowed_types == {"png"} and state.media.max_side == 300
    other = flask.Flask("factory")
    other.config.update(S3MEDIA_MEDIA_FACTORY=f"{here}:make_media")
    S3Media(other)
    assert other.extensions["s3media"].media.max_side == 640


def test_pyramid_reaches_every_option_and_a_ready_media(here: str) -> None:
    pytest.importorskip("pyramid")
    from pyramid.config import Configurator

    from s3media_wsgi.adapters.pyramid import get_media

    with Configurator(
        settings={
            "s3media.secret_key": SECRET,
            "s3media.local_root": str(_FACTORY_ROOT["root"]),
            "s3media.allowed_types": "png\njpeg",
            "s3media.max_frames": "3",
        }
    ) as config:
        config.include("s3media_wsgi.adapters.pyramid")
        media = get_media(config.registry)
    assert media.allowed_types == {"png", "jpeg"} and media.engine.limits.max_frames == 3
    with Configurator(settings={"s3media.media_factory": f"{here}:make_media"}) as config:
        config.include("s3media_wsgi.adapters.pyramid")
        assert get_media(config.registry).max_side == 640


# --- the module graph ------------------------------------------------------------------------


def _package_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((ROOT / "s3media_wsgi").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for path in sorted((ROOT / "adapters").rglob("*.py")):
        parts = ["s3media_wsgi", "adapters", *path.relative_to(ROOT / "adapters").with_suffix("").parts]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], list[str]]:
    """(package modules imported at module level, package imports made inside functions)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top: set[str] = set()
    lazy: list[str] = []

    def resolve(node: ast.ImportFrom | ast.Import) -> list[str]:
        found = []
        if isinstance(node, ast.Import):
            return [a.name for a in node.names if a.name in modules]
        base = package
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        target = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
        for alias in node.names:
            if f"{target}.{alias.name}" in modules:
                found.append(f"{target}.{alias.name}")
            elif target in modules:
                found.append(target)
        return found

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            targets = resolve(node)
            if not targets:
                continue
            if node.col_offset == 0 or _in_type_checking(tree, node):
                top.update(targets)
            else:
                lazy.extend(targets)
    return top, lazy


def _in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
            if any(child is node for child in ast.walk(stmt)):
                return True
    return False


def test_the_module_graph_has_no_cycles_and_no_lazy_imports_of_the_package() -> None:
    modules = _package_modules()
    graph: dict[str, set[str]] = {}
    lazy: dict[str, list[str]] = {}
    for name, path in modules.items():
        graph[name], inner = _imports(name, path, modules)
        graph[name].discard(name)
        if inner:
            lazy[name] = inner
    # Django wants an app's checks imported in AppConfig.ready(), by design.
    assert set(lazy) <= {"s3media_wsgi.adapters.django.apps"}, lazy

    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert "s3media_wsgi.media" in graph and "s3media_wsgi.factory" in graph["s3media_wsgi.media"]


def test_the_graph_check_finds_a_cycle(tmp_path: Path) -> None:
    # The check itself can fail: two modules importing each other are reported.
    pkg = tmp_path / "s3media_wsgi"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n")
    modules = {"s3media_wsgi.a": pkg / "a.py", "s3media_wsgi.b": pkg / "b.py"}
    assert _imports("s3media_wsgi.a", pkg / "a.py", modules)[0] == {"s3media_wsgi.b"}
    assert _imports("s3media_wsgi.b", pkg / "b.py", modules)[1] == ["s3media_wsgi.a"]


def test_every_middleware_setting_is_a_keyword_of_the_responder() -> None:
    import inspect

    from s3media_wsgi.responder import MediaResponder
    from s3media_wsgi.settings import SETTINGS

    keywords = {SETTINGS[key].keyword or key for key in MIDDLEWARE_KEYS} - {"enabled"}
    assert keywords == set(inspect.signature(MediaResponder.__init__).parameters) - {"self", "media"}
    assert set(inspect.signature(MediaMiddleware.__init__).parameters) >= keywords
