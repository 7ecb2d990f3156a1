# medseal — the quick start is `make run` and `make test` (see README.md).
BUILD ?= build
DATA ?= data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: deps deps-fuzz build test test-asan test-sanitized test-tsan fuzz fuzz-build run bench soak clean

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

# The whole suite again under AddressSanitizer and UBSan (DESIGN.md section 9), in its own build dir;
# line tables only (-g1: reports still name files and lines) and no benchmarks, to keep CI short.
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -O1
test-asan: deps
	cmake -S . -B $(BUILD)-sanitized -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
	  -DMEDSEAL_BENCH=OFF -DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build $(BUILD)-sanitized -j $(JOBS)
	bash scripts/pg-test-cluster.sh run sh -c 'cd $(BUILD)-sanitized && \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)'
test-sanitized: test-asan

# The concurrent parts under ThreadSanitizer (GCC), in build-tsan: the sequencer and ledger, the
# sentinel, the record service, the stores, the HTTP server and FHIR API, the alerts pipeline, the
# witness and the cosigner, the token store. Suppressions (third-party code only): .tsan-suppressions.
TSAN_TESTS = ledger_append_test sentinel_test records_service_test storage_sqlite_test \
  server_http_test server_fhir_api_test server_witness_test alerts_pipeline_test alerts_http_test \
  witness_test cosigner_test identity_tokens_test
TSAN_REGEX = ^([A-Za-z]+/)?(LedgerAppendTest|SentinelTest|RecordServiceTest|StorageSqlite|ServerHttpTest|FhirApiTest|WitnessedServerTest|Alert(LedgerTest|Metrics|Outbox|Serve|Webhook)|AlertsHttpTest|WitnessTest|CosignerTest|TokenStoreTest)\.
test-tsan: deps
	cmake -S . -B $(BUILD)-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
	cmake --build $(BUILD)-tsan -j $(JOBS) --target medseal $(TSAN_TESTS)
	cd $(BUILD)-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/.tsan-suppressions" \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_REGEX)'

# libFuzzer targets (fuzz/), clang 14, in build-fuzz: `make fuzz FUZZ_SECONDS=600` runs each target
# (or FUZZ_TARGETS) that long, FUZZ_JOBS at a time, from seeds made from ../shared, and prints
# executions per target.
FUZZ_SECONDS ?= 15
FUZZ_JOBS ?= $(JOBS)
# Some of them only, e.g. FUZZ_TARGETS="http_api_fuzz note_fuzz"; empty: all.
FUZZ_TARGETS ?=
deps-fuzz: deps
	@bash scripts/install-deps.sh --fuzz

fuzz-build: deps-fuzz
	cmake -S . -B $(BUILD)-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DMEDSEAL_FUZZ=ON \
	  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only"
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_targets

fuzz: fuzz-build
	bash fuzz/run.sh $(BUILD)-fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# Demo identities (scripts/demo-identities.sh) are issued once, before the first start.
run: build
	@sh scripts/demo-identities.sh $(BUILD)/medseal $(DATA)
	$(BUILD)/medseal serve --data $(DATA) --listen $(LISTEN)

# The PostgreSQL rows (issue 7 section 5) run on MEDSEAL_BENCH_PG if set, else on a throwaway
# PostgreSQL 15 with fsync on started for the run (scripts/pg-test-cluster.sh); without either the
# summary says why they were not run.
PG_BIN ?= /usr/lib/postgresql/15/bin
# More medseal_bench flags, e.g. BENCH_ARGS=--benchmark_filter='Pg|Postgres' (the PostgreSQL rows only).
BENCH_ARGS ?=
bench: build
	@if [ -n "$$MEDSEAL_BENCH_PG" ]; then \
	  $(BUILD)/medseal_bench --summary $(BUILD)/bench.json $(BENCH_ARGS); \
	elif [ -x $(PG_BIN)/initdb ]; then \
	  PG_TEST_FSYNC=on bash scripts/pg-test-cluster.sh run \
	    sh -c 'MEDSEAL_BENCH_PG=$$MEDSEAL_TEST_PG exec $(BUILD)/medseal_bench --summary $(BUILD)/bench.json "$$@"' sh $(BENCH_ARGS); \
	else \
	  MEDSEAL_BENCH_PG_NOT_RUN="MEDSEAL_BENCH_PG is not set and PostgreSQL 15 is not installed ($(PG_BIN)/initdb; make deps installs it)" \
	    $(BUILD)/medseal_bench --summary $(BUILD)/bench.json $(BENCH_ARGS); \
	fi

# Mixed load at a fixed rate against a real server for SOAK_SECONDS (tests/soak_test.cc): fails if
# memory, open files or p99 latency grow or anything is alerted; plots to $(BUILD)/soak.svg.
SOAK_SECONDS ?= 600
soak: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target medseal soak_test -j $(JOBS)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SVG=$(BUILD)/soak.svg $(BUILD)/soak_test

clean:
	rm -rf $(BUILD) $(BUILD)-sanitized $(BUILD)-tsan $(BUILD)-fuzz
