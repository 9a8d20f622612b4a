"""Builds the one C extension, japronto._core, from every C file under src/japronto/_core.

Build switches, read from the environment at build time:

    JAPRONTO_DEBUG=1     -O0 -g3, asserts on (NDEBUG undefined)
    JAPRONTO_SANITIZE=1  ASan + UBSan with -fno-sanitize-recover=all; load the extension with
                         LD_PRELOAD=$(cc -print-file-name=libasan.so) (see Makefile: pytest-asan)
    JAPRONTO_WERROR=1    warnings are errors (CI)

A release build is -O2 with hidden symbol visibility. The run-time switch JAPRONTO_SIMD=scalar
forces the portable parser path (for valgrind); see src/japronto/_core/simd.h.
"""

import os
from pathlib import Path

from setuptools import Extension, setup

CORE = Path("src/japronto/_core")


def flag(name):
    return os.environ.get(name, "").lower() not in ("", "0", "no", "false")


compile_args = [
    "-std=gnu11",
    "-fvisibility=hidden",
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wno-missing-field-initializers",  # CPython's PyType_Slot/PyMethodDef tables rely on it
    "-Wno-cast-function-type",  # METH_NOARGS and friends are cast to PyCFunction by design
]
link_args = []
undef_macros = []

if flag("JAPRONTO_DEBUG"):
    compile_args += ["-O0", "-g3"]
    undef_macros.append("NDEBUG")
else:
    compile_args += ["-O2"]

if flag("JAPRONTO_SANITIZE"):
    san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    compile_args += san + ["-g"]
    link_args += san

if flag("JAPRONTO_WERROR"):
    compile_args.append("-Werror")

core = Extension(
    "japronto._core",
    sources=sorted(str(p) for p in CORE.glob("*.c")),
    depends=sorted(str(p) for p in CORE.glob("*.h")),
    include_dirs=[str(CORE)],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    undef_macros=undef_macros,
)

setup(ext_modules=[core])
