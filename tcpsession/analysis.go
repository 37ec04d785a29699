package tcpsession

import (
	"github.com/pcapq/pcapq/decode"
)

// tshark tcp.analysis flags (TCP_A_* in packet-tcp.c).
const (
	taRetransmission uint32 = 1 << iota
	taLostPacket
	taAckLostPacket
	taKeepAlive
	taDuplicateAck
	taZeroWindow
	taZeroWindowProbe
	taZeroWindowProbeAck
	taKeepAliveAck
	taOutOfOrder
	taFastRetransmission
	taWindowUpdate
	taWindowFull
	taSpuriousRetransmission
)

// maxUnacked bounds the per-direction list of unacknowledged segments kept
// to find the original of a retransmission (tshark keeps up to 10000).
const maxUnacked = 1024

type unacked struct {
	seq, nextseq uint32
	frame, ts    int64
}

// taState is tshark's per-direction tcp_analysis state (struct tcp_flow_t
// and tcp_analyze_seq_flow_info_t). Sequence numbers are raw, as
// tcp_analyze_sequence_number sees them.
type taState struct {
	baseSet         bool
	winScale        int8 // -1 unknown, -2 no scaling
	base            uint32
	nextseq         uint32
	maxseqtobeacked uint32
	lastack         uint32
	window          uint32
	lastSegFlags    uint32
	dupacknum       int32
	nextseqFrame    int64
	nextseqTime     int64
	lastackTime     int64
	lastnondupack   int64
	segs            []unacked
}

func (s *taState) init() {
	s.window = 0xffffffff
	s.winScale = -1
}

func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

const (
	ms          = int64(1e6)
	fastRtxWait = 20 * ms
	oooDefault  = 3 * ms
)

// analyze runs tshark's tcp_analyze_sequence_number for a packet sent by
// endpoint ei and emits tcp_events.
func (t *Tracker) analyze(c *conn, ei int, frame, ts int64, p *decode.Packet, dir Dir) {
	fwd, rev := &c.ep[ei].ta, &c.ep[1-ei].ta
	fl := p.TCPFlags
	syn, fin, rst, ackf := fl&decode.FlagSYN != 0, fl&decode.FlagFIN != 0, fl&decode.FlagRST != 0, fl&decode.FlagACK != 0
	sfr := syn || fin || rst
	seq, ack := p.Seq, p.Ack
	seglen := uint32(max(p.PayloadLen, 0))
	win := uint32(p.Win)

	// Window scale and initial RTT, as dissect_tcp does before the analysis.
	if syn {
		if p.WScale >= 0 {
			fwd.winScale = p.WScale
		} else {
			fwd.winScale = -2
		}
		if ackf {
			c.synAckSeen = true
			if fwd.winScale == -2 || rev.winScale == -2 {
				fwd.winScale, rev.winScale = -2, -2
			}
		} else {
			c.mruSyn = ts
			e := &c.ep[ei]
			if e.synSeen && e.synSeq == seq {
				c.row.SYNRetries++
				t.emit(c, frame, ts, dir, KindSYNRetry, seq-fwd.base, int(seglen), c.synFrame, ts-c.synTs)
			} else {
				e.synSeen, e.synSeq = true, seq
				c.synFrame, c.synTs = frame, ts
			}
		}
	} else if ackf && !rst && c.synAckSeen && c.mruSyn != 0 && c.firstRTT == 0 {
		c.firstRTT = ts - c.mruSyn
		c.row.HandshakeRTTNs = c.firstRTT
	}

	var ta uint32
	if !fwd.baseSet {
		fwd.base = seq - 1
		if syn {
			fwd.base = seq
		}
		fwd.baseSet = true
	}
	if !rev.baseSet && ackf {
		rev.base = ack - 1
		rev.baseSet = true
	}

	func() {
		if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
			ta |= taZeroWindowProbe
			return
		}
		if win == 0 && !sfr {
			ta |= taZeroWindow
		}
		if fwd.nextseq != 0 && seqGT(seq, fwd.nextseq) && !rst {
			ta |= taLostPacket
		}
		if seglen <= 1 && seq == fwd.nextseq-1 && !sfr {
			ta |= taKeepAlive
		}
		if seglen == 0 && win != 0 && win != fwd.window && seq == fwd.nextseq && ack == fwd.lastack && !sfr {
			ta |= taWindowUpdate
		}
		if seglen > 0 && rev.winScale != -1 && !sfr {
			shift := uint(0)
			if rev.winScale > 0 {
				shift = uint(rev.winScale)
			}
			if seq+seglen == rev.lastack+rev.window<<shift {
				ta |= taWindowFull
			}
		}
		if seglen == 0 && win != 0 && win == fwd.window && seq == fwd.nextseq && ack == fwd.lastack &&
			rev.lastSegFlags&taKeepAlive != 0 && !sfr {
			ta |= taKeepAliveAck
			return
		}
		if seglen == 0 && win == 0 && win == fwd.window && seq == fwd.nextseq && ack == fwd.lastack &&
			rev.lastSegFlags&taZeroWindowProbe != 0 && !sfr {
			ta |= taZeroWindowProbeAck
			return
		}
		if seglen == 0 && win != 0 && win == fwd.window && seq == fwd.nextseq && ack == fwd.lastack && !sfr {
			if fwd.dupacknum == -1 {
				fwd.dupacknum = 1
			} else {
				fwd.dupacknum++
			}
			ta |= taDuplicateAck
		}
	}()

	// finished_fwd:
	if ack != fwd.lastack {
		fwd.lastnondupack = frame
		fwd.dupacknum = 0
	}
	if rev.maxseqtobeacked != 0 && seqGT(ack, rev.maxseqtobeacked) && ackf {
		if rev.maxseqtobeacked > rev.nextseq {
			rev.maxseqtobeacked = rev.nextseq
			ta |= taAckLostPacket
		} else {
			if rev.dupacknum == 0 {
				ta |= taAckLostPacket
			}
			rev.dupacknum = -1
		}
	}

	if (seglen > 0 || syn || fin) && ta&taKeepAlive == 0 {
		notAdv := fwd.nextseq != 0 && seqLT(seq, fwd.nextseq)
		if seglen > 1 && fwd.nextseq-1 == seq {
			notAdv = false
		}
		switch {
		case seglen > 0 && rev.lastack != 0 && seqLE(seq+seglen, rev.lastack):
			ta |= taSpuriousRetransmission
		case notAdv && rev.dupacknum >= 2 && rev.lastack == seq && ts-rev.lastackTime < fastRtxWait:
			ta |= taFastRetransmission
		default:
			thr := oooDefault
			if c.firstRTT != 0 {
				thr = c.firstRTT
			}
			var synfin uint32
			if syn || fin {
				synfin = 1
			}
			if notAdv && ts-fwd.nextseqTime < thr && fwd.nextseq != seq+seglen+synfin {
				ta |= taOutOfOrder
			} else if notAdv {
				ta |= taRetransmission
			}
		}
	}

	// Original frame of a retransmitted segment, before this one is added.
	var origFrame, origTs int64
	if ta&(taRetransmission|taFastRetransmission|taSpuriousRetransmission) != 0 {
		origFrame, origTs = fwd.findOriginal(seq)
		if origFrame == 0 && ta&taRetransmission != 0 {
			origFrame, origTs = fwd.nextseqFrame, fwd.nextseqTime
		}
	}

	// finished_checking_retransmission_type:
	nextseq := seq + seglen
	if seglen > 0 || syn || fin {
		if syn || fin {
			nextseq++
		}
		if len(fwd.segs) < maxUnacked {
			fwd.segs = append(fwd.segs, unacked{seq: seq, nextseq: nextseq, frame: frame, ts: ts})
		}
	}
	if seqGT(nextseq, fwd.nextseq) || fwd.nextseq == 0 {
		if ta&taZeroWindowProbe == 0 {
			fwd.nextseq = nextseq
			fwd.nextseqFrame = frame
			fwd.nextseqTime = ts
		}
	}
	if seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0 {
		if ta&taZeroWindowProbe == 0 {
			fwd.maxseqtobeacked = fwd.nextseq
		}
	}
	fwd.window = win
	fwd.lastack = ack
	fwd.lastackTime = ts
	fwd.lastSegFlags = ta

	// Remove the reverse direction's segments this packet acknowledges.
	k := 0
	for i := range rev.segs {
		u := rev.segs[i]
		switch {
		case ack == u.nextseq:
			continue
		case seqGT(ack, u.seq) && seqLE(ack, u.nextseq):
			u.seq = ack
		case seqGT(u.nextseq, ack):
		default:
			continue
		}
		rev.segs[k] = u
		k++
	}
	rev.segs = rev.segs[:k]

	if ta == 0 && !rst {
		return
	}
	rel := seq - fwd.base
	n := int(seglen)
	since := int64(-1)
	if origFrame != 0 {
		since = ts - origTs
	}
	// One event per flagged kind, most specific first.
	switch {
	case ta&taSpuriousRetransmission != 0:
		c.row.Retransmits++
		t.emit(c, frame, ts, dir, KindSpuriousRetransmission, rel, n, origFrame, since)
	case ta&taFastRetransmission != 0:
		c.row.Retransmits++
		t.emit(c, frame, ts, dir, KindFastRetransmission, rel, n, origFrame, since)
	case ta&taRetransmission != 0:
		c.row.Retransmits++
		t.emit(c, frame, ts, dir, KindRetransmission, rel, n, origFrame, since)
	case ta&taOutOfOrder != 0:
		t.emit(c, frame, ts, dir, KindOutOfOrder, rel, n, 0, -1)
	}
	if ta&taLostPacket != 0 {
		t.emit(c, frame, ts, dir, KindLostSegment, rel, n, 0, -1)
	}
	if ta&taDuplicateAck != 0 {
		t.emit(c, frame, ts, dir, KindDupAck, rel, n, 0, -1)
	}
	if ta&taZeroWindow != 0 {
		t.emit(c, frame, ts, dir, KindZeroWindow, rel, n, 0, -1)
	}
	if ta&taZeroWindowProbe != 0 {
		t.emit(c, frame, ts, dir, KindZeroWindowProbe, rel, n, 0, -1)
	}
	if ta&taWindowFull != 0 {
		t.emit(c, frame, ts, dir, KindWindowFull, rel, n, 0, -1)
	}
	if ta&taKeepAlive != 0 {
		t.emit(c, frame, ts, dir, KindKeepAlive, rel, n, 0, -1)
	}
	if rst {
		t.emit(c, frame, ts, dir, KindRST, rel, n, 0, -1)
	}
}

// findOriginal returns the frame and time of the unacknowledged segment
// that first carried seq, else the oldest unacknowledged segment (tshark's
// rto_frame), else zero.
func (s *taState) findOriginal(seq uint32) (int64, int64) {
	for _, u := range s.segs {
		if !seqLT(seq, u.seq) && seqLT(seq, u.nextseq) {
			return u.frame, u.ts
		}
	}
	if len(s.segs) > 0 {
		return s.segs[0].frame, s.segs[0].ts
	}
	return 0, 0
}

func (t *Tracker) emit(c *conn, frame, ts int64, dir Dir, kind string, seq uint32, n int, origFrame, since int64) {
	t.stats.Events++
	if origFrame == 0 {
		since = -1
	}
	t.sink.Event(&Event{Frame: frame, Ts: ts, FlowID: c.row.FlowID, Dir: dir, Kind: kind,
		Seq: seq, SegLen: n, OrigFrame: origFrame, SinceOrigNs: since})
}
