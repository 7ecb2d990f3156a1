# medseal — the quick start is `make run` and `make test` (see README.md).
BUILD ?= build
DATA ?= data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)

.PHONY: deps build test run bench clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: build
	$(BUILD)/medseal serve --data $(DATA) --listen $(LISTEN)

bench: build
	$(BUILD)/medseal_bench --summary $(BUILD)/bench.json

clean:
	rm -rf $(BUILD)
