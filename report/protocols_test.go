package report

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

const protoCapture = "../testdata/mkcapture-proto.pcap"

// sectionTable returns the table titled title of the section id, or fails.
func sectionTable(t *testing.T, r *Report, id, title string) *Table {
	t.Helper()
	for _, s := range r.Sections {
		if s.ID != id {
			continue
		}
		for _, tb := range s.Tables {
			if tb.Title == title {
				return tb
			}
		}
		t.Fatalf("section %s has no table %q", id, title)
	}
	t.Fatalf("report has no section %s", id)
	return nil
}

// counts returns key(row) -> int column col of a report table, failing on
// a key twice.
func counts(t *testing.T, tb *Table, col string, key func(row map[string]any) string) map[string]int64 {
	t.Helper()
	ci := -1
	for i, c := range tb.Columns {
		if c.Name == col {
			ci = i
		}
	}
	if ci < 0 {
		t.Fatalf("table %q has no column %s", tb.Title, col)
	}
	out := map[string]int64{}
	for _, row := range tb.Rows {
		m := map[string]any{}
		for i, c := range tb.Columns {
			m[c.Name] = row[i]
		}
		k := key(m)
		if _, dup := out[k]; dup {
			t.Fatalf("table %q: key %s twice", tb.Title, k)
		}
		out[k] += i64(row[ci])
	}
	return out
}

func tsharkLines(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "tshark"), append([]string{"-n", "-r", protoCapture}, args...)...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func equalCounts(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the expectation is empty", what)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n report %v\n want   %v", what, got, want)
	}
}

// The dns, tls and websocket tables get report sections from the queries
// they declare (no report code of their own), and their numbers agree
// with tshark's reading of the same capture and with what mkcapture's
// clients did (its events file).
func TestProtocolSections(t *testing.T) {
	db := openDB(t, "", protoCapture)
	r, err := Build(context.Background(), db, Options{Top: 1000})
	if err != nil {
		t.Fatal(err)
	}

	// DNS queries by name and type; answers by response code.
	qtypes := map[string]string{"1": "A", "28": "AAAA", "5": "CNAME", "12": "PTR", "15": "MX", "16": "TXT", "33": "SRV", "255": "*"}
	want := map[string]int64{}
	for _, l := range tsharkLines(t, "-Y", "dns.flags.response == 0", "-T", "fields", "-e", "dns.qry.name", "-e", "dns.qry.type") {
		f := strings.Split(l, "\t")
		want[strings.ToLower(f[0])+" "+qtypes[f[1]]]++
	}
	got := counts(t, sectionTable(t, r, "table_dns", "Names asked"), "queries", func(m map[string]any) string {
		return fmt.Sprint(m["query"], " ", m["qtype_name"])
	})
	equalCounts(t, "dns queries by name and type", got, want)
	rcodes := map[string]string{"0": "NOERROR", "1": "FORMERR", "2": "SERVFAIL", "3": "NXDOMAIN", "5": "REFUSED"}
	want = map[string]int64{}
	for _, l := range tsharkLines(t, "-Y", "dns.flags.response == 1", "-T", "fields", "-e", "dns.flags.rcode") {
		want[rcodes[l]]++
	}
	got = counts(t, sectionTable(t, r, "table_dns", "Response codes"), "queries", func(m map[string]any) string { return fmt.Sprint(m["rcode"]) })
	equalCounts(t, "dns answers by rcode", got, want)

	// TLS connections by SNI (the first ClientHello of each TCP stream).
	want = map[string]int64{}
	seen := map[string]bool{}
	for _, l := range tsharkLines(t, "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tcp.stream", "-e", "tls.handshake.extensions_server_name") {
		f := strings.Split(l+"\t", "\t")
		if seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		if f[1] == "" {
			f[1] = "(no SNI)"
		}
		want[f[1]]++
	}
	got = map[string]int64{}
	for k, n := range counts(t, sectionTable(t, r, "table_tls", "Server names"), "connections", func(m map[string]any) string {
		return fmt.Sprint(m["server_name"], "|", m["version"])
	}) {
		got[strings.Split(k, "|")[0]] += n
	}
	equalCounts(t, "tls connections by server name", got, want)

	// TLS connections by negotiated version and cipher (ServerHellos).
	cipherRe := regexp.MustCompile(`^\s+Cipher Suite: (TLS_\w+) \(0x`)
	versionRe := regexp.MustCompile(`^\s+(?:Supported Version|Version): TLS 1\.([0-3]) \(0x`)
	want = map[string]int64{}
	var cipher, version string
	flush := func() {
		if cipher != "" {
			want[version+" "+cipher]++
		}
		cipher, version = "", ""
	}
	out, err := exec.Command(testenv.Tool(t, "tshark"), "-n", "-r", protoCapture, "-Y", "tls.handshake.type == 2", "-O", "tls").Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Frame "):
			flush()
		case strings.Contains(l, "Handshake Protocol: Server Hello"):
			flush()
		case cipherRe.MatchString(l):
			cipher = cipherRe.FindStringSubmatch(l)[1]
		case versionRe.MatchString(l):
			// The record's and the hello's version (TLS 1.2 for TLS 1.3
			// too) come first, then the supported_versions extension
			// when there; records after the hello repeat 1.2.
			if version == "" || strings.Contains(l, "Supported Version") {
				version = "TLSv1" + versionRe.FindStringSubmatch(l)[1]
			}
		}
	}
	flush()
	got = counts(t, sectionTable(t, r, "table_tls", "Versions and ciphers"), "connections", func(m map[string]any) string {
		return fmt.Sprint(m["version"], " ", m["cipher"])
	})
	equalCounts(t, "tls connections by version and cipher", got, want)

	// WebSocket messages by direction and opcode: count, bytes, largest,
	// as mkcapture's clients sent and received them.
	names := map[string]string{"1": "text", "2": "binary", "8": "close", "9": "ping", "10": "pong"}
	events, err := os.ReadFile(strings.TrimSuffix(protoCapture, ".pcap") + ".events")
	if err != nil {
		t.Fatal(err)
	}
	wantMsgs, wantBytes, wantMax := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, l := range strings.Split(string(events), "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "ws" {
			continue
		}
		n, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		k := f[1] + " " + names[f[2]]
		wantMsgs[k]++
		wantBytes[k] += n
		wantMax[k] = max(wantMax[k], n)
	}
	msgs := sectionTable(t, r, "table_websocket", "Messages")
	key := func(m map[string]any) string { return fmt.Sprint(m["direction"], " ", m["opcode_name"]) }
	equalCounts(t, "websocket messages", counts(t, msgs, "messages", key), wantMsgs)
	equalCounts(t, "websocket payload bytes", counts(t, msgs, "payload_bytes", key), wantBytes)
	equalCounts(t, "websocket largest payload", counts(t, msgs, "largest", key), wantMax)
}
