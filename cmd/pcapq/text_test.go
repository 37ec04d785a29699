package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// tcpExchange writes a pcap of one TCP connection: handshake, then each
// payload in turn (even index from the client, odd from the server).
func tcpExchange(t *testing.T, payloads ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exchange.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	cli, srv := net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 2)
	seq := [2]uint32{1000, 5000}
	ts := time.Unix(1700000000, 0)
	send := func(from int, syn, ack, psh bool, data []byte) {
		src, dst, sp, dp := cli, srv, layers.TCPPort(40000), layers.TCPPort(80)
		if from == 1 {
			src, dst, sp, dp = srv, cli, 80, 40000
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp := &layers.TCP{SrcPort: sp, DstPort: dp, Seq: seq[from], Ack: seq[1-from], SYN: syn, ACK: ack, PSH: psh, Window: 65535}
		tcp.SetNetworkLayerForChecksum(ip)
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(data)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		ts = ts.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
		seq[from] += uint32(len(data))
		if syn {
			seq[from]++
		}
	}
	send(0, true, false, false, nil)
	send(1, true, true, false, nil)
	send(0, false, true, false, nil)
	for i, p := range payloads {
		send(i%2, false, true, true, p)
	}
	return path
}

// Header values, URIs and reason phrases need not be UTF-8 (Latin-1 file
// names are common); DuckDB only stores valid UTF-8, so such bytes are
// written as \xNN and the capture still ingests.
func TestHTTPTextNotUTF8(t *testing.T) {
	file := tcpExchange(t,
		[]byte("GET /caf\xe9?x=\xff HTTP/1.1\r\nHost: h\xe9\r\nUser-Agent: a\xffb\r\nX-A: \x01ctl\r\nX-Q: a\"b\\c\r\nX-A: two\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK \xe9\r\nContent-Length: 2\r\nContent-Disposition: attachment; filename=\"r\xe9sum\xe9.pdf\"\r\n\r\nhi"),
	)
	db := ingestMem(t, 1, file)
	rows, err := db.Query(context.Background(), `SELECT uri, path, query, host, user_agent, status_msg,
		resp_headers['Content-Disposition'][1], req_headers['X-A'][1], req_headers['X-A'][2], req_headers['X-Q'][1],
		map_keys(req_headers)::VARCHAR FROM http`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := []string{`/caf\xe9?x=\xff`, `/caf\xe9`, `x=\xff`, `h\xe9`, `a\xffb`, `OK \xe9`,
		`attachment; filename="r\xe9sum\xe9.pdf"`, "\x01ctl", "two", `a"b\c`, "[Host, User-Agent, X-A, X-Q]"}
	n := 0
	for rows.Next() {
		n++
		got := make([]string, len(want))
		ptrs := make([]any, len(want))
		for i := range got {
			ptrs[i] = &got[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("column %d: got %q, want %q", i+1, got[i], want[i])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d http rows, want 1", n)
	}
}

// A capture whose file name is not UTF-8 ingests, and ingesting it again
// replaces its rows (the stored path is the escaped name both times).
func TestCapturePathNotUTF8(t *testing.T) {
	src := tcpExchange(t, []byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n"))
	dir := t.TempDir()
	file := filepath.Join(dir, "caf\xe9.pcap")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "t.duckdb")
	for i := 0; i < 2; i++ {
		if code, _, stderr := pcapqRun(t, "ingest", "-q", "-o", dbPath, file); code != 0 {
			t.Fatalf("ingest %d: exit %d: %s", i+1, code, stderr)
		}
	}
	code, out, stderr := pcapqRun(t, "query", "-d", dbPath, "-f", "csv", "SELECT count(*), min(path) FROM captures")
	if code != 0 {
		t.Fatalf("query: exit %d: %s", code, stderr)
	}
	// Stored as caf\xe9.pcap; reports escape the backslash.
	want := strings.ReplaceAll(filepath.Join(dir, `caf\xe9.pcap`), `\`, `\\`)
	if got := strings.TrimSpace(out); !strings.HasSuffix(got, "1,"+want) {
		t.Errorf("captures: got %q, want one row with path %q", got, want)
	}
}
