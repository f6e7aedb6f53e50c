"""The examples in the core's docstrings run and say what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import s3media_wsgi

CORE = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(s3media_wsgi.__path__, "s3media_wsgi.")
    if not name.startswith("s3media_wsgi.adapters")
)


@pytest.mark.parametrize("name", CORE)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
