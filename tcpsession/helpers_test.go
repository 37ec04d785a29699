package tcpsession

import (
	"os"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/internal/testcorpus"
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

func corpusDir(t testing.TB) string { return testcorpus.Dir(t) }

func forEachPacket(t testing.TB, path string, fn func(frame, ts int64, lt decode.LinkType, data []byte, origLen int)) {
	testcorpus.ForEachPacket(t, path, fn)
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
