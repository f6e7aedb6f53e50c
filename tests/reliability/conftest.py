"""Fixtures for the reliability suite: a fault-injecting proxy in front of moto and a
peak-memory probe run in a fresh interpreter.  (The real threaded WSGI server the tests
run apps under, waitress, is ``tests/servers.py``'s ``serve_wsgi``.)

Importing: like ``tests/images.py`` for the tests in ``tests/``, ``faultproxy.py`` is
imported by its bare name (``from faultproxy import FaultProxy``).  This works because
pytest's default ("prepend") import mode puts the folder of every conftest.py and test
module that is not in a package on ``sys.path``; that is why this folder has no
``__init__.py``.

The helper :func:`peak_rss_mib_of` is a plain function; test modules get it through the
fixture of the same name (importing ``conftest`` by name would be ambiguous:
``tests/conftest.py`` exists too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faultproxy import FaultProxy

#: ``tests/``: put on the subprocess's PYTHONPATH so snippets can ``import images``.
TESTS_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def fault_proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    """A started :class:`FaultProxy` in "pass" mode in front of the session's moto server.

    Stopped after the test; stopping releases hung requests and fails the teardown if
    one of its threads is left behind.
    """
    with FaultProxy(moto_endpoint) as proxy:
        yield proxy


# --- peak memory of a snippet, in a fresh interpreter ------------------------------

_RESULT_MARKER = "@@peak-rss@@ "

# Runs before the snippet: defines baseline().
#
# Why not resource.getrusage().ru_maxrss alone: on Linux a child inherits its
# parent's peak across fork/exec (the kernel keeps the larger of the two), so a
# snippet started from a pytest process of 300 MB would report a peak of at least
# 300 MB and every growth would read as 0.  /proc/self/status's VmHWM is the peak of
# this process's own memory only, and writing "5" to /proc/self/clear_refs resets it
# to the current RSS (Linux >= 4.0), which makes baseline() exact.  Elsewhere (macOS)
# ru_maxrss is the fallback, with the inheritance caveat.
_PRELUDE = """\
import json as _peak_json, resource as _peak_resource, sys as _peak_sys


def _peak_rss_kib():
    \"\"\"This process's peak RSS so far, in KiB.\"\"\"
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    scale = 1024 if _peak_sys.platform == "darwin" else 1  # ru_maxrss: bytes on macOS, KiB elsewhere
    return _peak_resource.getrusage(_peak_resource.RUSAGE_SELF).ru_maxrss / scale


_PEAK_BASELINE_KIB = None
_PEAK_RESET = False


def baseline():
    \"\"\"Mark "now" as zero: the reported growth is the peak RSS above this point.\"\"\"
    global _PEAK_BASELINE_KIB, _PEAK_RESET
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # peak := current RSS
        _PEAK_RESET = True
    except OSError:
        _PEAK_RESET = False
    _PEAK_BASELINE_KIB = _peak_rss_kib()

"""

# Runs after the snippet: reports the peak as the last line of stdout.
_POSTLUDE = f"""

if _PEAK_BASELINE_KIB is None:
    raise SystemExit("peak_rss_mib_of: the snippet never called baseline()")
_peak_sys.stdout.flush()
print({_RESULT_MARKER!r} + _peak_json.dumps({{
    "baseline_kib": _PEAK_BASELINE_KIB,
    "peak_kib": _peak_rss_kib(),
    "reset": _PEAK_RESET,
}}), flush=True)
"""


def peak_rss_mib_of(code: str, timeout: float = 60.0) -> tuple[float, str]:
    """Run *code* in a fresh Python and return ``(peak RSS growth in MiB, its stdout)``.

    Why a subprocess: the peak RSS of the test process is polluted by everything that
    ran before (other tests, moto, Pillow caches) and can only grow, so it cannot show
    what one operation costs.  A fresh interpreter can.

    The snippet must call ``baseline()`` (predefined) once its imports and setup are
    done; the growth is how far the process's peak RSS rose above its RSS at that
    call.  On Linux the peak is reset at baseline() (``/proc/self/clear_refs``), so
    memory used and freed during setup does not hide anything; where that reset is not
    possible, the baseline is the peak so far, and such setup memory can hide growth
    up to its level.  Memory is measured from ``/proc/self/status`` (VmHWM), not
    ``ru_maxrss``, which a child inherits from its (large) pytest parent on Linux.

    The snippet runs at module level (it is dedented, so an indented triple-quoted
    string is fine), with ``tests/`` on PYTHONPATH (``import images`` works) and this
    process's environment (the fake AWS credentials).  A non-zero exit, a missing
    baseline() call or *timeout* seconds passing raise AssertionError.
    """
    source = _PRELUDE + textwrap.dedent(code) + _POSTLUDE
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-c", source],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=TESTS_DIR.parent,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        raise AssertionError(f"peak_rss_mib_of: snippet still running after {timeout}s") from exc
    if done.returncode != 0:
        raise AssertionError(f"peak_rss_mib_of: snippet exited with {done.returncode}:\n{done.stderr[-4000:]}")
    stdout, _, result = done.stdout.rpartition(_RESULT_MARKER)
    if not result:
        raise AssertionError(f"peak_rss_mib_of: no result line in the snippet's output:\n{done.stdout[-4000:]}")
    numbers = json.loads(result)
    growth_mib = max(0.0, numbers["peak_kib"] - numbers["baseline_kib"]) / 1024
    return growth_mib, stdout


@pytest.fixture(name="peak_rss_mib_of")
def peak_rss_mib_of_fixture() -> Callable[..., tuple[float, str]]:
    """:func:`peak_rss_mib_of`, for test modules: ``growth, out = peak_rss_mib_of(code)``."""
    return peak_rss_mib_of
