package analyzers

import (
	"strings"
	"testing"

	"github.com/pcapq/pcapq/tcpsession"
)

// fake is a stream that records what it gets.
type fake struct {
	name    string
	log     *[]string
	service string
	hand    *fakeHand
}

type fakeHand struct {
	up         string
	orig, resp []byte
	after      int // hand over after this many Data calls
	calls      int
	done       bool
}

func (f *fake) Data(dir tcpsession.Dir, data []byte, ts, frame int64) {
	*f.log = append(*f.log, f.name+" "+dir.String()+" "+string(data))
	f.service = f.name
	if f.hand != nil {
		f.hand.calls++
	}
}
func (f *fake) Gap(dir tcpsession.Dir, n int64, ts, frame int64) {
	*f.log = append(*f.log, f.name+" gap "+dir.String())
}
func (f *fake) Close(ts int64)          { *f.log = append(*f.log, f.name+" close") }
func (f *fake) Service() string         { return f.service }
func (f *fakeHandover) Service() string { return f.fake.Service() }

type fakeHandover struct{ *fake }

func (f *fakeHandover) Handover() (string, []byte, []byte, bool) {
	h := f.hand
	if h.done || h.calls < h.after {
		return "", nil, nil, false
	}
	h.done = true
	return h.up, h.orig, h.resp, true
}

func fakeSet(log *[]string, hand *fakeHand) *Set {
	prefix := func(p string) func(*FlowInfo, tcpsession.Dir, []byte) Verdict {
		return func(_ *FlowInfo, _ tcpsession.Dir, b []byte) Verdict {
			switch {
			case strings.HasPrefix(string(b), p):
				return Yes
			case strings.HasPrefix(p, string(b)):
				return NeedMore
			}
			return No
		}
	}
	mk := func(name string) func(*FlowInfo, *Env) Stream {
		return func(*FlowInfo, *Env) Stream { return &fake{name: name, log: log} }
	}
	return NewSet([]*Analyzer{
		{Name: "tlsish", Detect: prefix("\x16\x03"), NewStream: mk("tlsish")},
		{Name: "httpish", Detect: func(*FlowInfo, tcpsession.Dir, []byte) Verdict { return Yes },
			NewStream: func(*FlowInfo, *Env) Stream { return &fakeHandover{&fake{name: "httpish", log: log, hand: hand}} }},
		{Name: "ws", Upgrades: []string{"websocket"}, NewStream: mk("ws")},
	})
}

func TestDispatchHoldsUntilDecided(t *testing.T) {
	var log []string
	s := fakeSet(&log, &fakeHand{after: 1 << 30})
	d := s.NewStream(&Env{})(&tcpsession.FlowInfo{FlowID: 1})
	d.Data(tcpsession.DirOrig, []byte("\x16"), 1, 1) // could be TLS: held
	if len(log) != 0 {
		t.Fatalf("fed before a decision: %q", log)
	}
	d.Data(tcpsession.DirResp, []byte("x"), 2, 2)
	d.Data(tcpsession.DirOrig, []byte("\x03rest"), 3, 3)
	d.Data(tcpsession.DirOrig, []byte("more"), 4, 4)
	d.Close(5)
	want := []string{"tlsish orig \x16", "tlsish resp x", "tlsish orig \x03rest", "tlsish orig more", "tlsish close"}
	if strings.Join(log, "|") != strings.Join(want, "|") {
		t.Errorf("log %q, want %q (held chunks replayed in order)", log, want)
	}
	if d.Service() != "tlsish" {
		t.Errorf("service %q", d.Service())
	}
	// Not TLS after all: the fallback gets everything, in order; a gap decides at once.
	log = nil
	d = s.NewStream(&Env{})(&tcpsession.FlowInfo{FlowID: 2})
	d.Data(tcpsession.DirOrig, []byte("\x16"), 1, 1)
	d.Gap(tcpsession.DirResp, 10, 2, 2)
	d.Data(tcpsession.DirOrig, []byte("z"), 3, 3)
	d.Close(4)
	want = []string{"httpish orig \x16", "httpish gap resp", "httpish orig z", "httpish close"}
	if strings.Join(log, "|") != strings.Join(want, "|") {
		t.Errorf("log %q, want %q", log, want)
	}
	// Held bytes at the end still reach an analyzer, and Service (asked before Close) knows it.
	log = nil
	d = s.NewStream(&Env{})(&tcpsession.FlowInfo{FlowID: 3})
	d.Data(tcpsession.DirOrig, []byte("\x16"), 1, 1)
	if sv := d.Service(); sv != "httpish" {
		t.Errorf("service %q", sv)
	}
	d.Close(2)
	if strings.Join(log, "|") != "httpish orig \x16|httpish close" {
		t.Errorf("log %q", log)
	}
}

func TestDispatchHandover(t *testing.T) {
	var log []string
	hand := &fakeHand{up: "websocket", orig: []byte("O"), resp: []byte("R"), after: 2}
	s := fakeSet(&log, hand)
	d := s.NewStream(&Env{})(&tcpsession.FlowInfo{FlowID: 1})
	d.Data(tcpsession.DirOrig, []byte("GET"), 1, 1)
	d.Data(tcpsession.DirResp, []byte("101"), 2, 2)
	d.Data(tcpsession.DirOrig, []byte("frame"), 3, 3)
	if sv := d.Service(); sv != "httpish,ws" {
		t.Errorf("service %q", sv)
	}
	d.Close(4)
	want := []string{"httpish orig GET", "httpish resp 101", "ws orig O", "ws resp R", "ws orig frame", "httpish close", "ws close"}
	if strings.Join(log, "|") != strings.Join(want, "|") {
		t.Errorf("log %q, want %q", log, want)
	}
	// A CONNECT tunnel is detected again.
	log = nil
	hand = &fakeHand{up: "connect", resp: []byte("\x16\x03hello"), after: 2}
	s = fakeSet(&log, hand)
	d = s.NewStream(&Env{})(&tcpsession.FlowInfo{FlowID: 1})
	d.Data(tcpsession.DirOrig, []byte("CONNECT"), 1, 1)
	d.Data(tcpsession.DirResp, []byte("200"), 2, 2)
	d.Close(3)
	want = []string{"httpish orig CONNECT", "httpish resp 200", "tlsish resp \x16\x03hello", "httpish close", "tlsish close"}
	if strings.Join(log, "|") != strings.Join(want, "|") || d.Service() != "httpish,tlsish" {
		t.Errorf("log %q service %q, want %q", log, d.Service(), want)
	}
}
