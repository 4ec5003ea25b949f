# tessera — see README.md. `make run` serves a demo catalog; `make test` runs every test.
GO      ?= go
BIN     := bin/tessera
DATA    ?= data
ADDR    ?= 127.0.0.1:8080
# Tiles need GDAL (cgo); the catalog builds without it.
TAGS    ?= $(shell pkg-config --exists gdal 2>/dev/null && echo gdal)

.PHONY: all build run setup test test-short bench fuzz clean

all: build

build:
	$(GO) build -tags "$(TAGS)" -o $(BIN) ./cmd/tessera

# Installs what is missing on a Debian machine (GDAL for tiles) when run as root.
setup:
	@scripts/setup.sh

run: setup
	@$(MAKE) --no-print-directory build
	@scripts/demo.sh "$(BIN)" "$(DATA)" "$(ADDR)"

test:
	@scripts/test.sh

test-short:
	$(GO) test -tags "$(TAGS)" -short ./...

bench:
	@scripts/bench.sh

clean:
	rm -rf bin $(DATA)
