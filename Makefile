# The developer's entry points. `make test` is the README's test command and what .ci/run calls.
#
#   make test          install test dependencies, then every test: C tests under ASan+UBSan,
#                      a short fuzzing run of every libFuzzer target, the extension built with
#                      -Werror on each CPython 3.9-3.13 present, the pytest suite on the normal
#                      build, on the oldest and newest of those other CPythons (pytest-pythons)
#                      and on an ASan+UBSan build of the extension, each in PYTEST_JOBS
#                      processes (default: two a core)
#   make ctest         layer-0 C tests (built without Python's include path, sanitizers on)
#   make fuzz          every fuzz target for FUZZ_SECONDS each (default 15); longer:
#                      make fuzz FUZZ_SECONDS=3600
#   make build         build and install the package in editable mode
#   make pythons       build the extension with -Werror on every CPython 3.9-3.13 found,
#                      from one sdist, BUILD_JOBS versions at a time
#   make pytest-pythons  the normal suite on CPythons besides .venv's that `make pythons` built:
#                      the oldest and newest, or PYTEST_PYTHONS="all" / "3.10 3.12"
#   make bench-parser  the parser benchmark (see benchmarks/README.md)
#   make format        clang-format the C sources, ruff format the Python

SHELL := /bin/bash
PYTHON ?= .venv/bin/python
# pytest runs its tests in this many processes (pytest-xdist), two a core by default: most
# of a server test's time is spent waiting on its server process, so one process a core
# leaves the cores partly idle (on two cores the normal suite took 150 s in 2 processes and
# 116 s in 4). PYTEST_JOBS=0 runs them in the pytest process itself. Work stealing
# (--dist worksteal) hands a worker that runs out of tests some of another's queue, so a few
# long tests at the end of one queue do not leave the other workers idle (the normal suite:
# 113 to 120 s against 121 to 136 s with xdist's default up-front split).
PYTEST_JOBS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))
PYTEST := $(PYTHON) -m pytest -q -n $(PYTEST_JOBS) --dist worksteal
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CC ?= cc
CLANG ?= clang
FUZZ_SECONDS ?= 15
CORE := src/japronto/_core
# Layer 0: the pure-C files (no Python.h), linked into every C test and fuzz target.
L0_NAMES := chars simd http1 chunked buffer date url dtoa jsonscan
L0_SRC := $(wildcard $(addprefix $(CORE)/,$(addsuffix .c,$(L0_NAMES))))
L0_HDR := $(wildcard $(CORE)/*.h) $(wildcard tests/c/*.h)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CWARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CTEST_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g $(CWARN) $(SAN) -I$(CORE)

CTESTS := $(patsubst tests/c/%.c,build/ctest/%,$(wildcard tests/c/test_*.c))
# dtoa.c once more without the compiler's 128-bit integer, as on a 32-bit target.
CTESTS += build/ctest/test_dtoa_no_int128
FUZZERS := $(patsubst tests/c/%.c,build/fuzz/%,$(wildcard tests/c/fuzz_*.c))

.PHONY: test test-deps ctest fuzz build pythons bench-parser format clean pytest pytest-asan \
	pytest-pythons

test: test-deps ctest fuzz pythons pytest pytest-pythons pytest-asan

test-deps:
	bash scripts/install-test-deps

build:
	$(PYTHON) -m pip install -q -e '.[test]'

build/ctest/%: tests/c/%.c $(L0_SRC) $(L0_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CTEST_CFLAGS) -o $@ $< $(L0_SRC) -lm

build/ctest/test_dtoa_no_int128: tests/c/test_dtoa.c $(L0_SRC) $(L0_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CTEST_CFLAGS) -DJP_DTOA_NO_INT128 -o $@ $< $(L0_SRC) -lm

# The C tests and fuzz targets are built, and the C tests run, BUILD_JOBS at a time; each
# test's output is shown whole, in order, once all have run.
ctest:
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) $(CTESTS)
	@set -e; rm -f $(addsuffix .rc,$(CTESTS)); for t in $(CTESTS); do \
	    ( rc=0; ASAN_OPTIONS=detect_leaks=1 $$t >$$t.log 2>&1 || rc=$$?; echo $$rc >$$t.rc ) & \
	    while [ $$(jobs -r | wc -l) -ge $(BUILD_JOBS) ]; do sleep 0.1; done; \
	done; wait; \
	status=0; for t in $(CTESTS); do \
	    echo "== $$t"; cat $$t.log; [ "$$(cat $$t.rc 2>/dev/null)" = 0 ] || { echo "FAILED: $$t"; status=1; }; \
	done; exit $$status

build/fuzz/%: tests/c/%.c $(L0_SRC) $(L0_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -I$(CORE) -o $@ $< $(L0_SRC) -lm

# New inputs go to a scratch directory first; the committed seed corpus is only read.
fuzz:
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) $(FUZZERS)
	@set -e; for f in $(FUZZERS); do \
	    name=$$(basename $$f); name=$${name#fuzz_}; \
	    mkdir -p build/corpus/$$name; \
	    dict=tests/c/$$name.dict; dictarg=; [ -f $$dict ] && dictarg=-dict=$$dict; \
	    echo "== $$f for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dictarg \
	        build/corpus/$$name tests/c/corpus/$$name 2>&1 | grep -E 'stat::number_of_executed_units|Done|ERROR|SUMMARY' ; \
	    test $${PIPESTATUS[0]} -eq 0; \
	done

# The server tests run with direct I/O (the default); the modules about the connection itself
# run once more on the loops' own transports (JAPRONTO_IO=transport), the other I/O path.
TRANSPORT_TESTS := $(addprefix tests/server/,test_basics.py test_pipelining.py \
	test_connections.py test_bodies.py test_split.py test_clients.py test_errors.py \
	test_header_growth.py)
pytest:
	$(PYTEST) tests
	JAPRONTO_IO=transport $(PYTEST) -p no:cacheprovider $(TRANSPORT_TESTS)

# The normal suite on other CPythons, against the wheels `make pythons` built: the oldest and
# the newest found unless PYTEST_PYTHONS says "all" or lists versions.
pytest-pythons:
	PYTEST_JOBS=$(PYTEST_JOBS) bash scripts/pytest-pythons

# The whole Python suite again, against a copy of the package whose extension is built with
# ASan and UBSan. The interpreter itself is not instrumented, so the ASan runtime is preloaded;
# leak detection is off here because CPython keeps memory until exit by design (the C tests
# run with it on).
ASAN_PKG := build/asan-pkg
pytest-asan:
	rm -rf $(ASAN_PKG) build/asan-tmp && mkdir -p $(ASAN_PKG)
	cp -r src/japronto $(ASAN_PKG)/ && rm -rf $(ASAN_PKG)/japronto/_core $(ASAN_PKG)/japronto/*.so
	JAPRONTO_SANITIZE=1 JAPRONTO_WERROR=1 $(PYTHON) setup.py -q build_ext \
	    --build-lib $(ASAN_PKG) --build-temp build/asan-tmp 2>&1 | grep -v -i deprecat || true
	test -n "$$(ls $(ASAN_PKG)/japronto/_core*.so)"
	LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
	    PYTHONPATH=$(ASAN_PKG) JAPRONTO_EXPECT_SANITIZED=1 $(PYTEST) -p no:cacheprovider tests

pythons:
	PYTHON=$(PYTHON) BUILD_JOBS=$(BUILD_JOBS) bash scripts/build-all-pythons

bench-parser:
	bash benchmarks/parser/run

format:
	clang-format -i $(CORE)/*.c $(CORE)/*.h tests/c/*.c tests/c/*.h
	$(PYTHON) -m ruff format src tests benchmarks

clean:
	rm -rf build src/japronto/*.so src/*.egg-info
