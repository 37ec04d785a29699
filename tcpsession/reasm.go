package tcpsession

import "strconv"

// maxSegs bounds the number of out-of-order segments buffered per
// direction, whatever their size (a flood of 1-byte segments is bounded
// too).
const maxSegs = 4096

// seg is a buffered out-of-order segment: bytes [rel, end) of the
// direction's relative sequence space. data holds the bytes, or is nil
// when the flow has no StreamHandler (only the range is tracked then).
type seg struct {
	rel, end  int64
	data      []byte
	frame, ts int64
}

// reasm is one direction's reassembly state: the next relative sequence
// number to deliver and the buffered segments beyond it, sorted and not
// overlapping.
type reasm struct {
	next     int64
	segs     []seg
	buffered int64 // bytes held in segs[].data
}

// restartStream drops what direction i buffered and restarts delivery at
// relative sequence 1 (a new sequence space was initialised).
func (t *Tracker) restartStream(c *conn, i int) {
	r := &c.ep[i].rs
	t.stats.BufferedBytes -= r.buffered
	r.buffered = 0
	clear(r.segs)
	r.segs = r.segs[:0]
	r.next = 1
}

// established is Zeek's test for reporting content gaps (both endpoints
// past the handshake; gaps of partial connections are not reported).
func gapReportable(a, b *endpoint) bool {
	ok := func(e *endpoint) bool {
		return e.state == stSynSent || e.state == stEstablished || (e.state == stClosed && e.prevState != stPartial && e.prevState != stInactive)
	}
	return ok(a) && ok(b)
}

func (t *Tracker) deliver(c *conn, i int, data []byte, ts, frame int64) {
	if len(data) > 0 {
		if h := t.handler(c); h != nil {
			h.Data(Dir(i+1), data, ts, frame)
		}
	}
}

// gap reports n missing bytes of direction i. counted gaps go into
// missed_bytes and the history (G/g) as Zeek's content_gap does.
func (t *Tracker) gap(c *conn, i int, n int64, counted bool, ts, frame int64) {
	if n <= 0 {
		return
	}
	t.stats.GapBytes += n
	if counted {
		c.row.MissedBytes += n
		e := &c.ep[i]
		c.scaledHistory(i == 0, 'G', &e.gapCnt, &e.gapThr)
	}
	if h := t.handler(c); h != nil {
		h.Gap(Dir(i+1), n, ts, frame)
	}
}

// deliverSeg delivers buffered segment s (whose rel is <= next) and
// advances next past it.
func (t *Tracker) deliverSeg(c *conn, i int, s *seg) {
	r := &c.ep[i].rs
	t.stats.BufferedBytes -= int64(len(s.data))
	r.buffered -= int64(len(s.data))
	if s.end <= r.next {
		return
	}
	data := s.data
	if skip := r.next - s.rel; skip > 0 {
		if skip >= int64(len(data)) {
			data = nil
		} else {
			data = data[skip:]
		}
	}
	t.deliver(c, i, data, s.ts, s.frame)
	r.next = s.end
}

// popFront removes the first buffered segment.
func (r *reasm) popFront() seg {
	s := r.segs[0]
	copy(r.segs, r.segs[1:])
	r.segs[len(r.segs)-1] = seg{}
	r.segs = r.segs[:len(r.segs)-1]
	return s
}

// deliverContiguous delivers buffered segments that now start at or
// before next.
func (t *Tracker) deliverContiguous(c *conn, i int) {
	r := &c.ep[i].rs
	for len(r.segs) > 0 && r.segs[0].rel <= r.next {
		s := r.popFront()
		t.deliverSeg(c, i, &s)
	}
}

// dataSent handles length payload bytes at relative sequence rel sent by
// endpoint i; data is the captured part (valid only during the call).
func (t *Tracker) dataSent(c *conn, i int, rel int64, data []byte, length int64, frame, ts int64) {
	e := &c.ep[i]
	r := &e.rs
	// Bytes the snap length cut off were not seen: they stay a hole until
	// an ack reveals it, as in Zeek (which hands only captured bytes to its
	// reassembler).
	if int64(len(data)) < length {
		length = int64(len(data))
	}
	data = data[:length]
	end := rel + length
	if end <= r.next {
		return // all seen before
	}
	if rel <= r.next && len(r.segs) == 0 {
		// Fast path: in order, nothing buffered. No allocation.
		t.deliver(c, i, data[r.next-rel:], ts, frame)
		r.next = end
		return
	}
	t.insert(c, i, rel, end, data, frame, ts)
	t.deliverContiguous(c, i)
	t.enforceBounds(c, i, frame, ts)
}

// insert buffers [rel, end) minus what is already buffered (the first copy
// of overlapping data wins; a different second copy is warned about).
func (t *Tracker) insert(c *conn, i int, rel, end int64, data []byte, frame, ts int64) {
	r := &c.ep[i].rs
	if rel < r.next {
		skip := r.next - rel
		if skip >= int64(len(data)) {
			data = nil
		} else {
			data = data[skip:]
		}
		rel = r.next
	}
	keep := c.stream != nil || c.streamPending
	cur := rel
	add := func(from, to int64) {
		if from >= to {
			return
		}
		s := seg{rel: from, end: to, frame: frame, ts: ts}
		if keep {
			lo, hi := from-rel, min(to-rel, int64(len(data)))
			if lo < hi {
				s.data = append([]byte(nil), data[lo:hi]...)
				r.buffered += int64(len(s.data))
				t.stats.BufferedBytes += int64(len(s.data))
				if t.stats.BufferedBytes > t.stats.PeakBufferedBytes {
					t.stats.PeakBufferedBytes = t.stats.BufferedBytes
				}
			}
		}
		// insert sorted
		j := len(r.segs)
		for j > 0 && r.segs[j-1].rel > from {
			j--
		}
		r.segs = append(r.segs, seg{})
		copy(r.segs[j+1:], r.segs[j:])
		r.segs[j] = s
	}
	// Walk the existing segments overlapping [rel, end).
	n := len(r.segs)
	for k := 0; k < n && cur < end; k++ {
		s := r.segs[k]
		if s.end <= cur {
			continue
		}
		if s.rel >= end {
			break
		}
		if s.rel > cur {
			add(cur, s.rel)
			// add inserted before k: the segment we looked at moved.
			k++
			n++
		}
		// Overlap [max(cur,s.rel), min(end,s.end)): compare bytes.
		lo, hi := max(cur, s.rel), min(end, s.end)
		if keep && !c.warnedRex {
			a0, a1 := lo-s.rel, min(hi-s.rel, int64(len(s.data)))
			b0, b1 := lo-rel, min(hi-rel, int64(len(data)))
			m := min(a1-a0, b1-b0)
			if m > 0 && string(s.data[a0:a0+m]) != string(data[b0:b0+m]) {
				c.warnedRex = true
				t.warn(frame, "rexmit_inconsistency", "flow "+strconv.FormatInt(c.row.FlowID, 10)+": retransmitted data differs from the first copy")
			}
		}
		cur = max(cur, s.end)
	}
	if cur < end {
		add(cur, end)
	}
}

// enforceBounds skips the oldest holes of direction i (and, if the
// tracker's global budget is still exceeded, of other flows) until the
// buffering bounds hold.
func (t *Tracker) enforceBounds(c *conn, i int, frame, ts int64) {
	r := &c.ep[i].rs
	for len(r.segs) > 0 && (r.buffered > t.opts.MaxFlowBuffered || len(r.segs) > maxSegs || t.stats.BufferedBytes > t.opts.MaxBufferedBytes) {
		t.skipHole(c, i, frame, ts)
	}
	if t.stats.BufferedBytes <= t.opts.MaxBufferedBytes {
		return
	}
	// Global budget: flush the least recently active flows holding data.
	for cl := range t.lru {
		for o := t.lru[cl].tail; o != nil && t.stats.BufferedBytes > t.opts.MaxBufferedBytes; o = o.prev {
			for j := range o.ep {
				for len(o.ep[j].rs.segs) > 0 && t.stats.BufferedBytes > t.opts.MaxBufferedBytes {
					t.skipHole(o, j, frame, ts)
				}
			}
		}
	}
}

// skipHole gives up on the hole before the first buffered segment of
// direction i: it is reported as a gap and the data after it delivered.
func (t *Tracker) skipHole(c *conn, i int, frame, ts int64) {
	r := &c.ep[i].rs
	n := r.segs[0].rel - r.next
	if !c.capped {
		c.capped = true
		t.warn(frame, "reassembly_buffer_limit", "flow "+strconv.FormatInt(c.row.FlowID, 10)+": out-of-order data over the buffering bound, skipping a hole")
	}
	t.stats.SkippedBytes += n
	t.gap(c, i, n, gapReportable(&c.ep[i], &c.ep[1-i]), ts, frame)
	r.next = r.segs[0].rel
	t.deliverContiguous(c, i)
}

// ackReceived handles the peer acknowledging relative sequence relAck of
// direction i (Zeek's TCP_Reassembler::AckReceived): unseen data below
// the ack is a content gap.
func (t *Tracker) ackReceived(c *conn, i int, relAck int64, frame, ts int64) {
	e := &c.ep[i]
	if !e.initd || e.state == stInactive {
		return
	}
	r := &e.rs
	up := relAck
	if e.finCnt > 0 && up > e.finRel-1 {
		up = e.finRel - 1
	}
	if up <= r.next {
		return
	}
	if up <= 2 && (e.state == stPartial || c.ep[1-i].state == stPartial) {
		return
	}
	counted := gapReportable(e, &c.ep[1-i]) && e.state != stReset && c.ep[1-i].state != stReset
	for r.next < up {
		if len(r.segs) > 0 && r.segs[0].rel <= r.next {
			s := r.popFront()
			t.deliverSeg(c, i, &s)
			continue
		}
		hole := up
		if len(r.segs) > 0 && r.segs[0].rel < up {
			hole = r.segs[0].rel
		}
		t.gap(c, i, hole-r.next, counted, ts, frame)
		r.next = hole
	}
	t.deliverContiguous(c, i)
}

// flushAll delivers everything buffered for direction i, reporting holes
// as gaps (not counted as missed bytes: Zeek does not either).
func (t *Tracker) flushAll(c *conn, i int, frame, ts int64) {
	r := &c.ep[i].rs
	for len(r.segs) > 0 {
		if r.segs[0].rel > r.next {
			t.gap(c, i, r.segs[0].rel-r.next, false, ts, frame)
			r.next = r.segs[0].rel
		}
		s := r.popFront()
		t.deliverSeg(c, i, &s)
	}
}
