package tcpsession

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/pcapq/pcapq/decode"
)

// recSink records everything a Tracker emits.
type recSink struct {
	flows    []*Flow
	events   []*Event
	warnings []string
}

func (s *recSink) Flow(f *Flow)   { s.flows = append(s.flows, f) }
func (s *recSink) Event(e *Event) { s.events = append(s.events, e) }
func (s *recSink) Warning(frame int64, kind, detail string) {
	s.warnings = append(s.warnings, kind+": "+detail)
}

// corpusDir walks up from the package directory to find shared/corpus.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, _ := filepath.Abs(".")
	for {
		c := filepath.Join(dir, "shared", "corpus")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/corpus not found above the package directory; corpus tests skipped")
		}
		dir = parent
	}
}

// forEachPacket reads a pcap or pcapng file and calls fn for every record
// with its 1-based frame number.
func forEachPacket(t testing.TB, path string, fn func(frame, ts int64, lt decode.LinkType, data []byte, origLen int)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		t.Fatal(err)
	}
	frame := int64(0)
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				return
			}
			frame++
			lt := decode.LinkType(r.LinkType())
			if intf, err := r.Interface(ci.InterfaceIndex); err == nil {
				lt = decode.LinkType(intf.LinkType)
			}
			fn(frame, ci.Timestamp.UnixNano(), lt, data, ci.Length)
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	lt := decode.LinkType(r.LinkType())
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			return
		}
		frame++
		fn(frame, ci.Timestamp.UnixNano(), lt, data, ci.Length)
	}
}

// runCapture runs a Tracker (with IP defragmentation in front) over a
// capture file.
func runCapture(t testing.TB, path string, opts Options) (*recSink, *Tracker) {
	t.Helper()
	sink := &recSink{}
	tr := NewTracker(opts, sink)
	var p decode.Packet
	d := NewDefragmenter(DefaultDefragOptions())
	var last int64
	forEachPacket(t, path, func(frame, ts int64, lt decode.LinkType, data []byte, origLen int) {
		decode.Decode(lt, data, origLen, &p)
		last = ts
		if p.IsFragment {
			ipb := ipBytesOf(data, &p)
			dg, done := d.Add(ts, &p, ipb)
			if !done {
				return
			}
			decode.Decode(decode.LinkRaw, dg, len(dg), &p)
		}
		tr.Process(frame, ts, &p)
	})
	tr.Close(last)
	return sink, tr
}

// ipBytesOf finds the IP header inside a decoded frame: the IP packet is
// the last IPHeaderLen+IPPayloadLen bytes before any link-layer trailer.
func ipBytesOf(data []byte, p *decode.Packet) []byte {
	n := p.IPHeaderLen + p.IPPayloadLen
	// Search for the version nibble at a plausible offset.
	for off := 0; off+n <= len(data) && off <= 64; off++ {
		v := data[off] >> 4
		if v != p.IPVersion {
			continue
		}
		if p.IPVersion == 4 && int(data[off]&0x0f)*4 == p.IPHeaderLen && off+20 <= len(data) &&
			string(data[off+12:off+16]) == string(p.SrcIP.AsSlice()) {
			return data[off : off+n]
		}
		if p.IPVersion == 6 && off+40 <= len(data) && string(data[off+8:off+24]) == string(p.SrcIP.AsSlice()) {
			return data[off : off+n]
		}
	}
	return nil
}

// zeekRow is one conn.log row.
type zeekRow map[string]string

func readZeekLog(t testing.TB, path string) []zeekRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	var rows []zeekRow
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#fields\t") {
			fields = strings.Split(line, "\t")[1:]
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		if fields == nil { // .cut files: first line is the header
			fields = strings.Split(line, "\t")
			continue
		}
		vals := strings.Split(line, "\t")
		r := zeekRow{}
		for i, f := range fields {
			if i < len(vals) {
				r[f] = vals[i]
			}
		}
		rows = append(rows, r)
	}
	return rows
}
