// Package reporttest holds what the tests of report, serve and cmd/pcapq
// share: databases built from captures as pcapq ingest builds them, and a
// capture whose HTTP text is hostile.
package reporttest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/source"
)

// OpenDB ingests files into a new database at path ("" in memory), one
// capture each, as pcapq ingest does.
func OpenDB(t testing.TB, path string, files ...string) *query.DB {
	t.Helper()
	ctx := context.Background()
	db, err := query.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		IngestFile(t, db, f, ingest.DefaultOptions())
	}
	return db
}

// IngestFile reads one capture into db in one transaction.
func IngestFile(t testing.TB, db *query.DB, file string, opts ingest.Options) {
	t.Helper()
	ctx := context.Background()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := source.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	id, err := db.BeginCapture(ctx, abs)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ingest.Run(ctx, r, id, db, opts)
	if err != nil {
		db.Rollback()
		t.Fatal(err)
	}
	names := make([]string, len(sum.LinkTypes))
	for i, lt := range sum.LinkTypes {
		names[i] = source.LinkTypeName(lt)
	}
	st, _ := os.Stat(file)
	if err := db.FinishCapture(ctx, query.CaptureRow{ID: id, Path: abs, FileSize: st.Size(), Format: sum.Format, LinkTypes: names,
		Packets: sum.Packets, Bytes: sum.Bytes, FirstTs: sum.FirstTs, LastTs: sum.LastTs, Timed: sum.Timed, Version: "test",
		Warnings: sum.Warnings, Complete: sum.Complete}); err != nil {
		t.Fatal(err)
	}
}

// Hostile text carried by the hostile capture: each would run script,
// add elements, end the style or script element, or forge Markdown if it
// were written unescaped.
const (
	HostileURI    = `/api/items/123/</script><script>alert("uri")</script>?q=<img/src=x/onerror=alert("q")>`
	HostileURI2   = `/[click](javascript:alert("md"))/|x|/**b**`
	HostileHost   = `evil.test"></script><img src=x onerror=alert("host")>`
	HostileUA     = `</style><script>alert("ua")</script><b onmouseover=alert("ua2")>`
	HostileReason = `OK </style></script><svg onload=alert("reason")>`
	HostileDir    = `cap<img src=x onerror=alert("path")>`
)

// HostileCapture writes a capture of one HTTP connection whose requests
// and responses carry the hostile strings, in a directory whose name is
// hostile too.
func HostileCapture(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), HostileDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return TCPExchange(t, filepath.Join(dir, "x.pcap"),
		[]byte("GET "+HostileURI+" HTTP/1.1\r\nHost: "+HostileHost+"\r\nUser-Agent: "+HostileUA+"\r\n\r\n"),
		[]byte("HTTP/1.1 200 "+HostileReason+"\r\nContent-Length: 2\r\n\r\nhi"),
		[]byte("POST "+HostileURI2+" HTTP/1.1\r\nHost: "+HostileHost+"\r\nUser-Agent: "+HostileUA+"\r\nContent-Length: 0\r\n\r\n"),
		[]byte("HTTP/1.1 503 "+HostileReason+"\r\nContent-Length: 0\r\n\r\n"),
	)
}

// TCPExchange writes a pcap of one TCP connection to path: handshake,
// then each payload in turn (even index from the client, odd from the
// server), 1 ms apart.
func TCPExchange(t testing.TB, path string, payloads ...[]byte) string {
	t.Helper()
	steps := make([]Step, len(payloads))
	for i, p := range payloads {
		steps[i] = Step{FromServer: i%2 == 1, Data: p}
	}
	return Exchange(t, path, 40000, steps...)
}

// Step is one segment of an Exchange after the handshake: from the client
// or the server, with its payload, Delay after the previous segment (1 ms
// when zero), the receive window it advertises (65535 when zero, unless
// ZeroWindow), and RST instead of ACK+PSH when Reset.
type Step struct {
	FromServer bool
	Data       []byte
	Delay      time.Duration
	ZeroWindow bool
	Reset      bool
}

// Exchange writes a pcap of one TCP connection, 10.0.0.1:clientPort to
// 10.0.0.2:80, to path: the handshake, then the steps.
func Exchange(t testing.TB, path string, clientPort uint16, steps ...Step) string {
	t.Helper()
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
	send := func(from int, syn, ack, psh, rst bool, win uint16, delay time.Duration, data []byte) {
		src, dst, sp, dp := cli, srv, layers.TCPPort(clientPort), layers.TCPPort(80)
		if from == 1 {
			src, dst, sp, dp = srv, cli, 80, layers.TCPPort(clientPort)
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp := &layers.TCP{SrcPort: sp, DstPort: dp, Seq: seq[from], Ack: seq[1-from], SYN: syn, ACK: ack, PSH: psh, RST: rst, Window: win}
		tcp.SetNetworkLayerForChecksum(ip)
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(data)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if delay <= 0 {
			delay = time.Millisecond
		}
		ts = ts.Add(delay)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
		seq[from] += uint32(len(data))
		if syn {
			seq[from]++
		}
	}
	send(0, true, false, false, false, 65535, 0, nil)
	send(1, true, true, false, false, 65535, 0, nil)
	send(0, false, true, false, false, 65535, 0, nil)
	for _, st := range steps {
		from := 0
		if st.FromServer {
			from = 1
		}
		win := uint16(65535)
		if st.ZeroWindow {
			win = 0
		}
		send(from, false, !st.Reset, len(st.Data) > 0, st.Reset, win, st.Delay, st.Data)
	}
	return path
}

// SlowResetCapture writes a capture of a transaction whose response body
// ends 800 ms after its headers (a long duration, a short ttfb), a client
// that advertises a zero window, and a connection the server resets.
func SlowResetCapture(t testing.TB) string {
	t.Helper()
	return Exchange(t, filepath.Join(t.TempDir(), "slow-reset.pcap"), 41000,
		Step{Data: []byte("GET /slow/42 HTTP/1.1\r\nHost: slow.test\r\n\r\n")},
		Step{FromServer: true, Data: []byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"), Delay: 2 * time.Millisecond},
		Step{ZeroWindow: true},
		Step{Delay: 50 * time.Millisecond},
		Step{FromServer: true, Data: []byte("56789"), Delay: 800 * time.Millisecond},
		Step{},
		Step{FromServer: true, Reset: true, Delay: 5 * time.Millisecond},
	)
}

// ZeroWindowCapture writes a capture of a connection whose client
// advertises a zero window twice, without retransmission or reset.
func ZeroWindowCapture(t testing.TB) string {
	t.Helper()
	return Exchange(t, filepath.Join(t.TempDir(), "zero-window.pcap"), 42000,
		Step{Data: []byte("GET /zw HTTP/1.1\r\nHost: zw.test\r\n\r\n")},
		Step{FromServer: true, Data: []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")},
		Step{ZeroWindow: true},
		Step{ZeroWindow: true, Delay: 100 * time.Millisecond},
		Step{Delay: 100 * time.Millisecond},
	)
}

// SmallMix is the recorded mixed-traffic capture of the repository, from
// a package directory.
const SmallMix = "../../testdata/mkcapture-small-mix.pcap"
