package tcpsession

import (
	"net/netip"
	"sort"
	"strconv"

	"github.com/pcapq/pcapq/decode"
)

// Stats counts what a Tracker did. Values are totals since NewTracker,
// except LiveFlows and BufferedBytes which are current.
type Stats struct {
	Packets           int64 // packets given to Process
	NoFlow            int64 // packets that belong to no flow (DirNone)
	Flows             int64 // flows created
	TCPFlows          int64
	UDPFlows          int64
	ICMPFlows         int64
	OtherFlows        int64
	LiveFlows         int
	EvictedIdle       int64 // flows ended by the idle timeout
	EvictedMaxFlows   int64 // active flows ended because MaxFlows was reached
	EndedEarly        int64 // closed flows and unanswered attempts ended before closeDelay because MaxFlows was reached
	Events            int64
	Warnings          int64
	BufferedBytes     int64 // out-of-order bytes buffered now
	PeakBufferedBytes int64
	SkippedBytes      int64 // bytes given up because a buffering bound was hit
	GapBytes          int64 // bytes reported to StreamHandler.Gap
}

// Flow classes, each with its own LRU list ordered by last activity, so
// the least recently active flow of a class is at the tail.
const (
	classTCP = iota
	classUDP
	classICMP
	classClosing // TCP flows closed both ways (or reset), deleted after closeDelay
	classAttempt // TCP connection attempts not answered yet, deleted at attemptAt
	numClasses
)

// closeDelay is Zeek's tcp_close_delay / tcp_reset_delay / tcp_attempt_delay.
const closeDelay = int64(5e9)

type flowKey struct {
	a, b   netip.Addr
	pa, pb uint16
	proto  uint8
}

type lruList struct{ head, tail *conn }

func (l *lruList) pushFront(c *conn) {
	c.prev, c.next = nil, l.head
	if l.head != nil {
		l.head.prev = c
	}
	l.head = c
	if l.tail == nil {
		l.tail = c
	}
}

func (l *lruList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// Tracker assigns packets to flows and runs TCP analysis and reassembly.
// It is not safe for concurrent use: run one Tracker per shard, and shard
// by a symmetric 5-tuple hash so that both directions of a connection
// reach the same Tracker.
type Tracker struct {
	opts  Options
	sink  Sink
	flows map[flowKey]*conn
	lru   [numClasses]lruList
	stats Stats
	now   int64
	// lastSyn remembers when the last SYN of a connection attempt was
	// seen after the attempt ended unanswered (Zeek's attempt delay): if
	// the answer comes later, the new flow on that 5-tuple measures its
	// handshake RTT, and tshark's out-of-order threshold, from that SYN,
	// as tshark does (one stream for it). Bounded by maxLastSyn.
	lastSyn map[flowKey]int64
}

// maxLastSyn bounds Tracker.lastSyn; past it, entries older than
// closeDelay are dropped, and if that is not enough the map is cleared
// (losing only the handshake RTT of very late answers).
const maxLastSyn = 1 << 14

// NewTracker returns a Tracker that reports to sink. Zero or negative
// bounds in opts are replaced by the DefaultOptions values.
func NewTracker(opts Options, sink Sink) *Tracker {
	d := DefaultOptions()
	if opts.TCPIdleTimeout <= 0 {
		opts.TCPIdleTimeout = d.TCPIdleTimeout
	}
	if opts.UDPIdleTimeout <= 0 {
		opts.UDPIdleTimeout = d.UDPIdleTimeout
	}
	if opts.ICMPIdleTimeout <= 0 {
		opts.ICMPIdleTimeout = d.ICMPIdleTimeout
	}
	if opts.MaxBufferedBytes <= 0 {
		opts.MaxBufferedBytes = d.MaxBufferedBytes
	}
	if opts.MaxFlowBuffered <= 0 {
		opts.MaxFlowBuffered = d.MaxFlowBuffered
	}
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = d.MaxFlows
	}
	return &Tracker{opts: opts, sink: sink, flows: make(map[flowKey]*conn)}
}

// Stats returns the counters so far.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.LiveFlows = len(t.flows)
	return s
}

func (t *Tracker) warn(frame int64, kind, detail string) {
	t.stats.Warnings++
	t.sink.Warning(frame, kind, detail)
}

func (t *Tracker) timeout(class uint8) int64 {
	switch class {
	case classUDP:
		return t.opts.UDPIdleTimeout
	case classICMP:
		return t.opts.ICMPIdleTimeout
	case classClosing, classAttempt:
		return closeDelay
	}
	return t.opts.TCPIdleTimeout
}

// touch moves c to the front of its class list.
func (t *Tracker) touch(c *conn, class uint8) {
	t.lru[c.class].remove(c)
	c.class = class
	t.lru[class].pushFront(c)
}

// expire ends flows idle for longer than their class timeout at time ts.
func (t *Tracker) expire(ts int64) {
	for cl := uint8(0); cl < numClasses; cl++ {
		to := t.timeout(cl)
		for {
			c := t.lru[cl].tail
			if c == nil || c.idleRef()+to >= ts {
				break
			}
			// Closed connections and unanswered attempts end as in Zeek
			// (tcp_close_delay, tcp_attempt_delay): not an eviction.
			evicted := cl != classClosing && cl != classAttempt
			if evicted {
				t.stats.EvictedIdle++
			}
			t.finish(c, c.idleRef()+to, evicted)
		}
	}
}

// packetKey derives the flow key fields of p. For ICMP the ports are the
// type and its counterpart (or code), as Zeek and Community ID do.
func packetKey(p *decode.Packet) (sport, dport uint16, hasPorts, ok bool) {
	switch p.IPProto {
	case protoTCP:
		if !p.HasTCP {
			return 0, 0, false, false
		}
		return p.SrcPort, p.DstPort, true, true
	case protoUDP, protoSCTP:
		if !p.HasPorts {
			return 0, 0, false, false
		}
		return p.SrcPort, p.DstPort, true, true
	case protoICMP, protoICMPv6:
		if !p.HasICMP {
			return 0, 0, false, false
		}
		s, d, _ := icmpPorts(p.IPProto == protoICMPv6, p.ICMPType, p.ICMPCode)
		return s, d, true, true
	}
	if p.IsFragment && p.FragOffset != 0 {
		return 0, 0, false, false
	}
	return 0, 0, false, true
}

func protoName(proto uint8) string {
	switch proto {
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMP:
		return "icmp"
	case protoICMPv6:
		return "icmp6"
	}
	return strconv.Itoa(int(proto))
}

// Process assigns one packet (frame number frame, capture time ts in ns)
// to its flow and returns the flow id and the packet's direction. It must
// be called in capture order. p and p.Payload are only read during the
// call. Packets that are not IP, or IP fragments without the transport
// header, return (0, DirNone): reassemble fragments first (Defragmenter).
func (t *Tracker) Process(frame, ts int64, p *decode.Packet) (flowID int64, dir Dir) {
	t.stats.Packets++
	if ts > t.now {
		t.now = ts
	}
	t.expire(ts)
	if p.IPVersion == 0 || !p.SrcIP.IsValid() || !p.DstIP.IsValid() {
		t.stats.NoFlow++
		return 0, DirNone
	}
	sport, dport, hasPorts, ok := packetKey(p)
	if !ok {
		t.stats.NoFlow++
		return 0, DirNone
	}
	src, dst := p.SrcIP, p.DstIP
	k := flowKey{a: src, b: dst, pa: sport, pb: dport, proto: p.IPProto}
	if c := src.Compare(dst); c > 0 || (c == 0 && sport > dport) {
		k = flowKey{a: dst, b: src, pa: dport, pb: sport, proto: p.IPProto}
	}
	c := t.flows[k]
	if c != nil && c.proto == protoTCP && c.mustRestart(ts, p) {
		t.finish(c, c.lastTs, false)
		c = nil
	}
	if c == nil {
		c = t.newConn(k, frame, ts, p, sport, dport, hasPorts)
	}
	if src == c.row.OrigH && sport == c.origKeyPort && (src != c.row.RespH || dport == c.respKeyPort) {
		dir = DirOrig
	} else {
		dir = DirResp
	}
	switch c.proto {
	case protoTCP:
		dir = t.processTCP(c, frame, ts, p, dir)
	default:
		c.processOther(ts, p, dir)
		c.lastFrame = frame
	}
	switch {
	case c.class == classClosing:
	case c.proto != protoTCP:
		t.touch(c, c.class)
	case c.attempt():
		// Kept in the order attempts started, so the list stays sorted
		// by attemptAt: SYN retries do not move the flow.
		if c.class != classAttempt {
			t.touch(c, classAttempt)
		}
	default:
		t.touch(c, classTCP)
	}
	return c.row.FlowID, dir
}

func (t *Tracker) newConn(k flowKey, frame, ts int64, p *decode.Packet, sport, dport uint16, hasPorts bool) *conn {
	if len(t.flows) >= t.opts.MaxFlows {
		t.evictOldest(frame)
	}
	c := &conn{key: k, proto: p.IPProto, hasPorts: hasPorts}
	c.row = Flow{
		FlowID:         frame,
		Proto:          protoName(p.IPProto),
		OrigH:          p.SrcIP,
		RespH:          p.DstIP,
		OrigP:          sport,
		RespP:          dport,
		HasVLAN:        p.HasVLAN,
		VLAN:           p.VLAN,
		TsStart:        ts,
		TsEnd:          ts,
		HandshakeRTTNs: -1,
		FirstFrame:     frame,
		LastFrame:      frame,
	}
	c.origKeyPort, c.respKeyPort = sport, dport
	c.lastTs = ts
	if syn, ok := t.lastSyn[k]; ok {
		delete(t.lastSyn, k)
		if p.IPProto == protoTCP && p.TCPFlags&(decode.FlagSYN|decode.FlagACK) == decode.FlagSYN|decode.FlagACK {
			c.mruSyn = syn // the answer to an attempt that ended unanswered
		}
	}
	c.ep[0].init()
	c.ep[1].init()
	switch p.IPProto {
	case protoTCP:
		c.class = classTCP
		t.stats.TCPFlows++
		f := p.TCPFlags
		syn, ack := f&decode.FlagSYN != 0, f&decode.FlagACK != 0
		switch {
		case syn && ack:
			// The sender of a SYN-ACK is the responder.
			c.flip()
			c.hist = append(c.hist, '^')
		case syn:
		case likelyServer(protoTCP, sport) && (!likelyServer(protoTCP, dport) || sport < dport) && !isBroadcast(p.DstIP):
			// Zeek's heuristic for connections seen without their SYN
			// (TCPAnalyzer::WantConnection, IPBasedAnalyzer::NewConn).
			c.flip()
			c.hist = append(c.hist, '^')
		}
	case protoUDP:
		c.class = classUDP
		t.stats.UDPFlows++
		// Zeek's UDPAnalyzer::WantConnection and IPBasedAnalyzer::NewConn.
		if likelyServer(protoUDP, sport) && !likelyServer(protoUDP, dport) && !isBroadcast(p.DstIP) {
			c.flip()
			c.hist = append(c.hist, '^')
		}
	case protoICMP, protoICMPv6:
		c.class = classICMP
		t.stats.ICMPFlows++
	default:
		c.class = classUDP
		t.stats.OtherFlows++
	}
	if c.proto == protoICMP || c.proto == protoICMPv6 {
		// CommunityID applies the type mapping itself: give it type and code.
		c.row.CommunityID = CommunityID(0, p.SrcIP, p.DstIP, c.proto, uint16(p.ICMPType), uint16(p.ICMPCode), true)
	} else {
		c.row.CommunityID = CommunityID(0, c.row.OrigH, c.row.RespH, c.proto, c.row.OrigP, c.row.RespP, hasPorts)
	}
	t.stats.Flows++
	t.flows[k] = c
	t.lru[c.class].pushFront(c)
	// The StreamHandler is made when the first payload byte (or gap) is
	// delivered: a SYN flood or a scan costs no parser state.
	c.streamPending = c.proto == protoTCP && t.opts.NewStream != nil
	return c
}

// handler returns c's StreamHandler, making it on first use.
func (t *Tracker) handler(c *conn) StreamHandler {
	if c.streamPending {
		c.streamPending = false
		info := &FlowInfo{FlowID: c.row.FlowID, CommunityID: c.row.CommunityID,
			OrigH: c.row.OrigH, OrigP: c.row.OrigP, RespH: c.row.RespH, RespP: c.row.RespP}
		c.stream = t.opts.NewStream(info)
	}
	return c.stream
}

// evictOldest makes room for a new flow. A connection already closed (or
// an unanswered attempt) waiting out closeDelay ends first: its row is the
// one the delay would give unless more packets of it come, so it is not
// marked evicted, only counted (one flow_table_pressure warning at Close).
// Otherwise the least recently active flow of any class is evicted,
// marked and warned.
func (t *Tracker) evictOldest(frame int64) {
	for _, cl := range [...]uint8{classClosing, classAttempt} {
		if c := t.lru[cl].tail; c != nil {
			t.stats.EndedEarly++
			t.finish(c, c.lastTs, false)
			return
		}
	}
	var victim *conn
	for cl := range t.lru {
		c := t.lru[cl].tail
		if c != nil && (victim == nil || c.idleRef() < victim.idleRef()) {
			victim = c
		}
	}
	if victim == nil {
		return
	}
	t.stats.EvictedMaxFlows++
	t.warn(frame, "flow_table_full", "MaxFlows reached: evicted flow "+strconv.FormatInt(victim.row.FlowID, 10))
	t.finish(victim, victim.lastTs, true)
}

// finish ends flow c at time ts: delivers what is buffered, closes the
// stream and emits the Flow row.
func (t *Tracker) finish(c *conn, ts int64, evicted bool) {
	delete(t.flows, c.key)
	if c.class == classAttempt && !c.synAckSeen && c.mruSyn != 0 {
		t.rememberSyn(c.key, c.mruSyn)
	}
	t.lru[c.class].remove(c)
	if c.proto == protoTCP {
		for i := range c.ep {
			t.flushAll(c, i, c.lastFrame, ts)
		}
		if c.stream != nil {
			c.row.Service = c.stream.Service()
			c.stream.Close(ts)
			c.stream = nil
		}
	}
	f := new(Flow)
	*f = c.row
	f.Evicted = evicted
	c.fillRow(f)
	t.sink.Flow(f)
}

func (t *Tracker) rememberSyn(k flowKey, ts int64) {
	if t.lastSyn == nil {
		t.lastSyn = make(map[flowKey]int64)
	}
	if len(t.lastSyn) >= maxLastSyn {
		for k, v := range t.lastSyn {
			if t.now-v > closeDelay {
				delete(t.lastSyn, k)
			}
		}
		if len(t.lastSyn) >= maxLastSyn {
			clear(t.lastSyn)
		}
	}
	t.lastSyn[k] = ts
}

// Close ends the input at capture time ts: the time of the last packet
// of the whole input, not only of the packets this Tracker saw (with
// several shards, every packet advances capture time, as it does for a
// single Tracker through Process). Flows idle past their timeout at ts
// end as evicted, exactly as Process would have ended them at a packet
// of time ts; the others end at their last packet: buffered data is
// delivered, streams are closed and Flow rows emitted in flow id order.
func (t *Tracker) Close(ts int64) {
	if ts > t.now {
		t.now = ts
	}
	t.expire(t.now)
	// Emit in FlowID order for deterministic output.
	cs := make([]*conn, 0, len(t.flows))
	for _, c := range t.flows {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].row.FlowID < cs[j].row.FlowID })
	for _, c := range cs {
		c.row.Open = c.class != classClosing
		t.finish(c, c.lastTs, false)
	}
	if n := t.stats.EndedEarly; n > 0 {
		t.warn(0, "flow_table_pressure", strconv.FormatInt(n, 10)+
			" closed connections or unanswered attempts were ended before the 5 s close delay because MaxFlows live flows were reached; a packet of one of them arriving later starts a new flow")
	}
}

// Snapshot calls emit with the row every tracked flow would have if it
// ended now, in flow id order, without ending any: a live capture shows
// the flows not yet ended this way. Open is true except for connections
// already closed by FINs or a reset and waiting out the close delay. Nothing is delivered or
// changed: buffered out-of-order data stays buffered, and the counts are
// those of the packets so far.
func (t *Tracker) Snapshot(emit func(*Flow)) {
	cs := make([]*conn, 0, len(t.flows))
	for _, c := range t.flows {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].row.FlowID < cs[j].row.FlowID })
	for _, c := range cs {
		f := new(Flow)
		*f = c.row
		if c.stream != nil {
			f.Service = c.stream.Service()
		}
		c.fillRow(f)
		f.Open = c.class != classClosing
		emit(f)
	}
}
