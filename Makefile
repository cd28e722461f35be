# Thin wrapper over CMake. `make` builds build/bin/{gcmsg,gcsim}; `make test` runs the whole
# suite (gcc build, then a clang ASan+UBSan build) through CTest; `make demo` runs the demo.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build asan test test-default test-asan demo clean

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

demo: build
	scripts/demo.sh

clean:
	rm -rf build build-asan
