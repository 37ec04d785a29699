package tcpsession

import (
	"net/netip"
	"testing"
	"unsafe"

	"github.com/pcapq/pcapq/decode"
)

func TestCommunityIDVectors(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name       string
		src, dst   netip.Addr
		proto      uint8
		sport, dpt uint16
		ports      bool
		want       string
	}{
		// Vectors from the Community ID spec and Zeek's community_id tests.
		{"tcp", a("128.232.110.120"), a("66.35.250.204"), 6, 34855, 80, true, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp reversed", a("66.35.250.204"), a("128.232.110.120"), 6, 80, 34855, true, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"tcp 2", a("1.2.3.4"), a("5.6.7.8"), 6, 1122, 3344, true, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
		{"udp", a("1.2.3.4"), a("5.6.7.8"), 17, 1122, 3344, true, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
		{"udp reversed", a("5.6.7.8"), a("1.2.3.4"), 17, 3344, 1122, true, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
		{"icmp echo", a("1.2.3.4"), a("5.6.7.8"), 1, 8, 0, true, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
		{"icmp echo reply", a("5.6.7.8"), a("1.2.3.4"), 1, 0, 0, true, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
		{"icmp6 echo", a("fe80:1:203:405:607:809:a0b:c0d"), a("fe80:1011:1213:1415:1617:1819:1a1b:1c1d"), 58, 128, 0, true, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
		{"icmp6 echo reply", a("fe80:1011:1213:1415:1617:1819:1a1b:1c1d"), a("fe80:1:203:405:607:809:a0b:c0d"), 58, 129, 0, true, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
		{"rsvp (no ports)", a("1.2.3.4"), a("5.6.7.8"), 46, 0, 0, false, "1:ikv3kmf89luf73WPz1jOs49S768="},
	}
	for _, tt := range tests {
		if got := CommunityID(0, tt.src, tt.dst, tt.proto, tt.sport, tt.dpt, tt.ports); got != tt.want {
			t.Errorf("%s: got %s want %s", tt.name, got, tt.want)
		}
	}
}

// pkt builds a decoded TCP packet by hand.
func pkt(src, dst string, sp, dp uint16, flags uint16, seq, ack uint32, payload string) *decode.Packet {
	p := &decode.Packet{
		IPVersion: 4, SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst),
		IPProto: 6, IPHeaderLen: 20, HasPorts: true, HasTCP: true, SrcPort: sp, DstPort: dp,
		TCPFlags: flags, Seq: seq, Ack: ack, Win: 1000, TCPHeaderLen: 20, WScale: -1,
		PayloadLen: len(payload), Payload: []byte(payload),
	}
	p.IPPayloadLen = 20 + len(payload)
	p.IPTotalLen = 20 + p.IPPayloadLen
	return p
}

const (
	fS  = decode.FlagSYN
	fA  = decode.FlagACK
	fF  = decode.FlagFIN
	fR  = decode.FlagRST
	fPA = decode.FlagPSH | decode.FlagACK
)

// recStream records a StreamHandler's calls.
type recStream struct {
	data   [3][]byte
	gaps   [3]int64
	closed bool
}

func (s *recStream) Data(d Dir, b []byte, ts, frame int64) { s.data[d] = append(s.data[d], b...) }
func (s *recStream) Gap(d Dir, n int64, ts, frame int64)   { s.gaps[d] += n }
func (s *recStream) Close(ts int64)                        { s.closed = true }
func (s *recStream) Service() string                       { return "test" }

type step struct {
	c2s      bool
	flags    uint16
	seq, ack uint32
	data     string
	dtMs     int64
}

func runSteps(t *testing.T, opts Options, steps []step) (*recSink, *recStream) {
	t.Helper()
	sink := &recSink{}
	st := &recStream{}
	opts.NewStream = func(*FlowInfo) StreamHandler { return st }
	tr := NewTracker(opts, sink)
	ts := int64(1e18)
	for i, s := range steps {
		ts += s.dtMs * 1e6
		var p *decode.Packet
		if s.c2s {
			p = pkt("10.0.0.1", "10.0.0.2", 40000, 80, s.flags, s.seq, s.ack, s.data)
		} else {
			p = pkt("10.0.0.2", "10.0.0.1", 80, 40000, s.flags, s.seq, s.ack, s.data)
		}
		tr.Process(int64(i+1), ts, p)
	}
	tr.Close(ts)
	return sink, st
}

func TestTCPHandshakeAndClose(t *testing.T) {
	sink, st := runSteps(t, DefaultOptions(), []step{
		{true, fS, 100, 0, "", 0},
		{false, fS | fA, 500, 101, "", 1},
		{true, fA, 101, 501, "", 1},
		{true, fPA, 101, 501, "GET / HTTP/1.1\r\n\r\n", 1},
		{false, fPA, 501, 119, "HTTP/1.1 200 OK\r\n\r\n", 1},
		{true, fF | fA, 119, 520, "", 1},
		{false, fF | fA, 520, 120, "", 1},
		{true, fA, 120, 521, "", 1},
	})
	if len(sink.flows) != 1 {
		t.Fatalf("flows = %d", len(sink.flows))
	}
	f := sink.flows[0]
	if f.ConnState != "SF" || f.History != "ShADdFf" || f.OrigBytes != 18 || f.RespBytes != 19 || f.FlowID != 1 {
		t.Errorf("flow = %+v", f)
	}
	if f.HandshakeRTTNs != 2e6 {
		t.Errorf("handshake rtt = %d", f.HandshakeRTTNs)
	}
	if string(st.data[DirOrig]) != "GET / HTTP/1.1\r\n\r\n" || string(st.data[DirResp]) != "HTTP/1.1 200 OK\r\n\r\n" || !st.closed {
		t.Errorf("stream = %q / %q closed=%v", st.data[1], st.data[2], st.closed)
	}
	if f.Service != "test" {
		t.Errorf("service = %q", f.Service)
	}
}

func TestReassemblyOutOfOrderOverlapGap(t *testing.T) {
	isn := uint32(0xfffffff0)
	sink, st := runSteps(t, DefaultOptions(), []step{
		{true, fS, isn, 0, "", 0}, // sequence wraps during the stream
		{false, fS | fA, 500, isn + 1, "", 1},
		{true, fA, isn + 1, 501, "", 1},
		{true, fPA, isn + 1 + 10, 501, "KLMNOPQRST", 1}, // out of order
		{true, fPA, isn + 1, 501, "ABCDEFGHIJ", 1},      // fills the hole
		{true, fPA, isn + 1 + 5, 501, "FGHIJKLMNO", 10}, // overlap, same bytes
		{true, fPA, isn + 1 + 30, 501, "0123456789", 10},
		{false, fA, 501, isn + 1 + 40, "", 1}, // acks past the hole 20..30
		{true, fPA, isn + 1 + 40, 501, "xyz", 1},
	})
	if got := string(st.data[DirOrig]); got != "ABCDEFGHIJKLMNOPQRST0123456789xyz" {
		t.Errorf("orig stream = %q", got)
	}
	if st.gaps[DirOrig] != 10 {
		t.Errorf("gap = %d, want 10", st.gaps[DirOrig])
	}
	f := sink.flows[0]
	if f.MissedBytes != 10 || f.OrigBytes != 43 {
		t.Errorf("missed=%d orig_bytes=%d history=%s", f.MissedBytes, f.OrigBytes, f.History)
	}
}

func TestInconsistentOverlapWarns(t *testing.T) {
	sink, st := runSteps(t, DefaultOptions(), []step{
		{true, fS, 0, 0, "", 0},
		{false, fS | fA, 500, 1, "", 1},
		{true, fA, 1, 501, "", 1},
		{true, fPA, 11, 501, "KLMNOPQRST", 1},
		{true, fPA, 11, 501, "klmnopqrst", 1}, // differs from the buffered copy
		{true, fPA, 1, 501, "ABCDEFGHIJ", 1},
	})
	if got := string(st.data[DirOrig]); got != "ABCDEFGHIJKLMNOPQRST" {
		t.Errorf("stream = %q (first copy must win)", got)
	}
	found := false
	for _, w := range sink.warnings {
		if len(w) > 20 && w[:20] == "rexmit_inconsistency" {
			found = true
		}
	}
	if !found {
		t.Errorf("no rexmit_inconsistency warning: %v", sink.warnings)
	}
}

func TestBufferBoundCapsFlow(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxFlowBuffered = 25
	steps := []step{{true, fS, 0, 0, "", 0}, {false, fS | fA, 500, 1, "", 1}, {true, fA, 1, 501, "", 1}}
	// Segment 1..10 is lost; 10-byte segments after it pile up.
	for i := 1; i <= 5; i++ {
		steps = append(steps, step{true, fPA, uint32(1 + 10*i), 501, "0123456789", 1})
	}
	sink, st := runSteps(t, opts, steps)
	f := sink.flows[0]
	if !f.Capped {
		t.Errorf("flow not capped")
	}
	if len(st.data[DirOrig]) != 50 || st.gaps[DirOrig] != 10 {
		t.Errorf("delivered %d bytes, gap %d", len(st.data[DirOrig]), st.gaps[DirOrig])
	}
}

func TestPortReuseAndStates(t *testing.T) {
	sink, _ := runSteps(t, DefaultOptions(), []step{
		{true, fS, 100, 0, "", 0},
		{false, fR | fA, 0, 101, "", 1}, // REJ
		{true, fS, 9000, 0, "", 1000},   // new ISN: new flow
		{true, fS, 9000, 0, "", 1000},   // SYN retry
	})
	if len(sink.flows) != 2 {
		t.Fatalf("flows = %d", len(sink.flows))
	}
	if sink.flows[0].ConnState != "REJ" || sink.flows[0].History != "Sr" {
		t.Errorf("first = %s %s", sink.flows[0].ConnState, sink.flows[0].History)
	}
	if sink.flows[1].ConnState != "S0" || sink.flows[1].SYNRetries != 1 || sink.flows[1].FlowID != 3 {
		t.Errorf("second = %+v", sink.flows[1])
	}
}

func TestNoAllocInOrder(t *testing.T) {
	tr := NewTracker(DefaultOptions(), &recSink{})
	st := &recStream{}
	_ = st
	ts := int64(1e18)
	tr.Process(1, ts, pkt("10.0.0.1", "10.0.0.2", 40000, 80, fS, 0, 0, ""))
	tr.Process(2, ts, pkt("10.0.0.2", "10.0.0.1", 80, 40000, fS|fA, 500, 1, ""))
	tr.Process(3, ts, pkt("10.0.0.1", "10.0.0.2", 40000, 80, fA, 1, 501, ""))
	p := pkt("10.0.0.1", "10.0.0.2", 40000, 80, fPA, 1, 501, "0123456789012345678901234567890123456789")
	ack := pkt("10.0.0.2", "10.0.0.1", 80, 40000, fA, 501, 1, "")
	frame := int64(4)
	allocs := testing.AllocsPerRun(1000, func() {
		ts += 1e6
		tr.Process(frame, ts, p)
		p.Seq += uint32(p.PayloadLen)
		ack.Ack = p.Seq
		frame++
		tr.Process(frame, ts, ack)
		frame++
	})
	if allocs != 0 {
		t.Errorf("allocs per in-order data+ack = %v, want 0", allocs)
	}
}

func BenchmarkProcess(b *testing.B) {
	tr := NewTracker(DefaultOptions(), &recSink{})
	ts := int64(1e18)
	tr.Process(1, ts, pkt("10.0.0.1", "10.0.0.2", 40000, 80, fS, 0, 0, ""))
	tr.Process(2, ts, pkt("10.0.0.2", "10.0.0.1", 80, 40000, fS|fA, 500, 1, ""))
	p := pkt("10.0.0.1", "10.0.0.2", 40000, 80, fPA, 1, 501, string(make([]byte, 1400)))
	ack := pkt("10.0.0.2", "10.0.0.1", 80, 40000, fA, 501, 1, "")
	b.ReportAllocs()
	b.SetBytes(1400)
	for i := 0; b.Loop(); i++ {
		ts += 1e5
		tr.Process(int64(3+2*i), ts, p)
		p.Seq += 1400
		ack.Ack = p.Seq
		tr.Process(int64(4+2*i), ts, ack)
	}
}

// TestStreamClosedAtFIN: a stream is closed (its parser freed) as soon as
// both directions ended with a FIN and everything before the FINs was
// delivered, not closeDelay later; a stream with undelivered data or a
// reset one stays open until the flow ends, and the flow row keeps the
// stream's service either way.
func TestStreamClosedAtFIN(t *testing.T) {
	handshake := []step{
		{true, fS, 100, 0, "", 0},
		{false, fS | fA, 500, 101, "", 1},
		{true, fA, 101, 501, "", 1},
		{true, fPA, 101, 501, "GET / HTTP/1.1\r\n\r\n", 1},
	}
	tests := []struct {
		name     string
		steps    []step
		closedAt int // step index (in steps after the handshake) after which the stream is closed; -1: only at Tracker.Close
		wantResp string
	}{
		{"fin fin", []step{
			{false, fPA, 501, 119, "HTTP/1.1 200 OK\r\n\r\n", 1},
			{true, fF | fA, 119, 520, "", 1},
			{false, fF | fA, 520, 120, "", 1},
			{true, fA, 120, 521, "", 1},
		}, 2, "HTTP/1.1 200 OK\r\n\r\n"},
		{"one fin only", []step{
			{false, fPA, 501, 119, "HTTP/1.1 200 OK\r\n\r\n", 1},
			{true, fF | fA, 119, 520, "", 1},
			{false, fA, 520, 120, "", 1},
		}, -1, "HTTP/1.1 200 OK\r\n\r\n"},
		{"fin with a hole before it", []step{
			{false, fPA, 510, 119, "200 OK\r\n\r\n", 1}, // bytes 501..509 missing
			{true, fF | fA, 119, 501, "", 1},
			{false, fF | fA, 520, 120, "", 1},
			{false, fPA, 501, 120, "HTTP/1.1 ", 1}, // the hole is filled after both FINs: closed here
			{true, fA, 120, 521, "", 1},
		}, 3, "HTTP/1.1 200 OK\r\n\r\n"},
		{"reset", []step{
			{true, fR | fA, 119, 501, "", 1},
			{false, fPA, 501, 119, "HTTP/1.1 200 OK\r\n\r\n", 1},
		}, -1, "HTTP/1.1 200 OK\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recSink{}
			st := &recStream{}
			opts := DefaultOptions()
			opts.NewStream = func(*FlowInfo) StreamHandler { return st }
			tr := NewTracker(opts, sink)
			ts := int64(1e18)
			steps := append(append([]step(nil), handshake...), tt.steps...)
			for i, s := range steps {
				ts += s.dtMs * 1e6
				p := pkt("10.0.0.2", "10.0.0.1", 80, 40000, s.flags, s.seq, s.ack, s.data)
				if s.c2s {
					p = pkt("10.0.0.1", "10.0.0.2", 40000, 80, s.flags, s.seq, s.ack, s.data)
				}
				tr.Process(int64(i+1), ts, p)
				after := i - len(handshake)
				want := tt.closedAt >= 0 && after >= tt.closedAt
				if st.closed != want {
					t.Fatalf("after step %d (%+v): stream closed = %v, want %v", i, s, st.closed, want)
				}
			}
			tr.Close(ts)
			if !st.closed {
				t.Error("stream not closed at Tracker.Close")
			}
			if got := string(st.data[DirResp]); got != tt.wantResp {
				t.Errorf("response stream = %q, want %q", got, tt.wantResp)
			}
			if len(sink.flows) != 1 || sink.flows[0].Service != "test" {
				t.Errorf("flows = %+v, want one with service test", sink.flows)
			}
		})
	}
}

// A live flow must fit Go's 1024-byte size class: MaxFlows of them are
// held at once (the SYN-flood and short-flow memory bounds in
// benchmarks/memory.sh), and the next class is 1152 bytes.
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 1024 {
		t.Errorf("conn is %d bytes, want at most 1024 (reorder fields by size, or move rarely used state out of line)", n)
	}
}

// TestCloseEndsIdleFlowsAsOneTracker: flows split over shards (by the
// symmetric flow hash, as the ingest pipeline does) end with the same rows
// as in one Tracker when every shard is closed at the input's last packet
// time. Eight UDP flows send one packet at time 0; another flow sends one
// every 10 s until 120 s: past the 60 s UDP timeout the eight are evicted
// in one Tracker, and must be in every shard although no later packet of
// their own shard comes.
func TestCloseEndsIdleFlowsAsOneTracker(t *testing.T) {
	var pkts []*decode.Packet
	var tss []int64
	for i := 0; i < 8; i++ {
		p := pkt("10.0.0.1", "10.9.9.9", uint16(1000+i), 9999, 0, 0, 0, "x")
		p.IPProto, p.HasTCP = protoUDP, false
		pkts, tss = append(pkts, p), append(tss, 1e18)
	}
	for s := int64(1); s <= 12; s++ {
		p := pkt("10.0.0.2", "10.9.9.9", 2000, 9999, 0, 0, 0, "x")
		p.IPProto, p.HasTCP = protoUDP, false
		pkts, tss = append(pkts, p), append(tss, 1e18+s*10e9)
	}
	last := tss[len(tss)-1]
	rows := func(shards int) map[int64]Flow {
		out := map[int64]Flow{}
		sinks := make([]*recSink, shards)
		trs := make([]*Tracker, shards)
		for i := range trs {
			sinks[i] = &recSink{}
			trs[i] = NewTracker(DefaultOptions(), sinks[i])
		}
		for i, p := range pkts {
			trs[p.FlowHash()%uint64(shards)].Process(int64(i+1), tss[i], p)
		}
		for i, tr := range trs {
			tr.Close(last)
			for _, f := range sinks[i].flows {
				out[f.FlowID] = *f
			}
		}
		return out
	}
	one := rows(1)
	evicted := 0
	for _, f := range one {
		if f.Evicted {
			evicted++
		}
	}
	if evicted != 8 {
		t.Errorf("one tracker: %d flows evicted, want the 8 idle ones", evicted)
	}
	for _, n := range []int{2, 3, 4} {
		got := rows(n)
		if len(got) != len(one) {
			t.Errorf("%d shards: %d flows, one tracker %d", n, len(got), len(one))
		}
		for id, f := range one {
			if g := got[id]; g != f {
				t.Errorf("%d shards: flow %d = %+v, one tracker %+v", n, id, g, f)
			}
		}
	}
}

// TestLastFrame: every flow's LastFrame is the frame of its last packet,
// for UDP and ICMP flows as for TCP ones (tshark's frame numbers; checked
// against tshark by TestTsharkConversations).
func TestLastFrame(t *testing.T) {
	sink := &recSink{}
	tr := NewTracker(DefaultOptions(), sink)
	u := pkt("10.0.0.1", "10.0.0.2", 5000, 53, 0, 0, 0, "q")
	u.IPProto, u.HasTCP = protoUDP, false
	r := pkt("10.0.0.2", "10.0.0.1", 53, 5000, 0, 0, 0, "a")
	r.IPProto, r.HasTCP = protoUDP, false
	tr.Process(1, 1e18, u)
	tr.Process(2, 1e18, pkt("10.0.0.1", "10.0.0.3", 40000, 80, fS, 1, 0, ""))
	tr.Process(3, 1e18+1, r)
	tr.Process(4, 1e18+2, pkt("10.0.0.3", "10.0.0.1", 80, 40000, fS|fA, 9, 2, ""))
	tr.Close(1e18 + 2)
	want := map[int64]int64{1: 3, 2: 4}
	for _, f := range sink.flows {
		if f.LastFrame != want[f.FlowID] {
			t.Errorf("%s flow %d: LastFrame %d, want %d", f.Proto, f.FlowID, f.LastFrame, want[f.FlowID])
		}
	}
}

// TestOpenAtCloseAndSnapshot: a connection that is still established when
// the capture ends is written Open; one closed by FINs (waiting out the
// close delay) and one evicted are not. Snapshot shows the tracked flows
// as they stand without ending them, and the rows Close writes later agree.
func TestOpenAtCloseAndSnapshot(t *testing.T) {
	sink := &recSink{}
	opts := DefaultOptions()
	opts.UDPIdleTimeout = 1e9
	tr := NewTracker(opts, sink)
	ts, frame := int64(1e18), int64(0)
	feed := func(p *decode.Packet) {
		ts += 1e6
		frame++
		tr.Process(frame, ts, p)
	}
	// Connection 1 (port 40000): handshake and a request, left open.
	feed(pkt("10.0.0.1", "10.0.0.2", 40000, 80, fS, 100, 0, ""))
	feed(pkt("10.0.0.2", "10.0.0.1", 80, 40000, fS|fA, 500, 101, ""))
	feed(pkt("10.0.0.1", "10.0.0.2", 40000, 80, fA, 101, 501, ""))
	feed(pkt("10.0.0.1", "10.0.0.2", 40000, 80, fPA, 101, 501, "GET / HTTP/1.1\r\n\r\n"))
	// Connection 2 (port 40001): opened and closed with FINs.
	feed(pkt("10.0.0.1", "10.0.0.2", 40001, 80, fS, 100, 0, ""))
	feed(pkt("10.0.0.2", "10.0.0.1", 80, 40001, fS|fA, 500, 101, ""))
	feed(pkt("10.0.0.1", "10.0.0.2", 40001, 80, fA, 101, 501, ""))
	feed(pkt("10.0.0.1", "10.0.0.2", 40001, 80, fF|fA, 101, 501, ""))
	feed(pkt("10.0.0.2", "10.0.0.1", 80, 40001, fF|fA, 501, 102, ""))
	feed(pkt("10.0.0.1", "10.0.0.2", 40001, 80, fA, 102, 502, ""))

	var snap []*Flow
	tr.Snapshot(func(f *Flow) { snap = append(snap, f) })
	if len(snap) != 2 || len(sink.flows) != 0 {
		t.Fatalf("snapshot has %d flows (want 2), %d flows ended (want 0)", len(snap), len(sink.flows))
	}
	if s := snap[0]; !s.Open || s.OrigP != 40000 || s.OrigPkts != 3 || s.RespPkts != 1 || s.OrigBytes != 18 || s.ConnState != "S1" {
		t.Errorf("open connection in snapshot = %+v", s)
	}
	if s := snap[1]; s.Open || s.OrigP != 40001 || s.ConnState != "SF" {
		t.Errorf("closed connection in snapshot = %+v", s)
	}
	// A snapshot changes nothing: more packets, then the end.
	feed(pkt("10.0.0.2", "10.0.0.1", 80, 40000, fPA, 501, 119, "HTTP/1.1 200 OK\r\n\r\n"))
	tr.Close(ts)
	if len(sink.flows) != 2 {
		t.Fatalf("flows at close = %d", len(sink.flows))
	}
	byPort := map[uint16]*Flow{}
	for _, f := range sink.flows {
		byPort[f.OrigP] = f
	}
	if f := byPort[40000]; !f.Open || f.RespPkts != 2 || f.RespBytes != 19 || f.Evicted {
		t.Errorf("connection open at the end = %+v", f)
	}
	if f := byPort[40001]; f.Open {
		t.Errorf("connection closed by FINs marked open: %+v", f)
	}
	// An evicted flow is not open.
	sink2 := &recSink{}
	tr2 := NewTracker(opts, sink2)
	u := pkt("10.0.0.1", "10.0.0.2", 5000, 53, 0, 0, 0, "")
	u.IPProto, u.HasTCP = 17, false
	tr2.Process(1, 1e18, u)
	tr2.Process(2, 1e18+5e9, pkt("10.0.0.1", "10.0.0.2", 40000, 80, fS, 100, 0, ""))
	tr2.Close(1e18 + 5e9)
	for _, f := range sink2.flows {
		if f.Proto == "udp" && (f.Open || !f.Evicted) {
			t.Errorf("idle-evicted UDP flow: open=%v evicted=%v", f.Open, f.Evicted)
		}
	}
	if len(sink2.flows) != 2 {
		t.Errorf("flows = %d, want 2", len(sink2.flows))
	}
}
