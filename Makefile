# Usage Ledger. `make run` builds the collector and runs it with config.yaml;
# `make test` runs every test, the end-to-end one against the built binary.

SHELL      := /usr/bin/env bash
GO         ?= go
OCB_VERSION := v0.161.0

BIN        := $(CURDIR)/bin
OCB        := $(BIN)/ocb
COLLECTOR  := $(BIN)/otelcol-usageledger
TOOLS_MOD  := $(CURDIR)/internal/tools/go.mod

# Folders whose metadata.yaml mdatagen turns into generated code.
COMPONENTS := processor/genaiusageprocessor exporter/usageledgerexporter \
	receiver/usageledgerreceiver

# The collector is rebuilt when any Go file of the root module changes.
SOURCES := $(shell find . -name '*.go' -not -path './_build/*' -not -path './testbed/*' \
	-not -path './conformance/node_modules/*') \
	go.mod go.sum builder-config.yaml

.PHONY: build run test deps unit e2e conformance stores demo generate prices dashboards \
	fuzz long bench testbed testbed-smoke fmt vet clean

build: $(COLLECTOR)

# Builds take turns (flock, from util-linux): two at once would share
# bin/builder, _build/ and the file being copied.
$(OCB):
	mkdir -p $(BIN)
	flock $(BIN)/.build.lock sh -c 'test -x $(OCB) || { \
		GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION) && \
		mv $(BIN)/builder $(OCB); }'

$(COLLECTOR): $(OCB) $(SOURCES)
	mkdir -p $(BIN)
	flock $(BIN)/.build.lock sh -c '$(OCB) --config builder-config.yaml && \
		cp _build/otelcol-usageledger $(COLLECTOR).new && mv -f $(COLLECTOR).new $(COLLECTOR)'

run: build
	mkdir -p data
	$(COLLECTOR) --config config.yaml

test: deps vet unit fuzz e2e conformance stores testbed-smoke

# Programs the tests run besides Go, from Debian's packages, installed when
# missing: Prometheus (and promtool) and VictoriaMetrics for the dashboard
# and alert-rule tests, Node.js and npm for the conformance suite, strace
# for the testbed's slow-storage faults.
DEB_NEEDS := prometheus:prometheus promtool:prometheus victoria-metrics:victoria-metrics \
	node:nodejs npm:npm strace:strace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

deps:
	@missing=$$(for need in $(DEB_NEEDS); do \
		command -v $${need%%:*} >/dev/null || echo $${need#*:}; done | sort -u | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

unit:
	$(GO) test -race -count=1 ./...

e2e: build
	USAGELEDGER_COLLECTOR=$(COLLECTOR) $(GO) test -count=1 -v -run 'TestEndToEnd' ./e2e/...

# Real instrumentation libraries from npm, run against a stand-in provider,
# their spans sent through the built collector.
conformance/node_modules/.package-lock.json: conformance/package.json conformance/package-lock.json
	cd conformance && npm ci --no-audit --no-fund

conformance: build conformance/node_modules/.package-lock.json
	USAGELEDGER_COLLECTOR=$(COLLECTOR) $(GO) test -count=1 -v -run 'TestConformance' ./conformance/...

# Dashboard queries and alert rules run on real Prometheus and VictoriaMetrics,
# fed by scraping /metrics and through the receiver and remote write.
stores: build
	USAGELEDGER_COLLECTOR=$(COLLECTOR) $(GO) test -count=1 -v -run TestDashboardsAndRulesOnRealStores ./deploy/stores/

# The testbed (its own module): every scenario against a baseline pipeline
# and the do-it-yourself rival in one run, results in testbed/results/.
testbed: deps build
	cd testbed && OCB=$(OCB) ./build-diy.sh
	cd testbed && USAGELEDGER_COLLECTOR=$(COLLECTOR) OCB=$(OCB) USAGELEDGER_TESTBED=full \
		$(GO) test -p 1 -count=1 -v -timeout 60m ./...

# A short, correctness-only run of every testbed scenario.
testbed-smoke: deps build
	cd testbed && $(GO) vet ./... && test -z "$$(gofmt -l .)"
	cd testbed && USAGELEDGER_COLLECTOR=$(COLLECTOR) OCB=$(OCB) $(GO) test -p 1 -count=1 \
		-timeout 15m ./...

demo:
	$(GO) run ./cmd/demo-agents

generate:
	for c in $(COMPONENTS); do \
		(cd $$c && $(GO) tool -modfile=$(TOOLS_MOD) mdatagen metadata.yaml) || exit 1; \
	done

# Regenerates internal/pricing/prices.json from the newest @pydantic/genai-prices
# on the npm registry (needs node and npm); the result is committed.
prices:
	$(GO) run ./tools/genai-prices

# Regenerates the Grafana dashboards under deploy/grafana/dashboards.
dashboards:
	$(GO) run ./deploy/grafana/gen

# Fuzz targets, each for FUZZTIME: by default a count of inputs, which a busy
# machine cannot cut short the way it can a duration. `make fuzz FUZZTIME=10m`
# runs them longer; plain go test runs only their seeds.
FUZZTIME ?= 20000x
FUZZ_TARGETS := ./internal/ledger:FuzzRowKey ./internal/ledger:FuzzCounters \
	./internal/ledger:FuzzConnectionInfo ./exporter/usageledgerexporter:FuzzExpositionLabels \
	./processor/genaiusageprocessor:FuzzProcessSpan ./internal/ledger:FuzzDedupAgainstModel

fuzz:
	for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) $${t%%:*} || exit 1; \
	done

# Long rounds: kill -9 of a process committing to the ledger, 200 rounds.
long:
	USAGELEDGER_LONG=1 $(GO) test -count=1 -run KillNine ./internal/ledger/

# Benchmarks of the hot paths: processor per span, pricing, ledger commits.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./processor/genaiusageprocessor/ ./internal/pricing/
	$(GO) test -run '^$$' -bench 'Commit|FileSize|ConsumeTraces|Scrape|Count' ./internal/ledger/ \
		./exporter/usageledgerexporter/

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf _build $(BIN)
