package httpextract

import (
	"github.com/pcapq/pcapq/tcpsession"
	"strconv"
)

// NewFactory returns a tcpsession NewStream function whose handlers parse
// both directions of every TCP stream as HTTP/1.x and send one Transaction
// per request/response pair to sink. Streams whose first bytes are not
// HTTP are dropped after a few bytes (Service() stays "").
//
// Handlers keep no goroutine and buffer only the unparsed tail of a header
// block (at most MaxHeaderBytes) and, for gzip/deflate bodies, a bounded
// decoder window. A handler must be driven from one goroutine, as
// tcpsession does; handlers of different flows are independent.
func NewFactory(opts Options, sink Sink) func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
	opts = opts.withDefaults()
	return func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
		h := &handler{opts: &opts, sink: sink}
		if f != nil {
			h.flowID, h.community = f.FlowID, f.CommunityID
		}
		h.half[0].resp = false
		h.half[1].resp = true
		return h
	}
}

// withDefaults replaces zero or negative bounds by DefaultOptions' values so
// that a zero Options is still bounded.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxBodyKeep <= 0 {
		o.MaxBodyKeep = d.MaxBodyKeep
	}
	if o.MaxDecompressed <= 0 {
		o.MaxDecompressed = d.MaxDecompressed
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = d.MaxRatio
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if o.MaxHeaders <= 0 {
		o.MaxHeaders = d.MaxHeaders
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = d.MaxLineLength
	}
	if o.MaxPendingRequests <= 0 {
		o.MaxPendingRequests = d.MaxPendingRequests
	}
	return o
}

// txState is a transaction being assembled. The Transaction is handed to
// the sink when both halves are done, in TransDepth order, and never
// touched again.
type txState struct {
	t        Transaction
	reqDone  bool
	respDone bool
	v09      bool // HTTP/0.9 request: the response has no status line
	head     bool // HEAD request: the response has no body
	connect  bool // CONNECT request
	upgrade  bool // the request carried an Upgrade header
}

// handler is one connection's StreamHandler.
type handler struct {
	opts      *Options
	sink      Sink
	flowID    int64
	community string

	half [2]half // [0] orig (requests), [1] resp (responses)

	// q holds transactions not yet emitted, q[head:] in TransDepth order;
	// q[nextResp] is the first one still waiting for its final response.
	q        []*txState
	head     int
	nextResp int
	depth    int

	service string
	closed  bool

	// Hand-over of an upgraded connection (101, CONNECT 2xx): the token,
	// and the bytes each side sent after its HTTP message (at most
	// maxTunnelRest per side), for the analyzer that reads the tunnel.
	upgraded  string
	tunneled  bool // the response switched the connection
	handed    bool // Handover returned it
	origEarly bool // the client sent non-HTTP bytes while waiting for the answer
	rest      [2][]byte
}

// maxTunnelRest bounds the tunnel bytes a side keeps until the hand-over.
const maxTunnelRest = 64 << 10

var _ tcpsession.StreamHandler = (*handler)(nil)

// Handover reports, once, that the connection left HTTP/1.x after an
// upgrade (101 Switching Protocols) or a CONNECT tunnel (2xx): upgrade is
// the token ("websocket", "h2c", ...; "connect" for a tunnel), orig and
// resp the bytes each side sent after its HTTP message (delivered but not
// parsed), for the analyzer that reads what follows. Client bytes sent
// before the answer arrived are kept up to 64 KiB.
func (h *handler) Handover() (upgrade string, orig, resp []byte, ok bool) {
	if !h.tunneled || h.handed {
		return "", nil, nil, false
	}
	h.handed = true
	orig, resp = h.rest[0], h.rest[1]
	h.rest = [2][]byte{}
	return h.upgraded, orig, resp, true
}

// keepRest keeps tunnel bytes of direction i until the hand-over.
func (h *handler) keepRest(i int, data []byte) {
	if h.handed || !(h.tunneled || i == 0 && h.origEarly) {
		return
	}
	if room := maxTunnelRest - len(h.rest[i]); room > 0 {
		h.rest[i] = append(h.rest[i], data[:min(room, len(data))]...)
	}
}

func (h *handler) Service() string { return h.service }

func (h *handler) Data(dir tcpsession.Dir, data []byte, ts, frame int64) {
	if h.closed || (dir != tcpsession.DirOrig && dir != tcpsession.DirResp) {
		return
	}
	p := &h.half[dir-1]
	if p.st >= stTunnel {
		h.keepRest(int(dir-1), data)
		return
	}
	p.ts, p.frame = ts, frame
	p.lastTs, p.lastFrame = ts, frame
	for len(data) > 0 && p.st < stTunnel {
		n := h.step(p, data)
		data = data[n:]
	}
	if p.st >= stTunnel && len(data) > 0 {
		h.keepRest(int(dir-1), data) // what follows the message that switched
	}
	h.flush()
}

func (h *handler) Gap(dir tcpsession.Dir, n int64, ts, frame int64) {
	if h.closed || n <= 0 || (dir != tcpsession.DirOrig && dir != tcpsession.DirResp) {
		return
	}
	p := &h.half[dir-1]
	if p.st >= stTunnel {
		return
	}
	p.ts, p.frame = ts, frame
	h.gap(p, n)
	h.flush()
}

func (h *handler) Close(ts int64) {
	if h.closed {
		return
	}
	for i := range h.half {
		p := &h.half[i]
		p.ts, p.frame = p.lastTs, p.lastFrame
		if p.ts == 0 {
			p.ts = ts
		}
		h.endOfStream(p)
	}
	// Requests that never got an answer.
	for i := h.head; i < len(h.q); i++ {
		st := h.q[i]
		if !st.respDone {
			st.respDone = true
			if st.t.Missing == "" && !st.t.HasStatus {
				st.t.Missing = "response"
			}
		}
		st.reqDone = true
	}
	h.flush()
	h.closed = true
	for i := range h.half {
		h.half[i].release()
	}
	h.q = nil
}

// newTx appends a transaction with the next TransDepth.
func (h *handler) newTx() *txState {
	return h.addTx(false)
}

// addTx adds a transaction at the end of the queue or, with beforeWaiting,
// just before the requests still waiting for a response (at q[nextResp]):
// it then takes the TransDepth of the first of them, whose depth and every
// later one's grow by one. Only transactions not yet emitted move.
func (h *handler) addTx(beforeWaiting bool) *txState {
	if len(h.q)+1-h.head > 2*h.opts.MaxPendingRequests {
		h.forceHead()
	}
	h.depth++
	st := &txState{}
	st.t.FlowID = h.flowID
	st.t.CommunityID = h.community
	st.t.TransDepth = h.depth
	at := len(h.q)
	if beforeWaiting {
		at = h.nextResp
	}
	h.q = append(h.q, st)
	if at < len(h.q)-1 {
		st.t.TransDepth = h.q[at].t.TransDepth
		copy(h.q[at+1:], h.q[at:len(h.q)-1])
		h.q[at] = st
		for _, x := range h.q[at+1:] {
			x.t.TransDepth++
		}
	}
	return st
}

// forceHead emits the oldest transaction unfinished: it blocks a queue that
// grew past its bound (say, a request body that never ends while the
// server keeps answering). Its parser lets go of it first, so the row is
// never touched after the sink has it.
func (h *handler) forceHead() {
	st := h.q[h.head]
	for i := range h.half {
		if h.half[i].cur == st {
			h.half[i].cur = nil
		}
	}
	if !st.reqDone || !st.respDone {
		if st.t.Error == "" {
			st.t.Error = ErrTooManyPending
		}
		if !st.respDone && !st.t.HasStatus && st.t.Missing == "" {
			st.t.Missing = "response"
		}
		if h.nextResp == h.head {
			h.nextResp++
		}
	}
	st.reqDone, st.respDone = true, true
	h.flush()
}

// flush emits finished transactions from the head of the queue.
func (h *handler) flush() {
	for h.head < len(h.q) {
		st := h.q[h.head]
		if !st.reqDone || !st.respDone {
			break
		}
		h.q[h.head] = nil
		h.head++
		if h.sink != nil {
			h.sink.Transaction(&st.t)
		}
	}
	if h.head == len(h.q) {
		h.nextResp -= h.head
		if h.nextResp < 0 {
			h.nextResp = 0
		}
		h.q = h.q[:0]
		h.head = 0
	} else if h.head >= 32 && h.head*2 >= len(h.q) {
		n := copy(h.q, h.q[h.head:])
		clear(h.q[n:])
		h.q = h.q[:n]
		h.nextResp -= h.head
		if h.nextResp < 0 {
			h.nextResp = 0
		}
		h.head = 0
	}
}

// warnText says in words what each problem means, for warnings.detail.
var warnText = map[string]string{
	ErrBadRequest:       "a line that should start a request is not a request line; skipping to the next one",
	ErrBadReply:         "a line that should start a response is not a status line; skipping to the next one",
	ErrUnmatchedReply:   "a response with no request to pair it with",
	ErrMissingURI:       "request line without a target",
	ErrBadChunkSize:     "chunk-size line is not hex, too long, or not followed by CRLF",
	ErrBadContentLength: "Content-Length is not a number or conflicts with another",
	ErrHeaderTooLong:    "a line or the header block is longer than the limit",
	ErrTooManyHeaders:   "more header fields than the limit",
	ErrInflateFailed:    "the gzip/deflate body could not be decoded",
	ErrInflateLimit:     "decoding stopped at the decompressed size or ratio limit (decompression bomb?)",
	ErrTruncatedRequest: "the stream ended or had a gap inside the request",
	ErrTruncatedReply:   "the stream ended or had a gap inside the response",
	ErrTooManyPending:   "more pipelined requests waiting for responses than the limit",
}

// warn reports a problem met on direction p. Warnings are rare: the text
// is built here, off the per-byte path.
func (h *handler) warn(p *half, kind, detail string) {
	if h.sink == nil {
		return
	}
	side := "request"
	if p.resp {
		side = "response"
	}
	text := warnText[kind]
	if text == "" {
		text = kind
	}
	if detail != "" {
		text += " (" + detail + ")"
	}
	h.sink.Warning(p.frame, kind, "flow "+strconv.FormatInt(h.flowID, 10)+", "+side+" side: "+text)
}

// setErr records the first error of a transaction and warns.
func (h *handler) setErr(p *half, st *txState, kind string) {
	if st != nil && st.t.Error == "" {
		st.t.Error = kind
	}
	h.warn(p, kind, "")
}
