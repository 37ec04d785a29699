package httpextract

import (
	"testing"

	"github.com/pcapq/pcapq/tcpsession"
)

type handoverer interface {
	Handover() (upgrade string, orig, resp []byte, ok bool)
}

// feed delivers segments one byte at a time or whole and collects what the
// handler hands over after each call (as the analyzers' dispatcher asks).
func handover(t *testing.T, segs []seg, bytewise bool) (up string, orig, resp string, calls int) {
	t.Helper()
	h := NewFactory(DefaultOptions(), &recSink{})(&tcpsession.FlowInfo{FlowID: 1})
	ho := h.(handoverer)
	done := false
	for i, sg := range segs {
		pieces := []string{sg.data}
		if bytewise {
			pieces = nil
			for j := range sg.data {
				pieces = append(pieces, sg.data[j:j+1])
			}
		}
		for _, p := range pieces {
			if done {
				// After the hand-over the dispatcher feeds the next analyzer.
				if sg.dir == orig_ {
					orig += p
				} else {
					resp += p
				}
				continue
			}
			h.Data(sg.dir, []byte(p), int64(i), int64(i))
			if u, o, r, ok := ho.Handover(); ok {
				up, orig, resp, done = u, string(o), string(r), true
				calls++
			}
		}
	}
	if _, _, _, ok := ho.Handover(); ok {
		calls++
	}
	return up, orig, resp, calls
}

const orig_ = tcpsession.DirOrig

// After a 101, the bytes that follow the response head (in the same
// segment or later) and those the client sent early reach the analyzer
// that reads the upgraded protocol, once, whatever the segmenting.
func TestHandover(t *testing.T) {
	for _, bytewise := range []bool{false, true} {
		up, o, r, calls := handover(t, []seg{
			{orig, "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 0},
			{orig, "\x81\x85early", 0}, // sent before the answer: not HTTP
			{resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello", 0},
			{orig, "\x88\x80", 0},
		}, bytewise)
		if up != "websocket" || o != "\x81\x85early\x88\x80" || r != "\x81\x05hello" || calls != 1 {
			t.Errorf("bytewise %v: upgrade %q orig %q resp %q, %d hand-overs", bytewise, up, o, r, calls)
		}
		up, o, r, calls = handover(t, []seg{
			{orig, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 Connection established\r\n\r\n", 0},
			{orig, "\x16\x03\x01\x02\x00\x01", 0},
		}, bytewise)
		if up != "connect" || o != "\x16\x03\x01\x02\x00\x01" || r != "" || calls != 1 {
			t.Errorf("bytewise %v: CONNECT: upgrade %q orig %q resp %q, %d hand-overs", bytewise, up, o, r, calls)
		}
	}
	// A refused upgrade hands nothing over; HTTP goes on.
	_, _, _, calls := handover(t, []seg{
		{orig, "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 0},
		{resp, "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n", 0},
		{orig, "GET / HTTP/1.1\r\n\r\n", 0},
	}, false)
	if calls != 0 {
		t.Errorf("refused upgrade handed over")
	}
}

// An unknown method with an origin-form target and no version opens an
// HTTP/0.9 request, as Zeek reads "CCM_POST /HTTP/1.1" in its
// http-methods test capture; its reply, status line included, is the body.
func TestUnknownMethodHTTP09(t *testing.T) {
	r := checkSplits(t, DefaultOptions(), []seg{
		{orig, "CCM_POST /HTTP/1.1\r\nHost: www.google.com\r\n\r\n", 0},
		{resp, "HTTP/1.0 400 Bad Request\r\n\r\nbad", 0},
	})
	x := one(t, r)
	eq(t, "Method", x.Method, "CCM_POST")
	eq(t, "Version", x.Version, "0.9")
	eq(t, "HasStatus", x.HasStatus, false)
	eq(t, "RespBodyLen", x.RespBodyLen, int64(len("HTTP/1.0 400 Bad Request\r\n\r\nbad")))
}
