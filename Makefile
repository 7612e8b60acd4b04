# Maestro Server. `make run` starts the server, `make test` runs every check and test.
# Everything needed (Go modules, sqlc, staticcheck) is fetched by the go command on first use.

GO        ?= go
SQLC      := $(GO) tool -modfile=tools/sqlc.mod sqlc
STATICCHECK := $(GO) tool -modfile=tools/staticcheck.mod staticcheck
BIN       := bin/maestro-server
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/maestro-hq/maestro-server/internal/app.Version=$(VERSION)
TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: run build test check gen sqlc openapi lint fmt vet bench clean docs-check vendor-docs fuzz

## run: start the server on 127.0.0.1:3000 with its SQLite file under DATA_DIR (default ~/.maestro/data)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/maestro-server serve

## build: compile bin/maestro-server
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/maestro-server

## test: every check, then every test with the race detector
test: check
	$(GO) test $(TEST_FLAGS) ./...

## gen: regenerate committed code (sqlc queries in db/, OpenAPI documents and the events schema in api/)
gen: sqlc openapi

sqlc:
	$(SQLC) generate

openapi:
	$(GO) run ./cmd/maestro-server openapi --version 1 > api/openapi-v1.yaml
	$(GO) run ./cmd/maestro-server openapi --version 2 > api/openapi-v2.yaml
	$(GO) run ./cmd/maestro-server events-schema > api/events.schema.json

## check: fail when generated code is stale or gofmt/vet/staticcheck complain
check:
	@echo "check: sqlc output in db/ is current"
	@$(SQLC) diff || { echo "db/ differs from the queries: run 'make gen' and commit"; exit 1; }
	@echo "check: api/*.yaml is current"
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(GO) run ./cmd/maestro-server openapi --version 1 > $$tmp/openapi-v1.yaml && \
	  $(GO) run ./cmd/maestro-server openapi --version 2 > $$tmp/openapi-v2.yaml && \
	  diff -u api/openapi-v1.yaml $$tmp/openapi-v1.yaml > /dev/null && \
	  diff -u api/openapi-v2.yaml $$tmp/openapi-v2.yaml > /dev/null || \
	  { echo "api/ differs from what the code generates: run 'make gen' and commit"; exit 1; }
	@echo "check: api/events.schema.json is current"
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(GO) run ./cmd/maestro-server events-schema > $$tmp/events.schema.json && \
	  diff -u api/events.schema.json $$tmp/events.schema.json > /dev/null || \
	  { echo "api/events.schema.json differs from maestro.EventCatalog: run 'make gen' and commit"; exit 1; }
	@echo "check: gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go') 2>/dev/null); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo "check: go vet"
	@$(GO) vet ./...
	@echo "check: staticcheck"
	@$(STATICCHECK) ./...

## lint: gofmt, vet and staticcheck only
lint:
	@$(GO) vet ./... && $(STATICCHECK) ./...

## bench: the performance figures of DESIGN §10, each against a server it starts on loopback and stops:
## one Markdown table of REST rows (health, GET task, list of 1,000, POST task, the mixed CLI workload, v2
## page and search, and those set against the v1 list served by a second server with the cache off), each a
## ratio to a ceiling measured in the same run; the handler cost without the network,
## WebSocket fan-out to 1,000 clients (without and with permessage-deflate offered), what a write's wait
## for its sockets costs (POST latency with 0, 10 and 1,000 sockets), and start-up time and memory over 1M tasks (SCALE_TASKS; building that database takes a few minutes).
BENCH_FLAGS ?=
SCALE_TASKS ?= 1000000
bench: build
	$(GO) build -o bin/maestro-bench ./cmd/maestro-bench
	./bin/maestro-bench http -server $(BIN) -duration 3s
	$(GO) test -run '^$$' -bench Handler -benchmem -benchtime 2s ./internal/httpapi/
	./bin/maestro-bench fanout -server $(BIN) -clients 1000 -duration 10s -rate 20 $(BENCH_FLAGS)
	./bin/maestro-bench fanout -server $(BIN) -clients 1000 -duration 10s -rate 20 -compress $(BENCH_FLAGS)
	./bin/maestro-bench postlat -server $(BIN) -sockets 0,10,1000 -requests 500
	./bin/maestro-bench scale -server $(BIN) -tasks $(SCALE_TASKS)

## fuzz: run each native fuzz target (request decoding of v1 and v2 bodies and of list queries) for
## FUZZTIME (default 30s); their seed corpus already runs in `make test`. New failing inputs are kept in
## internal/httpapi/testdata/fuzz/ (commit them: they then run in `make test` too).
FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzV1Body FuzzV2Body FuzzQuery
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./internal/httpapi/ || exit 1; \
	done

fmt:
	gofmt -w $$(git ls-files '*.go')

## docs-check: load /api/v2/docs in headless Chromium with the network cut off and check that the
## operations render (installs Debian's chromium when missing; not part of `make test`)
docs-check: build
	scripts/docs-check.sh $(BIN)

## vendor-docs: re-vendor the Swagger UI assets of the docs pages from npm (DOCS_UI_VERSION=x.y.z)
vendor-docs:
	scripts/vendor-docs.sh $(DOCS_UI_VERSION)

clean:
	rm -rf bin
