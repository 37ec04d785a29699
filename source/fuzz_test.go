package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testcorpus"
)

// fuzzBufSize is the read buffer in the fuzz tests: small, so records span
// buffer refills, and cheap to allocate per input.
const fuzzBufSize = 64

// Fuzz invariant for every reader: never panic; Next returns records with
// len(Data) == CapLen <= MaxRecordLen at increasing offsets inside the
// stream, or an error that is io.EOF or a *FormatError wrapping one of the
// sentinels; and it terminates.

// checkReader reads rd to its end and checks the invariant. streamLen is the
// uncompressed length, or -1 when unknown.
func checkReader(t *testing.T, rd Reader, streamLen int64) {
	var r Record
	last := int64(-1)
	// Every record consumes at least 12 bytes, so this bound proves
	// termination on an uncompressed stream.
	limit := 1 << 20
	if streamLen >= 0 {
		limit = int(streamLen/12) + 2
	}
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("more than %d calls to Next", limit)
		}
		err := rd.Next(&r)
		if err != nil {
			checkErr(t, err)
			if err2 := rd.Next(&r); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
			return
		}
		if len(r.Data) != r.CapLen || r.CapLen < 0 || r.CapLen > MaxRecordLen {
			t.Fatalf("record %d: len(Data) %d, CapLen %d", i, len(r.Data), r.CapLen)
		}
		if r.Offset <= last || (streamLen >= 0 && r.Offset+int64(r.CapLen) > streamLen) {
			t.Fatalf("record %d: offset %d after %d, caplen %d, stream %d", i, r.Offset, last, r.CapLen, streamLen)
		}
		last = r.Offset
	}
}

func checkErr(t *testing.T, err error) {
	if err == io.EOF {
		return
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	for _, s := range []error{ErrNotCapture, ErrTruncated, ErrRecordTooLong, ErrBadBlock, ErrRatio, ErrCorrupt} {
		if fe.Err == s {
			return
		}
	}
	t.Fatalf("FormatError wraps %v, not a sentinel", fe.Err)
}

// pcapMagics are the magic numbers FuzzPcap puts in front of its input, in
// file byte order.
var pcapMagics = [][]byte{
	{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4},
	{0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
	{0x34, 0xcd, 0xb2, 0xa1}, {0xa1, 0xb2, 0xcd, 0x34},
}

func FuzzPcap(f *testing.F) {
	add := func(b []byte) {
		for i, m := range pcapMagics {
			if len(b) >= 4 && bytes.Equal(b[:4], m) {
				f.Add(uint8(i), b[4:])
				return
			}
		}
	}
	// Hand-made: every variant, a 2.1 file, reserved link type bits,
	// caplen > snaplen, a record too long, a cut record.
	rec := pcaptest.Rec{Sec: 1, Frac: 2, Data: pcaptest.Pkt(40, 1)}
	add(pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, rec, rec))
	add(pcaptest.Pcap(false, pcapNanoBE, 2, 4, 65535, 113, rec))
	add(pcaptest.Pcap(true, pcapKuzBE, 2, 4, 65535, 1, rec))
	add(pcaptest.Pcap(false, pcapMicroBE, 2, 1, 1600, 1, rec))
	add(pcaptest.Pcap(true, pcapMicroBE, 2, 3, 1600, 1, rec))
	add(pcaptest.Pcap(true, pcapMicroBE, 2, 4, 64, 0x30000001, rec))
	add(pcaptest.Pcap(true, pcapMicroBE, 2, 4, 1, 1, rec))
	add(pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, rec, pcaptest.Rec{CapLen: 1 << 30}))
	add(pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, rec, pcaptest.Rec{CapLen: 100, Data: pcaptest.Pkt(10, 0)}))
	for _, b := range testcorpus.Seeds(".pcap", 4096) {
		add(b)
	}
	f.Fuzz(func(t *testing.T, magic uint8, rest []byte) {
		b := append(bytes.Clone(pcapMagics[int(magic)%len(pcapMagics)]), rest...)
		rd, err := Options{BufferSize: fuzzBufSize}.NewReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			checkErr(t, err)
			return
		}
		checkReader(t, rd, int64(len(b)))
	})
}

func FuzzPcapng(f *testing.F) {
	add := func(b []byte) {
		if len(b) >= 4 && binary.BigEndian.Uint32(b) == pcapngSHB {
			f.Add(b[4:])
		}
	}
	// Hand-made: two sections in both byte orders, every packet block, a
	// skipped block, timestamp options, a cut block.
	g := &pcaptest.NG{}
	g.SHB(true).IDB(1, 0, g.Opt(optTsResol, []byte{0x80 | 20}), g.Opt(optTsOffset, make([]byte, 8)))
	g.EPB(0, 1, 100, pcaptest.Pkt(40, 1)).Block(4, pcaptest.Pkt(8, 0)).PB(0, 2, 3, pcaptest.Pkt(3, 0)).SPB(100, pcaptest.Pkt(40, 2))
	g.SHB(false).IDB(101, 32).EPB(0, 5, 40, pcaptest.Pkt(40, 3)).SPB(20, pcaptest.Pkt(20, 0))
	add(g.B)
	add(g.B[:len(g.B)-10])
	for _, b := range testcorpus.Seeds(".pcapng", 4096) {
		add(b)
	}
	f.Fuzz(func(t *testing.T, rest []byte) {
		b := append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, rest...)
		rd, err := Options{BufferSize: fuzzBufSize}.NewReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			checkErr(t, err)
			return
		}
		checkReader(t, rd, int64(len(b)))
	})
}

// FuzzOpen feeds arbitrary bytes, compressed or not, through format
// detection. Decompressor errors may surface as plain errors naming the
// file; anything else must satisfy the invariant.
func FuzzOpen(f *testing.F) {
	for _, b := range testCaptures() {
		f.Add(b[:300])
		f.Add(pcaptest.Gzip(f, b[:300]))
		f.Add(pcaptest.Zstd(f, b[:300]))
	}
	f.Add([]byte("<html><body>"))
	f.Add([]byte{})
	f.Add(pcaptest.Gzip(f, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := Options{BufferSize: fuzzBufSize}.NewReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			checkOpenErr(t, err)
			return
		}
		var r Record
		for i := 0; ; i++ {
			if i > 1<<20 {
				t.Fatal("does not terminate")
			}
			err := rd.Next(&r)
			if err != nil {
				checkOpenErr(t, err)
				return
			}
			if len(r.Data) != r.CapLen || r.CapLen > MaxRecordLen {
				t.Fatalf("len(Data) %d, CapLen %d", len(r.Data), r.CapLen)
			}
		}
	})
}

func checkOpenErr(t *testing.T, err error) {
	var fe *FormatError
	if err == io.EOF || errors.As(err, &fe) {
		checkErr(t, err)
		return
	}
	if !strings.HasPrefix(err.Error(), "fuzz: ") {
		t.Fatalf("error %v does not name the file", err)
	}
}
