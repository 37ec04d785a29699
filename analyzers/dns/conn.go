package dns

import (
	"encoding/binary"
	"strconv"
)

// Row is one row of the dns table: a query paired with its response on one
// flow (Zeek dns.log semantics). Times are nanoseconds since the Unix
// epoch.
type Row struct {
	FlowID      int64  `col:"flow_id"`
	CommunityID string `col:"community_id,omitempty"`
	Ts          int64  `col:"ts"`                    // capture time of the first message of the pair
	QueryFrame  int64  `col:"query_frame,omitempty"` // 0: query not seen
	RespFrame   int64  `col:"resp_frame,omitempty"`  // 0: response not seen
	Proto       string `col:"proto"`
	TransID     uint16 `col:"trans_id"`

	HasQuestion bool   // a question was read (query, qclass, qtype valid)
	Query       string `col:"query,null=HasQuestion"`
	QClass      uint16 `col:"qclass,null=HasQuestion"`
	QType       uint16 `col:"qtype,null=HasQuestion"`

	HasRcode bool     // a response was seen
	Rcode    uint16   `col:"rcode,null=HasRcode"`
	AA       bool     `col:"aa"`
	TC       bool     `col:"tc"`
	RD       bool     `col:"rd"`
	RA       bool     `col:"ra"`
	Z        uint8    `col:"z"`
	Answers  []string `col:"answers,omitempty"`
	TTLs     []uint32 `col:"ttls,omitempty"`    // at most 2^31-1 (RFC 2181: a TTL with the top bit set is 0)
	RTTNs    int64    `col:"rtt_ms,ms,nullneg"` // response time minus query time; -1 unless both were seen
	Rejected bool     `col:"rejected"`
	Missing  string   `col:"missing,omitempty"` // "response" (query unanswered), "request" (response without query) or ""
}

// Sink receives a flow's rows and warnings. Rows are owned by the sink.
type Sink interface {
	Row(r *Row)
	Warning(frame int64, kind, detail string)
}

// Bounds of the pairing state, Zeek's max_pending_msgs and
// max_pending_query_ids: past them the unmatched messages are given up
// (emitted unpaired), as Zeek logs them.
const (
	MaxPendingPerID = 50
	MaxPendingIDs   = 50
)

// Conn is the DNS state of one flow (UDP or TCP): it parses messages and
// pairs responses with queries by transaction id in arrival order (Zeek's
// queue per id). Drive it from one goroutine.
type Conn struct {
	flowID    int64
	community string
	proto     string
	sink      Sink

	queries pendingSet // unanswered queries by id
	replies pendingSet // responses without query by id

	msg Message
	tcp [2]tcpFramer // per direction, TCP only

	good int // messages parsed without error
	bad  int // messages that failed
}

// NewConn returns the DNS state of flow flowID; proto is "udp" or "tcp".
func NewConn(flowID int64, communityID, proto string, sink Sink) *Conn {
	return &Conn{flowID: flowID, community: communityID, proto: proto, sink: sink}
}

// Datagram parses one UDP payload (one message). data is only read during
// the call.
func (c *Conn) Datagram(data []byte, ts, frame int64) { c.message(data, ts, frame) }

// Good reports whether at least one message parsed cleanly: the flow is DNS.
func (c *Conn) Good() bool { return c.good > 0 }

// message handles one whole message.
func (c *Conn) message(data []byte, ts, frame int64) {
	m := &c.msg
	if !Parse(data, m) {
		c.bad++
		c.sink.Warning(frame, m.Err, "DNS message of "+strconv.Itoa(len(data))+" bytes, shorter than its 12-byte header")
		return
	}
	if m.Err != "" {
		c.bad++
		c.sink.Warning(frame, m.Err, "DNS message id "+strconv.Itoa(int(m.ID))+": parsed up to the problem")
	} else {
		c.good++
	}
	if m.Opcode != 0 || m.Err == ErrTooManyQueries {
		// Only standard queries are tracked (as Zeek); a message claiming
		// too many questions is not DNS.
		return
	}
	if !m.QR {
		c.query(m, ts, frame)
	} else {
		c.response(m, ts, frame)
	}
}

func (c *Conn) newRow(id uint16, ts int64) *Row {
	return &Row{FlowID: c.flowID, CommunityID: c.community, Proto: c.proto, TransID: id, Ts: ts, RTTNs: -1}
}

func (c *Conn) query(m *Message, ts, frame int64) {
	r := c.replies.pop(m.ID)
	if r == nil {
		r = c.newRow(m.ID, ts)
	}
	r.QueryFrame = frame
	c.fillQuery(r, m)
	if r.RespFrame != 0 {
		// A response seen first now has its query: Zeek logs it then.
		r.Missing = ""
		c.sink.Row(r)
		return
	}
	if lost := c.queries.push(m.ID, r); lost != nil {
		c.giveUp(lost)
	}
}

func (c *Conn) fillQuery(r *Row, m *Message) {
	if m.HasQuestion {
		r.HasQuestion = true
		r.Query, r.QType, r.QClass = m.QName, m.QType, m.QClass
	}
	r.RD = m.RD
	r.TC = r.TC || m.TC
	r.Z = m.Z
}

func (c *Conn) response(m *Message, ts, frame int64) {
	r := c.queries.pop(m.ID)
	paired := r != nil
	if r == nil {
		r = c.newRow(m.ID, ts)
		if m.HasQuestion {
			r.HasQuestion = true
			r.Query, r.QType, r.QClass = m.QName, m.QType, m.QClass
		}
		r.RD, r.Z = m.RD, m.Z
	}
	r.RespFrame = frame
	r.HasRcode = true
	r.Rcode = uint16(m.Rcode)
	r.AA, r.RA = m.AA, m.RA
	r.TC = r.TC || m.TC
	r.Answers = append([]string(nil), m.Answers...)
	r.TTLs = make([]uint32, len(m.TTLs))
	for i, ttl := range m.TTLs {
		if ttl < 1<<31 { // RFC 2181 section 8: a TTL with the top bit set counts as 0
			r.TTLs[i] = ttl
		}
	}
	// Zeek: dns_rejected when a response carries no records at all, and
	// rejected when an error code comes without a question.
	if m.ANCount == 0 && m.NSCount == 0 && m.ARCount == 0 && m.QDCount > 0 {
		r.Rejected = true
	}
	if m.Rcode != 0 && m.QDCount == 0 {
		r.Rejected = true
	}
	if paired {
		r.RTTNs = ts - r.Ts
		c.sink.Row(r)
		return
	}
	r.Missing = "request"
	if lost := c.replies.push(m.ID, r); lost != nil {
		c.giveUp(lost)
	}
}

// giveUp emits rows that will never be paired.
func (c *Conn) giveUp(rows []*Row) {
	for _, r := range rows {
		if r.RespFrame == 0 {
			r.Missing = "response"
		} else {
			r.Missing = "request"
		}
		c.sink.Row(r)
	}
}

// Close ends the flow: a TCP message cut short is parsed as far as it
// goes (as Zeek flushes it), then unanswered queries and unsolicited
// responses are emitted, in the order they were seen.
func (c *Conn) Close(ts int64) {
	for d := range c.tcp {
		f := &c.tcp[d]
		if f.have > 0 {
			c.sink.Warning(f.frame, ErrTCPTruncated, "DNS over TCP: connection ended "+strconv.Itoa(f.need-f.have)+" bytes before the end of a message")
			if f.have >= 12 {
				c.message(f.buf[:f.have], f.ts, f.frame)
			}
			f.reset()
		}
	}
	rows := append(c.queries.drain(), c.replies.drain()...)
	// Seen order: by the frame of the message that opened the row.
	sortRows(rows)
	c.giveUp(rows)
}

func firstFrame(r *Row) int64 {
	if r.QueryFrame != 0 && (r.RespFrame == 0 || r.QueryFrame < r.RespFrame) {
		return r.QueryFrame
	}
	return r.RespFrame
}

func sortRows(rows []*Row) {
	// insertion sort: at most MaxPendingIDs*MaxPendingPerID rows, nearly sorted
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && firstFrame(rows[j]) < firstFrame(rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// pendingSet is a FIFO of rows per transaction id, bounded like Zeek's.
type pendingSet struct {
	m     map[uint16][]*Row
	order []uint16 // ids in first-use order, for deterministic draining
}

// push adds r; it returns rows given up to stay within the bounds.
func (s *pendingSet) push(id uint16, r *Row) (lost []*Row) {
	if s.m == nil {
		s.m = make(map[uint16][]*Row)
	}
	q, ok := s.m[id]
	if !ok {
		if len(s.m) >= MaxPendingIDs {
			lost = s.drain()
			s.m = make(map[uint16][]*Row)
		}
		s.order = append(s.order, id)
	} else if len(q) >= MaxPendingPerID {
		lost = q
		q = nil
	}
	s.m[id] = append(q, r)
	return lost
}

func (s *pendingSet) pop(id uint16) *Row {
	q := s.m[id]
	if len(q) == 0 {
		return nil
	}
	r := q[0]
	q[0] = nil
	if len(q) == 1 {
		delete(s.m, id)
		for i, v := range s.order {
			if v == id {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
	} else {
		s.m[id] = q[1:]
	}
	return r
}

func (s *pendingSet) drain() []*Row {
	var out []*Row
	for _, id := range s.order {
		out = append(out, s.m[id]...)
	}
	s.m, s.order = nil, nil
	return out
}

// tcpFramer reassembles length-prefixed DNS messages of one TCP direction.
type tcpFramer struct {
	buf   []byte
	lenb  [2]byte
	nlen  int // bytes of the length prefix read
	need  int // message length
	have  int
	ts    int64
	frame int64
	dead  bool // a gap lost the framing: the rest of the direction is skipped
}

func (f *tcpFramer) reset() { f.nlen, f.need, f.have = 0, 0, 0 }

// Stream feeds in-order TCP bytes of direction d (0 = originator,
// 1 = responder). Messages are at most 65535 bytes by their 2-byte
// length, so the buffer is bounded.
func (c *Conn) Stream(d int, data []byte, ts, frame int64) {
	f := &c.tcp[d&1]
	for len(data) > 0 && !f.dead {
		if f.nlen < 2 {
			f.lenb[f.nlen] = data[0]
			f.nlen++
			data = data[1:]
			if f.nlen == 2 {
				f.need = int(binary.BigEndian.Uint16(f.lenb[:]))
				f.have = 0
				f.ts, f.frame = ts, frame
				if cap(f.buf) < f.need {
					f.buf = make([]byte, f.need)
				}
				f.buf = f.buf[:f.need]
				if f.need == 0 {
					f.reset()
				}
			}
			continue
		}
		n := copy(f.buf[f.have:f.need], data)
		f.have += n
		data = data[n:]
		if f.have == f.need {
			c.message(f.buf[:f.need], ts, frame) // the segment completing it, as tshark shows it
			f.reset()
		}
	}
}

// Gap reports n lost bytes of direction d: the message being read is
// dropped and the framing is lost for the rest of the direction (a length
// prefix cannot be found again reliably).
func (c *Conn) Gap(d int, n int64, frame int64) {
	f := &c.tcp[d&1]
	if f.dead {
		return
	}
	c.sink.Warning(frame, ErrTCPGap, "DNS over TCP: "+strconv.FormatInt(n, 10)+" bytes missing; the rest of this direction is not parsed")
	f.reset()
	f.dead = true
}
