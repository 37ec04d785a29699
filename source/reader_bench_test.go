package source

import (
	"bytes"
	"io"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
)

// benchSizes is a packet size mix: small ACKs, mid-size, full frames.
var benchSizes = []int{60, 66, 1514, 590, 1514, 60, 1200, 1514}

const benchPackets = 20000

func benchPcap() []byte {
	recs := make([]pcaptest.Rec, benchPackets)
	for i := range recs {
		recs[i] = pcaptest.Rec{Sec: uint32(i), Frac: uint32(i), Data: pcaptest.Pkt(benchSizes[i%len(benchSizes)], byte(i))}
	}
	return pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, recs...)
}

func benchPcapng() []byte {
	g := &pcaptest.NG{}
	g.SHB(true).IDB(1, 0)
	for i := range benchPackets {
		g.EPB(0, uint64(i), 1514, pcaptest.Pkt(benchSizes[i%len(benchSizes)], byte(i)))
	}
	return g.B
}

// benchRead reads the whole in-memory capture once per iteration; rawLen is
// the uncompressed size, for b.SetBytes.
func benchRead(b *testing.B, file []byte, rawLen int) {
	b.SetBytes(int64(rawLen))
	b.ReportAllocs()
	var r Record
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(file), "bench")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if err := rd.Next(&r); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != benchPackets {
			b.Fatalf("%d records", n)
		}
	}
}

func BenchmarkReadPcap(b *testing.B) {
	f := benchPcap()
	benchRead(b, f, len(f))
}

func BenchmarkReadPcapng(b *testing.B) {
	f := benchPcapng()
	benchRead(b, f, len(f))
}

// The compressed benchmarks report uncompressed bytes per second.
func BenchmarkReadPcapGzip(b *testing.B) {
	f := benchPcap()
	benchRead(b, pcaptest.Gzip(b, f), len(f))
}

func BenchmarkReadPcapZstd(b *testing.B) {
	f := benchPcap()
	benchRead(b, pcaptest.Zstd(b, f), len(f))
}
