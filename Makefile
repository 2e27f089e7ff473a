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
COMPONENTS := processor/genaiusageprocessor exporter/usageledgerexporter

# The collector is rebuilt when any Go file of the root module changes.
SOURCES := $(shell find . -name '*.go' -not -path './_build/*' -not -path './testbed/*') \
	go.mod go.sum builder-config.yaml

.PHONY: build run test unit e2e demo generate fmt vet clean

build: $(COLLECTOR)

$(OCB):
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	mv $(BIN)/builder $(OCB)

$(COLLECTOR): $(OCB) $(SOURCES)
	$(OCB) --config builder-config.yaml
	mkdir -p $(BIN)
	cp _build/otelcol-usageledger $(COLLECTOR).new
	mv -f $(COLLECTOR).new $(COLLECTOR)

run: build
	mkdir -p data
	$(COLLECTOR) --config config.yaml

test: vet unit e2e

unit:
	$(GO) test -race -count=1 ./...

e2e: build
	USAGELEDGER_COLLECTOR=$(COLLECTOR) $(GO) test -count=1 -v -run 'TestEndToEnd' ./e2e/...

demo:
	$(GO) run ./cmd/demo-agents

generate:
	for c in $(COMPONENTS); do \
		(cd $$c && $(GO) tool -modfile=$(TOOLS_MOD) mdatagen metadata.yaml) || exit 1; \
	done

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf _build $(BIN)
