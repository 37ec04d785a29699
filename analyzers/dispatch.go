package analyzers

import (
	"github.com/pcapq/pcapq/tcpsession"
)

// maxPeek bounds the bytes a connection's first segments are held for
// while the detectors ask for more (a TLS record header needs 6).
const maxPeek = 64

// Set is the analyzers a pipeline runs, in detection order.
type Set struct {
	tcp      []*Analyzer // with Detect and NewStream
	upgrades map[string]*Analyzer
	udp      []*Analyzer
	udpPorts [1 << 16 / 64]uint64 // bitmap of ports any UDP analyzer wants
}

// NewSet prepares analyzers for a run.
func NewSet(as []*Analyzer) *Set {
	s := &Set{upgrades: map[string]*Analyzer{}}
	for _, a := range as {
		if a.Detect != nil && a.NewStream != nil {
			s.tcp = append(s.tcp, a)
		}
		for _, u := range a.Upgrades {
			s.upgrades[u] = a
		}
		if a.NewDatagram != nil {
			s.udp = append(s.udp, a)
			for _, p := range a.UDPPorts {
				s.udpPorts[p/64] |= 1 << (p % 64)
			}
		}
	}
	return s
}

// HasTCP reports whether any analyzer reads TCP streams.
func (s *Set) HasTCP() bool { return len(s.tcp) > 0 || len(s.upgrades) > 0 }

// NewStream returns the tcpsession.NewStream hook: a dispatcher per
// connection that finds the protocol by content and feeds its analyzer.
func (s *Set) NewStream(env *Env) func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
	if len(s.tcp) == 0 {
		return nil
	}
	return func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
		return &dispatcher{set: s, env: env, info: *f}
	}
}

// chunk is data (or a gap) held while the detectors want more bytes.
type chunk struct {
	dir       tcpsession.Dir
	data      []byte
	gap       int64
	ts, frame int64
}

// dispatcher is one connection's StreamHandler: it holds the first bytes
// until a detector says Yes, then feeds the chosen analyzer's stream, and
// passes the connection on when that stream hands it over.
type dispatcher struct {
	set     *Set
	env     *Env
	info    tcpsession.FlowInfo
	cur     Stream
	done    []Stream // streams that handed the connection over (closed at the end)
	held    []chunk
	peek    [2][]byte // held bytes per direction, for the detectors
	decided bool      // a stream was chosen, or none will be
	service string    // services of the streams that handed over
}

var _ tcpsession.StreamHandler = (*dispatcher)(nil)

// detect asks the detectors about the bytes seen so far; it returns the
// chosen analyzer, or nil with more=true when one still wants bytes.
func (d *dispatcher) detect(final bool) (a *Analyzer, more bool) {
	for _, an := range d.set.tcp {
		wait := false
		for dir := tcpsession.DirOrig; dir <= tcpsession.DirResp; dir++ {
			b := d.peek[dir-1]
			if len(b) == 0 {
				continue
			}
			switch an.Detect(&d.info, dir, b) {
			case Yes:
				return an, false
			case NeedMore:
				if !final && len(b) < maxPeek {
					wait = true
				}
			}
		}
		if wait {
			// An earlier detector may still say Yes: keep the order.
			return nil, true
		}
	}
	return nil, false
}

func (d *dispatcher) Data(dir tcpsession.Dir, data []byte, ts, frame int64) {
	if d.decided {
		if d.cur != nil {
			d.cur.Data(dir, data, ts, frame)
			d.handover(ts, frame)
		}
		return
	}
	// Fast path: the first bytes decide (nothing held yet).
	if len(d.held) == 0 {
		d.peek[dir-1] = data
		a, more := d.detect(false)
		d.peek[dir-1] = nil
		if !more {
			d.start(a)
			if d.cur != nil {
				d.cur.Data(dir, data, ts, frame)
				d.handover(ts, frame)
			}
			return
		}
	}
	d.held = append(d.held, chunk{dir: dir, data: append([]byte(nil), data...), ts: ts, frame: frame})
	d.peek[dir-1] = append(d.peek[dir-1], data...)
	d.tryDecide(false)
}

func (d *dispatcher) Gap(dir tcpsession.Dir, n int64, ts, frame int64) {
	if d.decided {
		if d.cur != nil {
			d.cur.Gap(dir, n, ts, frame)
		}
		return
	}
	d.held = append(d.held, chunk{dir: dir, gap: n, ts: ts, frame: frame})
	// Bytes after a gap are no connection start: decide with what there is.
	d.tryDecide(true)
}

// tryDecide decides on the held bytes and replays them to the chosen
// stream, in the order they came.
func (d *dispatcher) tryDecide(final bool) {
	a, more := d.detect(final)
	if more {
		return
	}
	d.start(a)
	held := d.held
	d.held, d.peek = nil, [2][]byte{}
	for _, c := range held {
		if d.cur == nil {
			break
		}
		if c.gap > 0 {
			d.cur.Gap(c.dir, c.gap, c.ts, c.frame)
		} else {
			d.cur.Data(c.dir, c.data, c.ts, c.frame)
			d.handover(c.ts, c.frame)
		}
	}
}

func (d *dispatcher) start(a *Analyzer) {
	d.decided = true
	if a != nil {
		d.cur = a.NewStream(&d.info, d.env)
	}
}

// handover passes the connection on when the current stream says so.
func (d *dispatcher) handover(ts, frame int64) {
	h, ok := d.cur.(Handover)
	if !ok {
		return
	}
	up, orig, resp, ok := h.Handover()
	if !ok {
		return
	}
	d.service = joinService(d.service, d.cur.Service())
	d.done = append(d.done, d.cur)
	d.cur = nil
	if up == "connect" {
		// A CONNECT tunnel carries another protocol: detect it again.
		d.decided = false
		if len(orig) > 0 {
			d.Data(tcpsession.DirOrig, orig, ts, frame)
		}
		if len(resp) > 0 {
			d.Data(tcpsession.DirResp, resp, ts, frame)
		}
		return
	}
	a := d.set.upgrades[up]
	if a == nil {
		return // an upgrade no analyzer reads: the rest of the connection is skipped
	}
	d.cur = a.NewStream(&d.info, d.env)
	if len(orig) > 0 {
		d.cur.Data(tcpsession.DirOrig, orig, ts, frame)
	}
	if len(resp) > 0 {
		d.cur.Data(tcpsession.DirResp, resp, ts, frame)
	}
}

func (d *dispatcher) Close(ts int64) {
	if !d.decided && len(d.held) > 0 {
		d.tryDecide(true)
	}
	for _, s := range d.done {
		s.Close(ts)
	}
	if d.cur != nil {
		d.cur.Close(ts)
	}
}

// Service lists the services recognised on the connection, in order,
// comma-separated as Zeek's conn.log writes them ("http,websocket").
func (d *dispatcher) Service() string {
	if !d.decided && len(d.held) > 0 {
		// tcpsession asks before Close: decide on what was held.
		d.tryDecide(true)
	}
	s := d.service
	if d.cur != nil {
		s = joinService(s, d.cur.Service())
	}
	return s
}
