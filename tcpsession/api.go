package tcpsession

import (
	"net/netip"

	"github.com/pcapq/pcapq/decode"
)

// Dir is the direction of a packet within its flow.
type Dir uint8

const (
	DirNone Dir = iota // packet belongs to no flow (not IP, or no transport)
	DirOrig            // from the originator (Zeek's "orig")
	DirResp            // from the responder
)

func (d Dir) String() string {
	switch d {
	case DirOrig:
		return "orig"
	case DirResp:
		return "resp"
	}
	return ""
}

// Options configure a Tracker. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	// TCPIdleTimeout evicts a TCP flow after this much capture time
	// (nanoseconds) without packets. Zeek's tcp_inactivity_timeout is 5 min.
	TCPIdleTimeout int64
	// UDPIdleTimeout / ICMPIdleTimeout end UDP and ICMP flows (Zeek: 1 min).
	UDPIdleTimeout  int64
	ICMPIdleTimeout int64
	// MaxBufferedBytes bounds the out-of-order bytes buffered by one Tracker
	// across all its flows; MaxFlowBuffered bounds one direction of one flow.
	// When a bound is hit, the oldest buffered data is skipped as a gap and
	// the flow is marked (a warning is emitted), never silently wrong.
	MaxBufferedBytes int64
	MaxFlowBuffered  int64
	// MaxFlows bounds live flows per Tracker (a live TCP flow costs about
	// 1.1 KB: 1 KB of state, its map entry and Community ID). Past it, a closed connection or unanswered attempt waiting
	// out the close delay ends early (counted, one summary warning);
	// failing that, the least recently active flow is evicted (marked and
	// warned). The ingest pipeline splits its total across its shards.
	MaxFlows int
	// NewStream, when not nil, is called for every new TCP flow and receives
	// its reassembled byte streams. It may return nil to skip the flow.
	NewStream func(f *FlowInfo) StreamHandler
}

// DefaultOptions returns sensible defaults (bounded memory).
func DefaultOptions() Options {
	const sec = int64(1e9)
	return Options{
		TCPIdleTimeout:   300 * sec,
		UDPIdleTimeout:   60 * sec,
		ICMPIdleTimeout:  60 * sec,
		MaxBufferedBytes: 64 << 20,
		MaxFlowBuffered:  4 << 20,
		MaxFlows:         1 << 16,
	}
}

// FlowInfo identifies a flow to a StreamHandler.
type FlowInfo struct {
	FlowID      int64 // frame number of the flow's first packet
	CommunityID string
	OrigH       netip.Addr
	OrigP       uint16
	RespH       netip.Addr
	RespP       uint16
}

// StreamHandler receives one TCP connection's reassembled payload, each
// direction in sequence order. Calls for one flow are made from one
// goroutine, in capture order. data is valid only during the call.
type StreamHandler interface {
	// Data delivers the next in-order bytes of direction dir. ts and frame
	// are those of the segment that completed this data.
	Data(dir Dir, data []byte, ts int64, frame int64)
	// Gap reports n bytes of direction dir that were never seen (lost or
	// skipped because a memory bound was hit).
	Gap(dir Dir, n int64, ts int64, frame int64)
	// Close is called once: when both directions ended with a FIN and
	// everything before the FINs was delivered (nothing more can come),
	// otherwise when the flow ends (close delay after a reset, eviction,
	// or the end of the capture). Service is not called after Close.
	Close(ts int64)
	// Service names the protocol recognised on the stream ("http") or "".
	Service() string
}

// Flow is one row of the flows table (Zeek conn.log semantics).
type Flow struct {
	FlowID         int64 // frame number of the first packet
	CommunityID    string
	Proto          string // "tcp", "udp", "icmp", "icmp6", or the IP protocol number as text
	OrigH, RespH   netip.Addr
	OrigP, RespP   uint16 // ICMP: type and code, as Zeek
	HasVLAN        bool
	VLAN           uint16
	TsStart, TsEnd int64 // ns
	OrigPkts       int64
	RespPkts       int64
	OrigBytes      int64 // payload bytes by sequence space (TCP), payload bytes (UDP/ICMP)
	RespBytes      int64
	OrigIPBytes    int64
	RespIPBytes    int64
	MissedBytes    int64
	ConnState      string // S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH (TCP); UDP: SF S0 SHR OTH; ICMP and others: OTH (as Zeek)
	History        string
	SYNRetries     int64
	HandshakeRTTNs int64 // -1 when not seen
	Retransmits    int64
	FirstFrame     int64
	LastFrame      int64
	Service        string
	Evicted        bool // ended by eviction (idle/bounds), not by the capture
	Capped         bool // a buffering bound was hit: some payload was skipped
	// Open is true for a flow still live when the capture ended (Close),
	// or at a Snapshot: not closed by FINs or a reset (a closed connection
	// waiting out the close delay is not open), not evicted.
	Open bool
}

// Event is one row of tcp_events: one flagged segment, tshark tcp.analysis
// semantics.
type Event struct {
	Frame       int64
	Ts          int64
	FlowID      int64
	Dir         Dir
	Kind        string // see Kind* constants
	Seq         uint32 // relative to the direction's ISN when known, else raw
	SegLen      int
	OrigFrame   int64 // frame that first carried this data, 0 when unknown
	SinceOrigNs int64 // -1 when OrigFrame is unknown
}

// Event kinds.
const (
	KindRetransmission         = "retransmission"
	KindFastRetransmission     = "fast_retransmission"
	KindSpuriousRetransmission = "spurious_retransmission"
	KindOutOfOrder             = "out_of_order"
	KindLostSegment            = "lost_segment"
	KindDupAck                 = "dup_ack"
	KindZeroWindow             = "zero_window"
	KindZeroWindowProbe        = "zero_window_probe"
	KindWindowFull             = "window_full"
	KindKeepAlive              = "keep_alive"
	KindSYNRetry               = "syn_retry"
	KindRST                    = "rst"
)

// Sink receives a Tracker's output. Values passed are owned by the sink
// (the tracker does not reuse them after the call).
type Sink interface {
	Flow(f *Flow)
	Event(e *Event)
	Warning(frame int64, kind, detail string)
}

// Compile-time check that the decoder's packet type is what Process takes.
var _ = func(t *Tracker, p *decode.Packet) { t.Process(0, 0, p) }
