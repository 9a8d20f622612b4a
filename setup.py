"""Builds the one C extension, japronto._core, from every C file under src/japronto/_core.

Build switches, read from the environment at build time:

    JAPRONTO_DEBUG=1     -O0 -g3, asserts on (NDEBUG undefined)
    JAPRONTO_SANITIZE=1  ASan + UBSan with -fno-sanitize-recover=all; load the extension with
                         LD_PRELOAD=$(cc -print-file-name=libasan.so) (see Makefile: pytest-asan)
    JAPRONTO_WERROR=1    warnings are errors (CI)
    JAPRONTO_BUILD_JOBS  how many C files are compiled at once (default: the CPUs this
                         process may run on; 1 compiles them one after another)

A release build is -O2 with hidden symbol visibility. The run-time switch JAPRONTO_SIMD=scalar
forces the portable parser path (for valgrind); see src/japronto/_core/simd.h.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

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


def build_jobs():
    jobs = os.environ.get("JAPRONTO_BUILD_JOBS", "")
    if jobs:
        if not jobs.isdigit():
            raise SystemExit(f"JAPRONTO_BUILD_JOBS must be a whole number, not {jobs!r}")
        return max(1, int(jobs))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# The base class's compile(), which the Unix compiler inherits (setuptools 80 renamed the
# class from CCompiler to Compiler).
_BASE_COMPILE = ("CCompiler.compile", "Compiler.compile")


class parallel_build_ext(build_ext):
    """build_ext that compiles the extension's C files build_jobs() at a time.

    setuptools compiles one extension's sources one after another (its --parallel runs
    whole extensions at once, and there is one). Each compiler run is a child process, so
    threads are enough: this is CCompiler.compile's own loop with the calls of _compile
    (one source file) spread over a thread pool. A compiler class with a compile() of its
    own (not the Unix one this project builds with) keeps it.
    """

    def build_extensions(self):
        compiler = self.compiler
        jobs = build_jobs()
        if jobs > 1 and type(compiler).compile.__qualname__ in _BASE_COMPILE:
            compiler.compile = _parallel_compile(compiler, jobs)
        super().build_extensions()


def _parallel_compile(compiler, jobs):
    def compile(
        sources,
        output_dir=None,
        macros=None,
        include_dirs=None,
        debug=False,
        extra_preargs=None,
        extra_postargs=None,
        depends=None,
    ):
        macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs
        )
        cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)

        def one(obj):
            src, ext = build[obj]
            compiler._compile(obj, src, ext, cc_args, extra_postargs, pp_opts)

        # A CompileError stops the build as the serial loop would: map() re-raises it and
        # cancels the compiles not yet started; those running end before the pool's exit.
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(one, [obj for obj in objects if obj in build]))
        return objects

    return compile


setup(ext_modules=[core], cmdclass={"build_ext": parallel_build_ext})
