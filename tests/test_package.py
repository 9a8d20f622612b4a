"""The package imports, exposes its C engine, and honours the parser-path switch."""

import os
import subprocess
import sys

import japronto
from japronto import _core


def test_version_is_set():
    assert japronto.__version__ and japronto.__version__ != "0+unknown"


def test_version_is_read_lazily():
    # importlib.metadata (with email, zipfile, pathlib) was half of import japronto's time,
    # paid by every process that imports the package; it loads only when __version__ is read.
    code = (
        "import sys, japronto; "
        "before = 'importlib.metadata' in sys.modules; "
        "listed = '__version__' in dir(japronto); "
        "v = japronto.__version__; "
        "print(before, 'importlib.metadata' in sys.modules, v == japronto.__version__, listed)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True", "True"]


def test_unknown_attribute_is_an_attribute_error():
    try:
        japronto.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("japronto.no_such_name did not raise")


def test_core_is_the_compiled_extension():
    # The C sources live in a folder named _core too; the extension must win the import.
    assert _core.__file__.endswith(".so")


def test_simd_path_is_known():
    assert japronto.simd_path() in ("avx2", "scalar")


def test_scalar_path_can_be_forced():
    env = dict(os.environ, JAPRONTO_SIMD="scalar")
    out = subprocess.run(
        [sys.executable, "-c", "import japronto; print(japronto.simd_path())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "scalar"


def test_default_limits_are_exported():
    assert _core.DEFAULT_MAX_REQUEST_LINE == 8192
    assert _core.DEFAULT_MAX_HEAD_SIZE == 65536
    assert _core.DEFAULT_MAX_HEADERS == 100
    assert _core.DEFAULT_MAX_BODY_SIZE == 16 * 1024 * 1024
    assert _core.DEFAULT_MAX_CHUNK_LINE == 4096


def test_sanitized_build_is_the_one_loaded_when_expected():
    # `make pytest-asan` sets JAPRONTO_EXPECT_SANITIZED so that this suite cannot pass against
    # the normal build by accident (a stale PYTHONPATH, say).
    if os.environ.get("JAPRONTO_EXPECT_SANITIZED"):
        assert "asan-pkg" in _core.__file__
    else:
        assert "asan-pkg" not in _core.__file__


def test_the_interpreter_and_build_are_the_ones_expected():
    # `make pytest-pythons` sets JAPRONTO_EXPECT_PYTHON for each CPython it runs the suite on,
    # so that a run cannot pass on another interpreter or another build by accident.
    want = os.environ.get("JAPRONTO_EXPECT_PYTHON")
    if want:
        assert "{}.{}".format(*sys.version_info[:2]) == want
        assert f"{os.sep}venv-{want}{os.sep}" in _core.__file__, _core.__file__
