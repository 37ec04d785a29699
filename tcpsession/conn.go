package tcpsession

import (
	"net/netip"

	"github.com/pcapq/pcapq/decode"
)

// Zeek's TCP endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h).
const (
	stInactive uint8 = iota
	stSynSent
	stSynAckSent
	stPartial
	stEstablished
	stClosed
	stReset
)

// tooLargeSeqDelta is Zeek's TOO_LARGE_SEQ_DELTA.
const tooLargeSeqDelta = 1048576

// History bits (Zeek's HIST_*); the responder's bits are shifted by 16.
const (
	histSYN uint32 = 1 << iota
	histFIN
	histRST
	histFINRST
	histData
	histAck
	histMulti
)

// endpoint is one side of a connection: Zeek's TCP_Endpoint plus packet
// counters, tshark analysis state and the reassembly buffer.
type endpoint struct {
	// Fields are ordered by size so that the struct has no padding: a
	// SYN flood or a million short connections keeps MaxFlows of these
	// (two per connection) in memory.
	state, prevState uint8
	didClose         bool
	initd            bool
	active           bool // sent at least one packet (UDP/ICMP state)
	synSeen          bool
	start            uint32 // Zeek StartSeq
	lastRaw          uint32 // Zeek LastSeq
	ackRaw           uint32 // Zeek AckSeq: highest ack from the peer
	synSeq           uint32
	finCnt           uint32 // saturates
	rxmtCnt, rxmtThr uint32
	gapCnt, gapThr   uint32
	win0Cnt, win0Thr uint32
	lastRel          int64 // LastSeq relative to start, 64-bit
	ackRel           int64
	finRel           int64 // relative seq just past the FIN, 0 when none
	histLastSYN      int64
	histLastFIN      int64
	histLastRST      int64

	pkts, bytes, ipBytes int64

	ta taState
	rs reasm
}

func (e *endpoint) init() {
	e.rxmtThr, e.gapThr, e.win0Thr = 1, 1, 1
	e.ta.init()
}

func (e *endpoint) setState(s uint8) {
	e.prevState = e.state
	e.state = s
}

// initSeq sets Zeek's StartSeq/AckSeq to start and LastSeq to last, and
// the caller restarts reassembly (Tracker.restartStream).
func (e *endpoint) initSeq(start, last uint32) {
	e.start = start
	e.lastRaw = last
	e.lastRel = int64(last - start)
	e.ackRaw = start
	e.ackRel = 0
	e.initd = true
}

// rel returns seq relative to the start of the sequence space (64-bit, so
// that wraparound past 4 GB keeps counting).
func (e *endpoint) rel(seq uint32) int64 { return e.lastRel + int64(int32(seq-e.lastRaw)) }

func (e *endpoint) relAck(ack uint32) int64 { return e.ackRel + int64(int32(ack-e.ackRaw)) }

// size is Zeek's TCP_Endpoint::Size: bytes of sequence space used, from
// the larger of the last sequence sent and the highest ack received.
func (e *endpoint) size() int64 {
	if !e.initd {
		return 0
	}
	s := e.lastRel
	if e.ackRel > s {
		s = e.ackRel
	}
	if s != 0 {
		s--
	}
	if e.finCnt > 0 && s != 0 {
		s--
	}
	if s < 0 {
		s = 0
	}
	return s
}

// conn is one flow.
type conn struct {
	key         flowKey
	proto       uint8
	hasPorts    bool
	origKeyPort uint16
	respKeyPort uint16
	class       uint8
	prev, next  *conn

	row        Flow
	ep         [2]endpoint // [0] originator, [1] responder
	hist       []byte
	histSeen   uint32
	lastTs     int64
	lastFrame  int64
	deleteAt   int64 // capture time after which the flow is gone (Zeek's delete/attempt timers), 0 = none
	attemptAt  int64
	capped     bool
	warnedRex  bool
	firstRTT   int64 // tshark ts_first_rtt
	mruSyn     int64 // time of the most recent SYN (tshark ts_mru_syn)
	synFrame   int64
	synTs      int64
	synAckSeen bool

	stream        StreamHandler
	streamPending bool // NewStream is to be called at the first delivery
}

// idleRef is the time an idle timeout is measured from.
func (c *conn) idleRef() int64 {
	switch c.class {
	case classClosing:
		return c.deleteAt - closeDelay
	case classAttempt:
		return c.attemptAt - closeDelay
	}
	return c.lastTs
}

// attempt reports whether c is a TCP connection attempt the responder has
// not answered: Zeek removes it when its attempt timer (tcp_attempt_delay,
// 5 s after the first SYN) fires, and so does Tracker.expire.
func (c *conn) attempt() bool {
	o, r := &c.ep[0], &c.ep[1]
	return c.attemptAt != 0 && (o.state == stSynSent || o.state == stSynAckSent) && r.state == stInactive
}

// flip swaps originator and responder (Zeek's FlipRoles).
func (c *conn) flip() {
	c.ep[0], c.ep[1] = c.ep[1], c.ep[0]
	c.row.OrigH, c.row.RespH = c.row.RespH, c.row.OrigH
	c.row.OrigP, c.row.RespP = c.row.RespP, c.row.OrigP
	c.origKeyPort, c.respKeyPort = c.respKeyPort, c.origKeyPort
	c.histSeen = c.histSeen>>16 | c.histSeen<<16
}

// checkHistory adds code (lower case for the responder) the first time a
// bit is seen; it reports whether the bit had been seen before.
func (c *conn) checkHistory(orig bool, mask uint32, code byte) bool {
	if !orig {
		mask <<= 16
	}
	if c.histSeen&mask != 0 {
		return true
	}
	c.histSeen |= mask
	c.addHistory(orig, code)
	return false
}

// maxHistory bounds the history string (Zeek's letters repeat only with
// exponential scaling, so real histories stay short).
const maxHistory = 64

func (c *conn) addHistory(orig bool, code byte) {
	if len(c.hist) >= maxHistory {
		return
	}
	if !orig && code >= 'A' && code <= 'Z' {
		code += 'a' - 'A'
	}
	c.hist = append(c.hist, code)
}

// scaledHistory is Zeek's ScaledHistoryEntry: the letter is logged at the
// 1st, 10th, 100th... occurrence.
func (c *conn) scaledHistory(orig bool, code byte, cnt, thr *uint32) {
	*cnt++
	if *cnt == *thr {
		c.addHistory(orig, code)
		n := *thr * 10
		if n <= *thr {
			n = 0xffffffff
		}
		*thr = n
	}
}

// Zeek's likely_server_ports: the server ports that its scripts register
// with Analyzer::register_for_ports (base/frameworks/analyzer/main.zeek
// adds every server port to the set) and PacketAnalyzer::register_for_ports
// (base/packet-protocols/main.zeek, the same), as loaded by a default Zeek
// run (base/init-default.zeek), zeek/zeek a13de64f (2026-08-21), the
// version of the corpus baselines. Ports passed as non_server_ports (DHCP's
// 68/udp, QUIC's DNS-over-QUIC 853/udp and 784/udp) and ports registered
// one by one with Analyzer::register_for_port (Spicy analyzers' .evt
// ports) are not in it.
var zeekServerPorts = []struct {
	script   string // under scripts/base/
	tcp, udp []uint16
}{
	{"protocols/dce-rpc/main.zeek", []uint16{135}, nil},
	{"protocols/dhcp/main.zeek", nil, []uint16{67, 4011}}, // server_ports; 68/udp is a client port
	{"protocols/dnp3/main.zeek", []uint16{20000}, []uint16{20000}},
	{"protocols/dns/main.zeek", []uint16{53}, []uint16{53, 137, 5353, 5355}},
	{"protocols/finger/main.zeek", []uint16{79}, nil},
	{"protocols/ftp/main.zeek", []uint16{21, 2811}, nil},
	{"protocols/http/main.zeek", []uint16{80, 81, 631, 1080, 3128, 8000, 8080, 8888}, nil},
	{"protocols/imap/main.zeek", []uint16{143}, nil},
	{"protocols/irc/main.zeek", []uint16{6666, 6667, 6668, 6669}, nil},
	{"protocols/krb/main.zeek", []uint16{88}, []uint16{88}},
	{"protocols/ldap/main.zeek", []uint16{389, 3268}, []uint16{389}},
	{"protocols/modbus/main.zeek", []uint16{502}, nil},
	{"protocols/mqtt/main.zeek", []uint16{1883}, nil},
	{"protocols/mysql/main.zeek", []uint16{1434, 3306}, nil},
	{"protocols/ntp/main.zeek", nil, []uint16{123}},
	{"protocols/postgresql/main.zeek", []uint16{5432}, nil},
	{"protocols/quic/main.zeek", nil, []uint16{443}}, // quic_ports; doq_ports are non-server ports
	{"protocols/radius/main.zeek", nil, []uint16{1812}},
	{"protocols/rdp/main.zeek", []uint16{3389}, []uint16{3389}},
	{"protocols/redis/main.zeek", []uint16{6379}, nil},
	{"protocols/sip/main.zeek", nil, []uint16{5060}},
	{"protocols/smb/main.zeek", []uint16{139, 445}, nil},
	{"protocols/smtp/main.zeek", []uint16{25, 587}, nil},
	{"protocols/snmp/main.zeek", nil, []uint16{161, 162}},
	{"protocols/socks/main.zeek", []uint16{1080}, nil},
	{"protocols/ssh/main.zeek", []uint16{22}, nil},
	{"protocols/ssl/main.zeek", []uint16{443, 465, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223}, []uint16{443}},
	{"protocols/syslog/main.zeek", []uint16{514}, []uint16{514}},
	{"protocols/xmpp/main.zeek", []uint16{5222, 5269}, nil},
	{"packet-protocols/ayiya/main.zeek", nil, []uint16{5072}},
	{"packet-protocols/geneve/main.zeek", nil, []uint16{6081}},
	{"packet-protocols/gre/main.zeek", nil, []uint16{4754}},
	{"packet-protocols/gtpv1/main.zeek", nil, []uint16{2152, 2123}},
	{"packet-protocols/teredo/main.zeek", nil, []uint16{3544}},
	{"packet-protocols/vxlan/main.zeek", nil, []uint16{4789}},
}

// likelyTCP and likelyUDP hold zeekServerPorts by protocol.
var likelyTCP, likelyUDP = func() (tcp, udp *portSet) {
	tcp, udp = new(portSet), new(portSet)
	for _, z := range zeekServerPorts {
		tcp.add(z.tcp...)
		udp.add(z.udp...)
	}
	return tcp, udp
}()

// portSet is a set of ports, one bit each.
type portSet [65536 / 64]uint64

func (s *portSet) add(ports ...uint16) {
	for _, p := range ports {
		s[p/64] |= 1 << (p % 64)
	}
}

func (s *portSet) has(p uint16) bool { return s[p/64]&(1<<(p%64)) != 0 }

// likelyServer is Zeek's IsLikelyServerPort: port is in
// likely_server_ports for the protocol.
func likelyServer(proto uint8, port uint16) bool {
	if proto == protoTCP {
		return likelyTCP.has(port)
	}
	return likelyUDP.has(port)
}

// isBroadcast is Zeek's IPAddr::IsBroadcast: the IPv4 limited broadcast
// address. Zeek never flips the roles of a connection whose first packet
// goes to it (IPBasedAnalyzer::NewConn), so a DHCP server's broadcast
// offer keeps the server as originator.
func isBroadcast(a netip.Addr) bool {
	return a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// mustRestart reports whether packet p starts a new connection on the key
// of the TCP flow c: Zeek's IsReuse (a SYN with a new ISN) or the flow's
// delete/attempt timer has passed.
func (c *conn) mustRestart(ts int64, p *decode.Packet) bool {
	if c.deleteAt != 0 && ts > c.deleteAt {
		return true
	}
	o, r := &c.ep[0], &c.ep[1]
	if c.attemptAt != 0 && ts > c.attemptAt && (o.state == stSynSent || o.state == stSynAckSent) && r.state == stInactive {
		return true
	}
	f := p.TCPFlags
	if f&decode.FlagSYN == 0 || f&decode.FlagRST != 0 {
		return false
	}
	co := o
	if f&decode.FlagACK != 0 {
		if o.state != stInactive {
			return false
		}
		co = r
	}
	closed := (o.state == stClosed || o.state == stReset) && (r.state == stClosed || r.state == stReset)
	if !closed {
		if !co.initd || p.Seq == co.start {
			return false
		}
		if f&decode.FlagACK == 0 && co.state == stSynAckSent && r.state == stInactive && p.Seq == r.start {
			return false
		}
		return true
	}
	return !co.initd || p.Seq != co.start
}

// processOther accounts a UDP, ICMP or other-protocol packet.
func (c *conn) processOther(ts int64, p *decode.Packet, dir Dir) {
	e := &c.ep[dir-1]
	e.pkts++
	e.ipBytes += int64(ipLen(p))
	e.active = true
	switch c.proto {
	case protoUDP:
		e.bytes += int64(p.PayloadLen)
		c.checkHistory(dir == DirOrig, histData, 'D')
	case protoICMP, protoICMPv6:
		if n := p.IPPayloadLen - 8; n > 0 {
			e.bytes += int64(n)
		}
	default:
		e.bytes += int64(p.IPPayloadLen)
	}
	c.lastTs = ts
	c.row.TsEnd = ts
}

// ipLen is the IP packet length as the header says (Zeek's ip_bytes).
func ipLen(p *decode.Packet) int {
	if p.IPTotalLen > 0 {
		return p.IPTotalLen
	}
	return p.IPHeaderLen + p.IPPayloadLen
}

// fillRow completes the Flow row f from the flow state.
func (c *conn) fillRow(f *Flow) {
	o, r := &c.ep[0], &c.ep[1]
	f.OrigPkts, f.RespPkts = o.pkts, r.pkts
	f.OrigIPBytes, f.RespIPBytes = o.ipBytes, r.ipBytes
	f.LastFrame = c.lastFrame
	f.History = string(c.hist)
	f.Capped = f.Capped || c.capped
	switch c.proto {
	case protoTCP:
		f.OrigBytes, f.RespBytes = o.size(), r.size()
		f.ConnState = c.tcpConnState()
	case protoUDP:
		f.OrigBytes, f.RespBytes = o.bytes, r.bytes
		switch {
		case o.active && r.active:
			f.ConnState = "SF"
		case o.active:
			f.ConnState = "S0"
		case r.active:
			f.ConnState = "SHR"
		default:
			f.ConnState = "OTH"
		}
	default:
		f.OrigBytes, f.RespBytes = o.bytes, r.bytes
		f.ConnState = "OTH"
	}
}

// tcpConnState is Zeek's conn_state() from base/protocols/conn/main.zeek.
func (c *conn) tcpConnState() string {
	os, rs := c.ep[0].state, c.ep[1].state
	oInactive := os == stInactive || os == stPartial
	rInactive := rs == stInactive || rs == stPartial
	switch {
	case rs == stReset:
		if os == stSynSent || os == stSynAckSent || (os == stReset && c.ep[0].size() == 0 && c.ep[1].size() == 0) {
			return "REJ"
		}
		if oInactive {
			return "RSTRH"
		}
		return "RSTR"
	case os == stReset:
		if rInactive {
			if rstos0(c.hist) {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == stClosed && os == stClosed:
		return "SF"
	case os == stClosed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == stClosed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == stSynSent && rs == stInactive:
		return "S0"
	case os == stEstablished && rs == stEstablished:
		return "S1"
	}
	return "OTH"
}

// rstos0 matches Zeek's /\^?S[^HAFGIQ]*R.*/ against the history.
func rstos0(h []byte) bool {
	i := 0
	if i < len(h) && h[i] == '^' {
		i++
	}
	if i >= len(h) || h[i] != 'S' {
		return false
	}
	for i++; i < len(h); i++ {
		switch h[i] {
		case 'R':
			return true
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		}
	}
	return false
}
