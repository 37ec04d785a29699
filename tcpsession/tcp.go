package tcpsession

import (
	"math"

	"github.com/pcapq/pcapq/decode"
)

// processTCP runs Zeek's TCP endpoint state machine (TCPSessionAdapter::
// Process), the tshark analysis and reassembly for one packet. It returns
// the packet's direction, which changes when the packet flips the roles.
func (t *Tracker) processTCP(c *conn, frame, ts int64, p *decode.Packet, dir Dir) Dir {
	f := p.TCPFlags
	syn, fin, rst, ack := f&decode.FlagSYN != 0, f&decode.FlagFIN != 0, f&decode.FlagRST != 0, f&decode.FlagACK != 0
	length := p.PayloadLen
	if length < 0 {
		length = 0
	}
	ei := int(dir - 1)
	e, peer := &c.ep[ei], &c.ep[1-ei]
	e.pkts++
	e.ipBytes += int64(ipLen(p))
	c.lastFrame = frame

	t.analyze(c, ei, frame, ts, p, dir)

	segLen := length
	if syn {
		segLen++
	}
	if fin {
		segLen++
	}
	if rst {
		segLen -= length
	}
	seqEnd := p.Seq + uint32(segLen)

	// init_endpoint
	oldStart, wasInit := e.start, e.initd
	switch e.state {
	case stInactive:
		if syn {
			e.initSeq(p.Seq, seqEnd)
		} else {
			e.initSeq(p.Seq-1, p.Seq)
		}
	case stSynSent, stSynAckSent:
		if syn && p.Seq != e.start {
			e.initSeq(p.Seq, seqEnd)
		}
	case stEstablished, stPartial:
		if syn {
			e.initSeq(p.Seq, seqEnd)
		}
	case stReset:
		if syn && e.prevState == stInactive {
			e.initSeq(p.Seq, seqEnd)
		}
	}
	if !wasInit || oldStart != e.start {
		t.restartStream(c, ei)
	}

	relSeq := e.rel(p.Seq)
	underflow := relSeq < 0

	orig := ei == 0
	c.updateHistory(orig, f, relSeq, length)
	if p.Win == 0 && !rst && peer.state != stClosed && e.state != stReset {
		c.scaledHistory(orig, 'W', &e.win0Cnt, &e.win0Thr)
	}
	if !(c.ep[0].didClose && c.ep[1].didClose) {
		c.lastTs = ts
		c.row.TsEnd = ts
	}
	if fin {
		if e.finCnt < math.MaxUint32 {
			e.finCnt++
		}
		e.finRel = relSeq + int64(segLen)
	}
	var relAck int64
	if ack {
		if peer.state == stInactive {
			relAck = 1
			peer.initSeq(p.Ack-1, p.Ack-1)
			t.restartStream(c, 1-ei)
		} else {
			relAck = peer.relAck(p.Ack)
			if relAck < 0 {
				relAck = 0
			} else if !rst {
				d := int32(p.Ack - peer.ackRaw)
				if !(p.Ack == 0 && d > tooLargeSeqDelta) && d > 0 {
					peer.ackRaw = p.Ack
					peer.ackRel += int64(d)
				}
			}
		}
	}

	// update_last_seq
	deltaLast := int32(seqEnd - e.lastRaw)
	switch {
	case (syn || rst) && (deltaLast > tooLargeSeqDelta || deltaLast < -tooLargeSeqDelta):
	case fin && e.lastRaw == e.start+1:
		e.lastRel += int64(deltaLast)
		e.lastRaw = seqEnd
	case e.state == stReset:
	case deltaLast > 0:
		e.lastRel += int64(deltaLast)
		e.lastRaw = seqEnd
	case length > 0:
		c.scaledHistory(orig, 'T', &e.rxmtCnt, &e.rxmtThr)
	}

	doClose, flipped := t.stateMachine(c, e, peer, orig, ts, p, length)
	if flipped {
		ei = 1 - ei
		e, peer = &c.ep[ei], &c.ep[1-ei]
		dir = Dir(ei + 1)
	}
	if ack {
		t.ackReceived(c, 1-ei, relAck, frame, ts)
	}
	if length > 0 && !rst && !underflow {
		rel := relSeq
		if syn {
			rel++
		}
		t.dataSent(c, ei, rel, p.Payload, int64(length), frame, ts)
	}
	if doClose && !e.didClose {
		e.didClose = true
		if e.state == stReset || peer.didClose || peer.state == stInactive {
			c.deleteAt = c.lastTs + closeDelay
			t.touch(c, classClosing)
		}
	}
	if c.stream != nil && c.class == classClosing {
		t.closeStreamEarly(c)
	}
	return dir
}

// closeStreamEarly closes c's stream as soon as both directions ended
// with a FIN and every byte before each FIN was delivered, instead of when
// the flow ends closeDelay later: nothing more can reach the parser (acks
// stop at the FIN, so no gap can be found; later data is a duplicate), so
// the rows are the same, and a capture of many short connections does not
// hold a parser per connection through the close delay. Reset streams
// wait for the flow's end, as the peer's data in flight is still
// delivered.
func (t *Tracker) closeStreamEarly(c *conn) {
	for i := range c.ep {
		e := &c.ep[i]
		if e.finCnt == 0 || e.state == stReset || len(e.rs.segs) > 0 || e.rs.next < e.finRel-1 {
			return
		}
	}
	c.row.Service = c.stream.Service()
	c.stream.Close(c.lastTs)
	c.stream = nil
}

// updateHistory is Zeek's update_history.
func (c *conn) updateHistory(orig bool, f uint16, rel int64, length int) {
	e := &c.ep[0]
	if !orig {
		e = &c.ep[1]
	}
	syn, fin, rst := f&decode.FlagSYN != 0, f&decode.FlagFIN != 0, f&decode.FlagRST != 0
	bits := 0
	for _, b := range [3]bool{syn, fin, rst} {
		if b {
			bits++
		}
	}
	switch {
	case bits > 1:
		if fin && rst {
			c.checkHistory(orig, histFINRST, 'I')
		} else {
			c.checkHistory(orig, histMulti, 'Q')
		}
	case syn:
		code := byte('S')
		if f&decode.FlagACK != 0 {
			code = 'H'
		}
		if c.checkHistory(orig, histSYN, code) && rel != e.histLastSYN {
			c.addHistory(orig, code)
		}
		e.histLastSYN = rel
	case fin:
		if c.checkHistory(orig, histFIN, 'F') && rel+int64(length) != e.histLastFIN {
			c.addHistory(orig, 'F')
		}
		e.histLastFIN = rel + int64(length)
	case rst:
		if c.checkHistory(orig, histRST, 'R') && rel != e.histLastRST {
			c.addHistory(orig, 'R')
		}
		e.histLastRST = rel
	default:
		if length > 0 {
			c.checkHistory(orig, histData, 'D')
		} else if f&decode.FlagACK != 0 {
			c.checkHistory(orig, histAck, 'A')
		}
	}
}

// stateMachine is Zeek's UpdateStateMachine. It reports whether the
// packet closes its side and whether the roles were flipped.
func (t *Tracker) stateMachine(c *conn, e, peer *endpoint, isOrig bool, ts int64, p *decode.Packet, length int) (doClose, flipped bool) {
	f := p.TCPFlags
	syn, fin, rst, ack := f&decode.FlagSYN != 0, f&decode.FlagFIN != 0, f&decode.FlagRST != 0, f&decode.FlagACK != 0
	switch e.state {
	case stInactive:
		if syn {
			if isOrig {
				if ack {
					e.setState(stSynAckSent)
				} else {
					e.setState(stSynSent)
				}
				c.attemptAt = ts + closeDelay
			} else {
				if !ack && peer.state == stSynAckSent && p.Seq == e.start {
					// SYN/SYN-ACK reversal: flip and establish.
					c.flip()
					c.addHistory(true, '^')
					flipped = true
					// After the swap e and peer point at each other's slots.
					e, peer = peer, e
					peer.setState(stEstablished)
				}
				if peer.state == stSynSent {
					peer.setState(stEstablished)
				}
				e.setState(stEstablished)
			}
		}
		if fin {
			e.setState(stClosed)
			doClose = true
		}
		if rst {
			e.setState(stReset)
			doClose = true
		}
		if e.state == stInactive {
			switch {
			case !isOrig && length == 0 && c.ep[0].state == stSynSent:
			case ack && peer.state == stEstablished:
				e.setState(stEstablished)
			default:
				e.setState(stPartial)
			}
		}
	case stSynSent, stSynAckSent:
		if fin {
			e.setState(stClosed)
			doClose = true
		}
		if rst {
			e.setState(stReset)
			doClose = true
		}
	case stEstablished, stPartial:
		if syn && e.state == stPartial && peer.state == stInactive && !ack {
			e.setState(stSynSent)
		}
		if fin && !rst {
			e.setState(stClosed)
			if peer.state == stReset && peer.prevState == stClosed {
				peer.setState(stClosed)
			}
			doClose = true
		}
		if rst {
			e.setState(stReset)
			doClose = true
		}
	case stClosed:
		if rst && peer.state != stClosed {
			e.setState(stReset)
			if !e.didClose {
				doClose = true
			}
		}
	case stReset:
	}
	return doClose, flipped
}
