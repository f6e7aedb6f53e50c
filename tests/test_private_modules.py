"""What is public is what ``s3media_wsgi.PUBLIC_MODULES`` lists; every other module is internal, by rule.

No module needs a leading underscore nor a place in a list to be internal: a
module not in :data:`~s3media_wsgi.PUBLIC_MODULES` (say ``answers``,
``bounded``, ``receipts``, ``storage.s3_errors``, a ``cli`` package) is
internal the day it is created, and its names may change in any release.
These tests hold the rule where it can leak: the examples, which people copy,
import public names only (the package's ``__all__``, or a public module's).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import s3media_wsgi

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: Imports of internal names the examples still make, each with what would end it.  The list may
#: only shrink: a new entry is a new leak (use a public name, or make the module public on purpose,
#: in PUBLIC_MODULES and tests/test_public_api.py), and an entry no example makes any more fails too.
KNOWN_LEAKS = {
    # gallery_common.image_types(): the kinds this machine decodes; no public table of kinds yet.
    ("examples/gallery_common.py", "s3media_wsgi.sniff", "TYPES"),
    # gallery_common.confirmed_image(): "is this an id, and of an image?"; no public check yet.
    ("examples/gallery_common.py", "s3media_wsgi.formats", "by_ext"),
    ("examples/gallery_common.py", "s3media_wsgi.ids", "extension"),
    ("examples/gallery_common.py", "s3media_wsgi.ids", "is_id"),
    # wsgi_app.py's POST /focus: reads the posted point (bounded) into MediaInfo.focus; no public parser
    # yet (the Django adapter's focus.parse_focus does the same, but imports Django).
}


def package_modules() -> list[str]:
    """Every module and package of s3media_wsgi, the adapters included."""
    import s3media_wsgi.adapters  # installed from adapters/ (package-dir): not under s3media_wsgi's folder

    names = ["s3media_wsgi", "s3media_wsgi.adapters"]
    for package in (s3media_wsgi, s3media_wsgi.adapters):
        names += [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return sorted(set(names))


def public_names(module: str) -> set[str]:
    """The names *module* makes public: the package's ``__all__`` or a public module's; none otherwise."""
    if module == "s3media_wsgi":
        return set(s3media_wsgi.__all__)
    if module in s3media_wsgi.PUBLIC_MODULES:
        return set(importlib.import_module(module).__all__)
    return set()


def imports_of_the_package(path: Path) -> set[tuple[str, str]]:
    """``(module, name)`` for every name *path* takes from s3media_wsgi, in its code and in its docstrings' examples."""
    source = path.read_text(encoding="utf-8")
    trees = [ast.parse(source)]
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>> ") and "s3media_wsgi" in stripped:
            try:
                trees.append(ast.parse(stripped[4:]))
            except SyntaxError:
                pass
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "s3media_wsgi":
                found.update((node.module, alias.name) for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "s3media_wsgi":
                        # `import s3media_wsgi.x.y` (a Django migration names a field by its path): the module itself.
                        module, _, name = alias.name.rpartition(".")
                        found.add((module or alias.name, name))
    return found


def test_every_module_is_public_or_internal_by_the_rule():
    modules = package_modules()
    public = set(s3media_wsgi.PUBLIC_MODULES)
    assert public <= set(modules), public - set(modules)
    # A public module is a real module with a name a user may type: no part of it private.
    for name in public:
        assert not any(part.startswith("_") for part in name.split(".")), name
    # New modules are internal without being listed anywhere: the rule is PUBLIC_MODULES itself.
    internal = {name for name in modules if name not in public and name != "s3media_wsgi"}
    assert {"s3media_wsgi.answers", "s3media_wsgi.media"} <= internal
    assert "Every other module is\ninternal" in (s3media_wsgi.__doc__ or "")


def test_a_public_module_exports_public_names_only():
    # Django's tasks module binds its task to settings.TASKS on import: configure Django first, as
    # tests/test_public_api.py does (alone, this test would otherwise depend on the order tests run in).
    from django_testapp import configure

    configure()
    for name in s3media_wsgi.PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            assert not attribute.startswith("_") or attribute == "__version__", f"{name}.{attribute}"


def leaks() -> set[tuple[str, str, str]]:
    found = set()
    for path in sorted(EXAMPLES.rglob("*.py")):
        for module, name in imports_of_the_package(path):
            if module in ("s3media_wsgi", *s3media_wsgi.PUBLIC_MODULES) and name in public_names(module):
                continue
            if f"{module}.{name}" in s3media_wsgi.PUBLIC_MODULES:
                continue  # `from s3media_wsgi.adapters import flask`, `import s3media_wsgi.adapters.django.fields`
            found.add((str(path.relative_to(ROOT)), module, name))
    return found


def test_the_examples_import_public_names_only():
    new = leaks() - KNOWN_LEAKS
    assert not new, (
        "examples/ import internal names (neither in s3media_wsgi.__all__ nor in a PUBLIC_MODULES module's "
        f"__all__): {sorted(new)}"
    )


def test_the_list_of_known_leaks_only_shrinks():
    gone = KNOWN_LEAKS - leaks()
    assert not gone, f"no example imports these any more: remove them from KNOWN_LEAKS: {sorted(gone)}"


def test_the_rule_sees_a_leak():
    assert ("examples/gallery_common.py", "s3media_wsgi.sniff", "TYPES") in leaks()
    assert public_names("s3media_wsgi.answers") == set()  # internal: not in PUBLIC_MODULES, no list needed
    assert "answer_for" in importlib.import_module("s3media_wsgi.answers").__all__
