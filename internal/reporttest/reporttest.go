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
	r, closer, err := ingest.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
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
		names[i] = ingest.LinkTypeName(lt)
	}
	st, _ := os.Stat(file)
	if err := db.FinishCapture(ctx, query.CaptureRow{ID: id, Path: abs, FileSize: st.Size(), Format: sum.Format, LinkTypes: names,
		Packets: sum.Packets, Bytes: sum.Bytes, FirstTs: sum.FirstTs, LastTs: sum.LastTs, Version: "test",
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
	HostileHost   = `evil.test"><img src=x onerror=alert("host")>`
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

// SmallMix is the recorded mixed-traffic capture of the repository, from
// a package directory.
const SmallMix = "../../testdata/mkcapture-small-mix.pcap"
