# medseal — the quick start is `make run` and `make test` (see README.md).
BUILD ?= build
DATA ?= data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: deps build test test-sanitized run bench soak clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The PostgreSQL runs of the suite use a throwaway cluster started for the run and removed after
# it, also when a test fails (scripts/pg-test-cluster.sh).
test: build
	bash scripts/pg-test-cluster.sh run sh -c 'cd $(BUILD) && ctest --output-on-failure -j $(JOBS)'

# The whole suite again under AddressSanitizer and UBSan (DESIGN.md section 9), in its own build dir.
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -O1
test-sanitized: deps
	cmake -S . -B $(BUILD)-sanitized -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build $(BUILD)-sanitized -j $(JOBS)
	bash scripts/pg-test-cluster.sh run sh -c 'cd $(BUILD)-sanitized && \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)'

# Demo identities (scripts/demo-identities.sh) are issued once, before the first start.
run: build
	@sh scripts/demo-identities.sh $(BUILD)/medseal $(DATA)
	$(BUILD)/medseal serve --data $(DATA) --listen $(LISTEN)

bench: build
	$(BUILD)/medseal_bench --summary $(BUILD)/bench.json

# Mixed load at a fixed rate against a real server for SOAK_SECONDS (tests/soak_test.cc): fails if
# memory, open files or p99 latency grow or anything is alerted; plots to $(BUILD)/soak.svg.
SOAK_SECONDS ?= 600
soak: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target medseal soak_test -j $(JOBS)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SVG=$(BUILD)/soak.svg $(BUILD)/soak_test

clean:
	rm -rf $(BUILD) $(BUILD)-sanitized
