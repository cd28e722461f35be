# Thin wrapper over CMake. `make` builds build/bin/{gcmsg,gcsim}; `make test` runs the whole
# suite (gcc build, then a clang ASan+UBSan build) through CTest; `make demo` runs the demo.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build asan test test-default test-asan demo fuzz clean bench

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset default >/dev/null
	cmake --build --preset default -j $(JOBS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

test-default: build
	ctest --preset default

test-asan: asan
	ctest --preset asan

# The sanitizer pass runs first so that CTest's closing line is the plain build's summary.
test: test-asan test-default

# Longer fuzzing than the suite's short runs: FUZZ_SECONDS per target (default 300).
FUZZ_SECONDS ?= 300
fuzz: asan
	@for t in toml conversation errorbody template html library_file policy policy_file mime readback token_cache login_callback bulk_file; do \
	  [ -x build-asan/bin/fuzz_$$t ] || continue; \
	  mkdir -p build-asan/fuzz-corpus/$$t && cp -rn tests/fuzz/corpus/$$t/. build-asan/fuzz-corpus/$$t/ && \
	  build-asan/bin/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-asan/fuzz-artifacts/$$t/ \
	    build-asan/fuzz-corpus/$$t || exit 1; \
	done

demo: build
	scripts/demo.sh

# gcmsg against the usual ways of sending, on gcsim (bench/README.md); BENCH_ARGS passes options.
bench: build
	bench/run $(BENCH_ARGS)

clean:
	rm -rf build build-asan
