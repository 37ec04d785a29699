package ingest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

// rowsSink keeps the rows of one table as text, one string a row.
type rowsSink struct {
	table string
	mu    sync.Mutex
	rows  []string
}

func (s *rowsSink) Write(t *schema.Table, recs []arrow.RecordBatch) error {
	if t.Name != s.table {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			var b strings.Builder
			for j, c := range r.Columns() {
				b.WriteString(r.ColumnName(j) + "=" + c.ValueStr(i) + " ")
			}
			s.rows = append(s.rows, b.String())
		}
	}
	return nil
}

// TestIdleFlowsSameForAnyWorkerCount: eight UDP flows send one packet at
// time 0, another flow one every 10 s until 120 s. One flow shard ends
// the eight at the 60 s UDP idle timeout (evicted); with several shards
// the eight may sit in shards that see no later packet of their own, and
// must end the same way: the flows table is identical for 1 to 4 workers.
func TestIdleFlowsSameForAnyWorkerCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idle.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(ts time.Time, src string, sport uint16) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.ParseIP(src), DstIP: net.ParseIP("10.9.9.9")}
		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: 9999}
		if err := u.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, u, gopacket.Payload("x")); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 8; i++ {
		write(base, "10.0.0.1", uint16(1000+i))
	}
	for s := 1; s <= 12; s++ {
		write(base.Add(time.Duration(s)*10*time.Second), "10.0.0.2", 2000)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	flows := func(workers int) []string {
		r, err := source.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		sink := &rowsSink{table: "flows"}
		opts := DefaultOptions()
		opts.Workers = workers
		if _, err := Run(context.Background(), r, 1, sink, opts); err != nil {
			t.Fatal(err)
		}
		sort.Strings(sink.rows)
		return sink.rows
	}
	one := flows(1)
	evicted := 0
	for _, r := range one {
		if strings.Contains(r, " evicted=true ") {
			evicted++
		}
	}
	if len(one) != 9 || evicted != 8 {
		t.Fatalf("1 worker: %d flows, %d evicted; want 9 and the 8 idle ones", len(one), evicted)
	}
	for n := 2; n <= 4; n++ {
		got := flows(n)
		if strings.Join(got, "\n") != strings.Join(one, "\n") {
			t.Errorf("%d workers: flows differ from 1 worker:\n%s\nwant\n%s", n, strings.Join(got, "\n"), strings.Join(one, "\n"))
		}
	}
}
