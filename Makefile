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
# conformance tests compare against (tshark, capinfos, tcpdump, tcpflow).
DEB_PKGS := libpcap-dev tshark tcpdump tcpflow
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build demo test test-short race deps bench fuzz schema-doc vet clean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

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

test: deps vet
	$(GO) test $(GOFLAGS_T) -count=1 ./...

# The pipeline's stages share batches across goroutines: check with the race
# detector (pure-Go packages in short mode, and the end-to-end pipeline tests).
race: deps
	$(GO) test -race -short -count=1 ./ingest ./tcpsession ./httpextract ./decode
	$(GO) test -race $(GOFLAGS_T) -count=1 ./query
	$(GO) test -race $(GOFLAGS_T) -count=1 -run 'TestWorkerCountInvariance|TestHTTPGolden|TestInterruptKeepsCommitted' ./cmd/pcapq

test-short:
	$(GO) test $(GOFLAGS_T) -short ./...

# Short fuzz runs of every fuzzer (longer: FUZZTIME=10m make fuzz).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzPcap$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzPcapng$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./decode
	$(GO) test -run '^$$' -fuzz '^FuzzReassembly$$' -fuzztime $(FUZZTIME) ./tcpsession
	$(GO) test -run '^$$' -fuzz '^FuzzHTTP$$' -fuzztime $(FUZZTIME) ./httpextract
	$(GO) test -run '^$$' -fuzz '^FuzzInflateCount$$' -fuzztime $(FUZZTIME) ./httpextract
	$(GO) test -run '^$$' -fuzz '^FuzzPipeline$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test $(GOFLAGS_T) -run '^$$' -fuzz '^FuzzPipelineDuckDB$$' -fuzztime $(FUZZTIME) ./cmd/pcapq

bench: build
	benchmarks/run.sh

schema-doc:
	$(GO) test ./schema -run TestSchemaDocCurrent -update

clean:
	rm -rf bin
