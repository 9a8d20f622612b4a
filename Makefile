# The developer's entry points. `make test` is the README's test command and what .ci/run calls.
#
#   make test          install test dependencies, then every test: C tests under ASan+UBSan,
#                      a short fuzzing run of every libFuzzer target, the pytest suite
#   make ctest         layer-0 C tests (built without Python's include path, sanitizers on)
#   make fuzz          every fuzz target for FUZZ_SECONDS each (default 15); longer:
#                      make fuzz FUZZ_SECONDS=3600
#   make build         build and install the package in editable mode
#   make pythons       build the extension with -Werror on every CPython 3.9-3.13 found
#   make bench-parser  the parser benchmark (see benchmarks/README.md)
#   make format        clang-format the C sources, ruff format the Python

SHELL := /bin/bash
PYTHON ?= python3
CC ?= cc
CLANG ?= clang
FUZZ_SECONDS ?= 15
CORE := src/japronto/_core
L0_SRC := $(CORE)/chars.c $(CORE)/simd.c $(CORE)/http1.c $(CORE)/chunked.c
L0_HDR := $(wildcard $(CORE)/*.h) $(wildcard tests/c/*.h)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CWARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CTEST_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g $(CWARN) $(SAN) -I$(CORE)

CTESTS := $(patsubst tests/c/%.c,build/ctest/%,$(wildcard tests/c/test_*.c))
FUZZERS := $(patsubst tests/c/%.c,build/fuzz/%,$(wildcard tests/c/fuzz_*.c))

.PHONY: test test-deps ctest fuzz build pythons bench-parser format clean pytest

test: test-deps ctest fuzz pytest

test-deps:
	bash scripts/install-test-deps

build:
	$(PYTHON) -m pip install -q -e '.[test]'

build/ctest/%: tests/c/%.c $(L0_SRC) $(L0_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CTEST_CFLAGS) -o $@ $< $(L0_SRC)

ctest: $(CTESTS)
	@set -e; for t in $(CTESTS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t; done

build/fuzz/%: tests/c/%.c $(L0_SRC) $(L0_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -I$(CORE) -o $@ $< $(L0_SRC)

# New inputs go to a scratch directory first; the committed seed corpus is only read.
fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do \
	    name=$$(basename $$f); name=$${name#fuzz_}; \
	    mkdir -p build/corpus/$$name; \
	    dict=tests/c/$$name.dict; dictarg=; [ -f $$dict ] && dictarg=-dict=$$dict; \
	    echo "== $$f for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dictarg \
	        build/corpus/$$name tests/c/corpus/$$name 2>&1 | grep -E 'stat::number_of_executed_units|Done|ERROR|SUMMARY' ; \
	    test $${PIPESTATUS[0]} -eq 0; \
	done

pytest:
	$(PYTHON) -m pytest -q tests

pythons:
	bash scripts/build-all-pythons

bench-parser:
	bash benchmarks/parser/run

format:
	clang-format -i $(CORE)/*.c $(CORE)/*.h tests/c/*.c tests/c/*.h
	$(PYTHON) -m ruff format src tests benchmarks

clean:
	rm -rf build src/japronto/*.so src/*.egg-info
