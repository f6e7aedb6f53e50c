"""The documentation: its Python samples run, its links resolve, and the README stays a landing page.

Every fenced Python block of ``docs/`` and ``README.md`` is run, in order, one namespace per page, in a
temporary folder, or is marked as not runnable with its reason on the line before the fence::

    <!-- not run: needs AWS credentials and a bucket -->

A page's blocks start from the names :func:`_namespace` gives (a ``Media`` over ``LocalStorage`` in that
folder, a stored JPEG, a WSGI app, a request with a file): what a sample leaves undefined because the page
says where it comes from.  ``make docs`` checks the site's internal links and anchors (MyST reports each that
does not resolve); this file checks the README's, which GitHub renders, and the form of external links,
which no build here can fetch.
"""

from __future__ import annotations

import io
import re
import secrets
import types
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.rglob("*.md")) + [README]
README_MAX_LINES = 200

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_NOT_RUN = re.compile(r"^\s*<!-- not run: (?P<reason>\S.*?) -->\s*$")
_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\((?P<target><[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<target>[^()\s]+)\)")


def _blocks(text: str) -> list[tuple[int, str, str, str | None]]:
    """``(line, info, code, not-run reason)`` of each fenced block of *text*."""
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        start = i
        body = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and lines[i].strip(fence[0] + " \t") == ""):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        reason = _NOT_RUN.match(before)
        blocks.append((start + 1, info, "\n".join(body), reason["reason"] if reason else None))
        i += 1
    return blocks


def _prose(text: str) -> str:
    """*text* without its fenced blocks and inline code (where a link is not a link)."""
    out, fence = [], None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m["fence"]
            out.append("")
        elif fence is not None:
            if line.strip().startswith(fence) and line.strip(fence[0] + " \t") == "":
                fence = None
            out.append("")
        else:
            out.append(re.sub(r"`[^`\n]*`", "``", line))
    return "\n".join(out)


def _jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size)
    image.paste((200, 120, 40), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class _Files(dict[str, Any]):
    """``request.files``: each lookup a fresh upload, named as a browser names it."""

    def __missing__(self, name: str) -> Any:
        upload = io.BytesIO(_jpeg())
        upload.name = "My Photo #1?.JPEG"
        return upload


def _namespace() -> dict[str, Any]:
    from s3media_wsgi import LocalStorage, Media, MediaId, MediaMiddleware, S3Storage

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"the app"]

    secret = secrets.token_urlsafe(32)
    media = Media(LocalStorage("media", base_url="/media/"), secret_key=secret)
    files = _Files()
    return {
        "__name__": "docs_sample",
        "SECRET": secret,
        "app": app,
        "media": media,
        "media_id": media.put(io.BytesIO(_jpeg()), filename="cat.jpg"),
        "request_file": files["photo"],
        "request": types.SimpleNamespace(files=files, user_may_upload=True),
        "row": types.SimpleNamespace(image=None),
        "Media": Media,
        "MediaId": MediaId,
        "MediaMiddleware": MediaMiddleware,
        "LocalStorage": LocalStorage,
        "S3Storage": S3Storage,
    }


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_python_sample_runs_or_says_why_not(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] | None = None
    for line, info, code, reason in _blocks(page.read_text()):
        if info.split()[:1] not in (["python"], ["py"]):
            assert reason is None, f"{_page_id(page)}:{line}: only Python samples are run; drop the marker"
            continue
        if reason is not None:
            continue
        if namespace is None:
            namespace = _namespace()
        try:
            exec(compile(code, f"{_page_id(page)}:{line}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(
                f"{_page_id(page)}:{line}: the sample raised {exc!r}; fix it, or put "
                "<!-- not run: the reason --> on the line before its fence"
            )


def test_samples_are_found_and_markers_are_read() -> None:
    text = (
        "Intro\n\n```python\nx = 1\n```\n\n<!-- not run: needs AWS -->\n```python\nboto3()\n```\n\n"
        "1. A step:\n\n   ```python\n   y = 2\n   ```\n"
    )
    assert _blocks(text) == [
        (3, "python", "x = 1", None),
        (8, "python", "boto3()", "needs AWS"),
        (14, "python", "y = 2", None),
    ]
    python = [reason for page in PAGES for _, info, _, reason in _blocks(page.read_text()) if info == "python"]
    samples, run = len(python), python.count(None)
    assert samples >= 12 and run >= 8, (samples, run)


def _links(text: str) -> list[str]:
    prose = _prose(text)
    return [m["target"].strip("<>") for m in _LINK.finditer(prose)] + [m["target"] for m in _IMAGE.finditer(prose)]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading (what MyST's ``myst_heading_anchors`` makes too)."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    prose = _prose(path.read_text())
    return {_slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", prose, re.MULTILINE)}


def _check_relative(page: Path, target: str) -> str | None:
    path, _, anchor = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    if not resolved.exists():
        return f"{target}: no such file"
    if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
        return f"{target}: no heading with the anchor #{anchor}"
    return None


def test_the_readme_is_a_landing_page_of_at_most_200_lines() -> None:
    lines = README.read_text().split("\n")
    assert len(lines) - (lines[-1] == "") <= README_MAX_LINES, "move detail into docs/ and link to it"
    text = README.read_text()
    for command in ("make demo", "make test"):
        assert command in text


def test_every_relative_link_of_the_readme_resolves() -> None:
    targets = [t for t in _links(README.read_text()) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]
    assert len(targets) >= 10, "the README links into the docs"
    assert any(t.startswith("docs/") for t in targets)
    problems = [p for p in (_check_relative(README, t) for t in targets) if p]
    assert not problems, problems


def test_relative_links_are_checked_for_real() -> None:
    assert _check_relative(README, "docs/no-such-page.md") == "docs/no-such-page.md: no such file"
    assert "no heading" in (_check_relative(README, "docs/index.md#no-such-heading") or "")
    assert _slug("Checking uploads in the app (`on_confirm`)") == "checking-uploads-in-the-app-on_confirm"
    assert _slug("One pass: cleaned originals, placeholders, facts") == "one-pass-cleaned-originals-placeholders-facts"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_external_links_are_well_formed(page: Path) -> None:
    # Not fetched (the build machines reach package registries only): `make docs-linkcheck` does, where it can.
    from urllib.parse import urlsplit

    for target in _links(page.read_text()):
        scheme = re.match(r"([a-z][a-z0-9+.-]*):", target)
        if not scheme:
            continue
        parts = urlsplit(target)
        assert parts.scheme in ("https", "http", "mailto"), f"{_page_id(page)}: {target}"
        if parts.scheme != "mailto":
            assert parts.netloc and "." in parts.netloc and " " not in target, f"{_page_id(page)}: {target}"


def test_every_docs_page_is_in_the_table_of_contents() -> None:
    # Sphinx warns too (an error under make docs); this says it without building.
    index = (DOCS / "index.md").read_text()
    listed = set(re.findall(r"^([a-z][a-z0-9/-]*)$", index, re.MULTILINE))
    pages = {str(p.relative_to(DOCS).with_suffix("")) for p in DOCS.rglob("*.md")}
    assert pages - listed - {"index", "reference/settings-table"} == set()
