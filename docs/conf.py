"""Sphinx configuration of the documentation site: `make docs` builds it into build/docs/html."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

project = "s3media_wsgi"
author = "s3media_wsgi contributors"
copyright = "s3media_wsgi contributors"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.intersphinx"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# The settings table is included by reference/settings.md, not a page of its own.
exclude_patterns = ["_build", "reference/settings-table.md"]

html_theme = "furo"
html_title = "s3media_wsgi"

# Markdown: GitHub's heading slugs, so `page.md#a-heading` works on GitHub and here alike, and every
# internal link or anchor that does not resolve is a warning (an error under `make docs`).
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]
suppress_warnings: list[str] = []

# The API reference: the public modules' docstrings (reStructuredText).
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Only our own docstrings: a method we override without one would show the framework's (in its markup).
autodoc_inherit_docstrings = False
autodoc_default_options = {"show-inheritance": True}
# No network at build time: intersphinx has no inventories to fetch.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# The adapters import their frameworks; Django's modules want settings first.
sys.path.insert(0, str(ROOT))


def _configure_django() -> None:
    from django.conf import settings

    if settings.configured:
        return
    installed = ["django.contrib.contenttypes", "django.contrib.auth", "s3media_wsgi.adapters.django"]
    if importlib.util.find_spec("django_tasks"):  # the tasks framework's backport before Django 6.0
        installed.append("django_tasks")
    settings.configure(
        INSTALLED_APPS=installed,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        S3MEDIA={"SECRET_KEY": "documentation-build-secret-0123456789-abcdefghijkl"},
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        USE_TZ=True,
    )
    import django

    django.setup()


_configure_django()


def _api_reference(app: object, docname: str, source: list[str]) -> None:
    """Append an ``automodule`` per public module to the API page: the list has one home, the package.

    An object several public modules export is documented once, under the first; the others name it.
    """
    if docname != "reference/api":
        return
    import importlib

    import s3media_wsgi

    here = ("Media", "MediaId", "MediaInfo", "MediaMiddleware")  # the rest is documented in its own module
    seen: dict[int, str] = {}
    blocks = []
    for name in ("s3media_wsgi", *s3media_wsgi.PUBLIC_MODULES):
        module = importlib.import_module(name)
        exported = [n for n in module.__all__ if not n.startswith("__")]
        if name == "s3media_wsgi":
            exported = [n for n in exported if n in here]
        own, elsewhere, proxies = [], [], []
        for attribute in exported:
            obj = getattr(module, attribute)
            if type(obj).__name__ == "LocalProxy":  # a context-bound proxy: named, never evaluated
                proxies.append(attribute)
            elif id(obj) in seen:
                elsewhere.append(f"`{attribute}` ({seen[id(obj)]})")
            else:
                seen[id(obj)] = f"documented under `{name}`"
                own.append(attribute)
        rst = [f".. automodule:: {name}", f"   :members: {', '.join(own)}" if own else "   :no-members:"]
        rst += [f"\n.. data:: {name}.{proxy}\n   :no-index:" for proxy in proxies]
        text = f"\n## `{name}`\n\n```{{eval-rst}}\n" + "\n".join(rst) + "\n```\n"
        if elsewhere:
            text += f"\nAlso exported: {', '.join(elsewhere)}.\n"
        blocks.append(text)
    source[0] += "".join(blocks)


_RULE = re.compile(r"^=+( +=+)+$")


def _as_typed(app: object, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    """Show the docstrings' examples and plain-text tables as typed, in literal blocks.

    The docstrings are written for the source and ``help()`` first: an example is a block indented under a
    paragraph (reStructuredText wants ``::`` before it), and a table has columns with sub-headings under one
    rule of ``=``.
    """
    i, block = 0, -1  # block: the indent of the paragraph whose literal block runs, or -1
    while i < len(lines):
        line = lines[i]
        if block >= 0 and (not line.strip() or _indent(line) > block):
            i += 1  # inside a literal block: as typed
            continue
        block = -1
        if _RULE.match(line):
            end = i
            while end + 1 < len(lines) and lines[end + 1].strip():
                end += 1
            lines[i : end + 1] = ["::", "", *("    " + row for row in lines[i : end + 1])]
            i = end + 3
            continue
        following = lines[i + 2] if i + 2 < len(lines) else ""
        opens = line.strip() and i + 1 < len(lines) and not lines[i + 1].strip() and _indent(following) > _indent(line)
        if opens and line.rstrip().endswith("::"):
            block = _indent(line)
        elif (
            opens
            and not _LIST_ITEM.match(line)
            and _indent(following) >= _indent(line) + 4
            and not following.strip().startswith(">>>")
        ):
            lines[i + 1 : i + 1] = ["", " " * _indent(line) + "::"]
            block = _indent(line)
            i += 2
        i += 1


_LIST_ITEM = re.compile(r"^\s*(?:[-*+] |\d+[.)] |:[^:]+:|\.\. )")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip()) if line.strip() else -1


def setup(app: object) -> dict[str, object]:
    app.connect("source-read", _api_reference)  # type: ignore[attr-defined]
    app.connect("autodoc-process-docstring", _as_typed)  # type: ignore[attr-defined]
    return {"parallel_read_safe": True}
