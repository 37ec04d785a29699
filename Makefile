# pcapq — `make demo` runs the main job on a bundled capture, `make test`
# passes the tests. Both install what a fresh Debian machine lacks.

GO        ?= go
TAGS      := duckdb_arrow
GOFLAGS_T := -tags=$(TAGS)
BIN       := bin/pcapq
DEMO_DB   := bin/demo.duckdb
DEMO_PCAP := testdata/mkcapture-small.pcap
export CGO_ENABLED := 1

# Debian packages: libpcap for live capture/BPF, the peer tools the
# conformance tests compare against (tshark, capinfos, tcpdump, tcpflow;
# cmark-gfm, GitHub's Markdown renderer, for the Markdown escaping test).
DEB_PKGS := libpcap-dev tshark tcpdump tcpflow cmark-gfm
# xmllint checks pcapq diff's JUnit against its schema; the rest is what
# ../shared/tools/mkcapture drives (the diff acceptance test records with it).
DEB_PKGS += libxml2-utils nginx wrk dnsmasq-base bind9-dnsutils iputils-ping nftables ethtool
# Headless Chromium: the report and serve pages are tested in a real browser.
DEB_PKGS += chromium
# node and npm (DuckDB's Node client opens our files in a test) come from
# Debian only when no node is installed already.
NODE_PKGS := $(shell command -v npm >/dev/null 2>&1 || echo nodejs npm)
# staticcheck, pinned, installed into bin/tools by `make deps`.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/tools/staticcheck
# go test's per-package limit: cmd/pcapq takes about a minute on an idle
# 2-core machine and several on a loaded one; the limit leaves room for that
# without letting a hung test hold CI for its whole budget.
TEST_TIMEOUT ?= 20m
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build demo test test-short race deps bench fuzz schema-doc vet lint clean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PKGS) $(NODE_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@[ -x $(STATICCHECK) ] && $(STATICCHECK) -version 2>/dev/null | grep -q '$(STATICCHECK_VERSION:v%=%)' || \
	  GOBIN=$(CURDIR)/bin/tools $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

build: deps
	$(GO) build $(GOFLAGS_T) -o $(BIN) ./cmd/pcapq

demo: build
	@rm -f $(DEMO_DB) $(DEMO_DB).wal
	$(BIN) ingest $(DEMO_PCAP) -o $(DEMO_DB)
	@echo; echo '-- top talkers'
	$(BIN) query -d $(DEMO_DB) "SELECT src_ip, dst_ip, ip_proto, count(*) AS packets, sum(orig_len) AS bytes FROM packets GROUP BY ALL ORDER BY packets DESC LIMIT 5"
	@echo; echo '-- connections by Zeek conn_state'
	$(BIN) query -d $(DEMO_DB) "SELECT proto, conn_state, count(*) AS flows, sum(orig_bytes + resp_bytes) AS payload_bytes FROM flows GROUP BY ALL ORDER BY flows DESC"
	@echo; echo '-- TCP analysis events'
	$(BIN) query -d $(DEMO_DB) "SELECT kind, count(*) AS n FROM tcp_events GROUP BY kind ORDER BY n DESC"
	@echo; echo '-- slowest HTTP responses'
	$(BIN) query -d $(DEMO_DB) "SELECT method, uri, status_code, round(ttfb_ms, 3) AS ttfb_ms, resp_body_len FROM http ORDER BY ttfb_ms DESC NULLS LAST LIMIT 5"

vet:
	$(GO) vet $(GOFLAGS_T) ./...

lint: deps
	$(STATICCHECK) $(GOFLAGS_T) ./...

# Conformance tests fail (not skip) here when ../shared/corpus or a peer tool
# is missing; only a local `go test -short` outside CI may skip them.
test: deps vet lint
	$(GO) test $(GOFLAGS_T) -count=1 -timeout $(TEST_TIMEOUT) ./...

# The pipeline's stages share batches across goroutines: check with the race
# detector (pure-Go packages in short mode, and the end-to-end pipeline tests).
race: deps
	$(GO) test -race -short -count=1 ./source ./ingest ./tcpsession ./httpextract ./decode
	$(GO) test -race $(GOFLAGS_T) -count=1 ./query
	$(GO) test -race $(GOFLAGS_T) -count=1 -run 'TestWorkerCountInvariance|TestHTTPGolden|TestInterruptKeepsCommitted' ./cmd/pcapq

test-short:
	$(GO) test $(GOFLAGS_T) -short -timeout $(TEST_TIMEOUT) ./...

# Short runs of every fuzz test of the module, found by name
# (longer: FUZZTIME=10m make fuzz; FUZZPAR=2 runs two at once).
FUZZTIME ?= 30s
fuzz: deps
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

bench: build
	benchmarks/run.sh

schema-doc:
	$(GO) test ./analyzers/all -run TestSchemaDocCurrent -update

clean:
	rm -rf bin
