package httpextract

import (
	"bytes"

	"github.com/pcapq/pcapq/tcpsession"
)

// state is where one direction's parser stands. States at or above
// stTunnel ignore all further bytes.
type state uint8

const (
	stStart       state = iota // expecting a start line (blank lines skipped)
	stHeaders                  // inside the header block
	stBodyLen                  // Content-Length body, remain bytes to go
	stChunkSize                // expecting a chunk-size line
	stChunkData                // inside a chunk, remain bytes to go
	stChunkEnd                 // expecting the CRLF after chunk data
	stTrailers                 // trailer block after the last chunk
	stBodyClose                // body delimited by the end of the stream
	stResync                   // lost: skipping to the next line that starts a message
	stWaitUpgrade              // orig: an Upgrade/CONNECT request awaits its answer
	stTunnel                   // no longer HTTP (upgrade, CONNECT)
	stDead                     // never was HTTP
)

// half parses one direction.
type half struct {
	resp bool
	st   state

	detected  bool  // a start line parsed in this direction
	anyMethod bool  // the stream's first request uses a method not in methods
	prefixOK  bool  // the current line's first bytes look like a start line
	lineHead  bool  // stResync: at the start of a line
	gapNext   bool  // a gap hit between messages: flag the next one
	lostHead  bool  // responses: a gap may have taken the start of a response (see lostResponse)
	skipFrame int64 // stResync: frame of the last byte skipped

	buf      []byte // unparsed tail of the current line
	hdrBytes int    // header block bytes so far
	nhdr     int
	remain   int64

	cur     *txState // message being parsed (nil for an unmatched 1xx)
	interim bool     // cur's current response is 1xx
	// framing read from the headers of the current message
	clen    int64 // -1: none
	badCL   bool
	chunked bool
	teSeen  bool
	enc     uint8
	upgrade []byte // response Upgrade token, lower case (reuses upgBuf)
	upgBuf  [16]byte
	hasUpg  bool

	inf       inflater
	useInf    bool
	keep      []byte
	keepLimit int64
	keepTrunc bool

	ts, frame         int64 // segment being parsed
	lastTs, lastFrame int64 // last segment seen in this direction
	msgTs, msgFrame   int64 // segment holding the current message's first byte
}

func (p *half) release() {
	p.buf = nil
	p.keep = nil
	p.inf.release()
	p.cur = nil
}

// Line reading outcomes.
const (
	lineNeed = iota
	lineOK
	lineTooLong
)

// readLine returns the next line without its terminator (LF or CRLF) and
// the bytes of data consumed. A line cut by the end of data is kept in
// p.buf; the caller resets p.buf after using a line that aliases it. A line
// longer than max is refused however it is split.
func (p *half) readLine(data []byte, max int) (line []byte, n int, res int) {
	// A line may hold max bytes and a CR before its LF. A longer one is
	// refused at its first byte past that, so that how much is consumed
	// does not depend on how the stream was cut.
	limit := max + 1
	i := bytes.IndexByte(data, '\n')
	avail := i
	if i < 0 {
		avail = len(data)
	}
	if len(p.buf)+avail > limit {
		return nil, limit + 1 - len(p.buf), lineTooLong
	}
	if i < 0 {
		p.buf = append(p.buf, data...)
		return nil, len(data), lineNeed
	}
	if len(p.buf) == 0 {
		line = data[:i]
	} else {
		p.buf = append(p.buf, data[:i]...)
		line = p.buf
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > max {
		return nil, i + 1, lineTooLong
	}
	return line, i + 1, lineOK
}

// Prefix match outcomes.
const (
	matchNo = iota
	matchNeed
	matchYes
)

// methods recognised at the start of a stream (content-based detection).
// Later requests on an HTTP stream may use any token.
var methods = [...]string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
	"REPORT", "MKCALENDAR", "ACL", "BIND", "UNBIND", "REBIND", "LINK", "UNLINK",
	"CHECKOUT", "MERGE", "MKACTIVITY", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
	"UNSUBSCRIBE", "PURGE", "BPROPFIND", "BPROPPATCH", "POLL", "X-MS-ENUMATTS",
	"RPC_IN_DATA", "RPC_OUT_DATA",
}

const maxMethodLen = 20

func isTokenByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '+'
}

// matchStart tells whether b (the first bytes of a line) starts a message.
func (p *half) matchStart(b []byte) int {
	if p.resp {
		const v = "HTTP/"
		n := min(len(b), len(v))
		if string(b[:n]) != v[:n] {
			return matchNo
		}
		if n < len(v) {
			return matchNeed
		}
		return matchYes
	}
	sp := bytes.IndexByte(b, ' ')
	if !p.detected {
		// Known methods only: cheap rejection of other protocols.
		need := false
		for _, m := range methods {
			if sp >= 0 {
				if sp == len(m) && string(b[:sp]) == m {
					return matchYes
				}
				continue
			}
			if len(b) <= len(m) && string(b) == m[:len(b)] {
				need = true
			}
		}
		if need {
			return matchNeed
		}
		// An unknown method opens the stream only if the request line
		// then carries an HTTP version (checked in startReq).
		if p.anyMethod = isMethodToken(b, sp); p.anyMethod {
			return matchYes
		}
		if sp < 0 && len(b) <= maxMethodLen && isMethodToken(b, len(b)) {
			return matchNeed
		}
		return matchNo
	}
	end := len(b)
	if sp >= 0 {
		end = sp
	}
	if end > maxMethodLen {
		return matchNo
	}
	for _, c := range b[:end] {
		if !isTokenByte(c) {
			return matchNo
		}
	}
	if sp < 0 {
		return matchNeed
	}
	if sp == 0 {
		return matchNo
	}
	return matchYes
}

// isMethodToken reports whether b[:end] is an upper-case method token and
// b[end] (when end >= 0) a space.
func isMethodToken(b []byte, end int) bool {
	if end <= 0 || end > maxMethodLen {
		return false
	}
	for _, c := range b[:end] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isVersion reports whether b is "HTTP/" followed by digits and dots.
func isVersion(b []byte) bool {
	if len(b) < 6 || string(b[:5]) != "HTTP/" {
		return false
	}
	for _, c := range b[5:] {
		if !(c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	return true
}

// peekStart runs matchStart on the buffered bytes of the line plus the
// start of data. On matchNeed it has buffered data (always short).
func (p *half) peekStart(data []byte) int {
	var tmp [maxMethodLen + 2]byte
	c := copy(tmp[:], p.buf)
	c += copy(tmp[c:], data)
	m := p.matchStart(tmp[:c])
	if m == matchNeed {
		if c == len(tmp) {
			return matchNo
		}
		p.buf = append(p.buf, data...)
	}
	return m
}

// step parses from data and returns how many bytes it consumed. It
// consumes at least one byte unless it changes p.st.
func (h *handler) step(p *half, data []byte) int {
	if p.resp && p.st >= stBodyLen && p.st <= stBodyClose && p.cur != nil {
		// Everything after the header block is wire body: data, chunk
		// framing and trailers.
		t := &p.cur.t
		n := h.stepBody(p, data)
		t.RespWireLen += int64(n)
		return n
	}
	return h.stepBody(p, data)
}

func (h *handler) stepBody(p *half, data []byte) int {
	switch p.st {
	case stStart:
		return h.stepStart(p, data)
	case stHeaders, stTrailers:
		return h.stepHeaders(p, data)
	case stBodyLen, stChunkData:
		n := int(min(p.remain, int64(len(data))))
		h.body(p, data[:n])
		p.remain -= int64(n)
		if p.remain == 0 {
			if p.st == stChunkData {
				p.st = stChunkEnd
			} else {
				h.finish(p)
			}
		}
		return n
	case stChunkSize:
		line, n, res := p.readLine(data, h.opts.MaxLineLength)
		switch res {
		case lineNeed:
			return n
		case lineTooLong:
			h.broken(p, ErrBadChunkSize)
			return n
		}
		size, ok := parseChunkSize(line)
		p.buf = p.buf[:0]
		if !ok {
			h.broken(p, ErrBadChunkSize)
			return n
		}
		if size == 0 {
			p.st = stTrailers
			p.hdrBytes = 0
		} else {
			p.st = stChunkData
			p.remain = size
		}
		return n
	case stChunkEnd:
		line, n, res := p.readLine(data, 1)
		switch {
		case res == lineNeed:
			return n
		case res == lineTooLong || len(line) != 0:
			h.broken(p, ErrBadChunkSize)
			return n
		}
		p.buf = p.buf[:0]
		p.st = stChunkSize
		return n
	case stBodyClose:
		h.body(p, data)
		return len(data)
	case stResync:
		if p.resp && !p.lineHead && p.frame != p.skipFrame {
			// A server writes each response with a write of its own, so
			// a response usually starts a segment: a body that did not
			// end in a newline does not hide the next status line.
			p.lineHead = true
		}
		p.skipFrame = p.frame
		if st := h.pendingResp(); p.resp && p.lineHead && st != nil && st.v09 {
			// An HTTP/0.9 answer has no start line to find. (Only at a
			// line's or segment's start: lostResponse may change the
			// waiting request in the middle of a line it skips.)
			p.st = stStart
			p.prefixOK = false
			return 0
		}
		if p.lineHead {
			if len(p.buf) == 0 {
				if data[0] == '\n' {
					return 1
				}
				p.msgTs, p.msgFrame = p.ts, p.frame
			}
			switch p.peekStart(data) {
			case matchNeed:
				return len(data)
			case matchYes:
				p.st = stStart
				return 0
			}
			first := data[0]
			if len(p.buf) > 0 {
				first = p.buf[0]
			}
			if p.lostHead && first != '\r' {
				h.lostResponse(p)
			}
			p.buf = p.buf[:0]
			p.lineHead = false
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return len(data)
		}
		p.lineHead = true
		return i + 1
	case stWaitUpgrade:
		if len(p.buf) == 0 {
			p.msgTs, p.msgFrame = p.ts, p.frame
		}
		switch p.peekStart(data) {
		case matchNeed:
			return len(data)
		case matchYes:
			p.st = stStart
			return 0
		}
		// Not HTTP: the client already speaks the upgraded protocol
		// (bytes kept for the hand-over if the answer switches).
		h.origEarly = true
		h.keepRest(0, p.buf) // bytes buffered by earlier calls; data follows in Data
		p.buf = p.buf[:0]
		p.st = stTunnel
		return 0
	}
	return len(data)
}

func (h *handler) stepStart(p *half, data []byte) int {
	if p.resp && !p.prefixOK {
		if st := h.pendingResp(); st != nil && st.v09 {
			// HTTP/0.9: the response is the bytes up to the close,
			// including any already buffered while looking for a
			// status line.
			if len(p.buf) == 0 {
				p.msgTs, p.msgFrame = p.ts, p.frame
			}
			h.startResp09(p, st)
			if len(p.buf) > 0 {
				st.t.RespWireLen += int64(len(p.buf))
				h.body(p, p.buf)
				p.buf = p.buf[:0]
			}
			return 0
		}
	}
	if len(p.buf) == 0 && !p.prefixOK {
		// Blank lines between messages (after a body's CRLF) are skipped.
		i := 0
		for i < len(data) && (data[i] == '\r' || data[i] == '\n') {
			i++
		}
		if i > 0 {
			return i
		}
		p.msgTs, p.msgFrame = p.ts, p.frame
	}
	if !p.prefixOK {
		switch p.peekStart(data) {
		case matchNeed:
			return len(data)
		case matchNo:
			p.buf = p.buf[:0]
			if !p.detected {
				p.st = stDead
				return len(data)
			}
			h.badStart(p)
			return 0
		}
		p.prefixOK = true
	}
	line, n, res := p.readLine(data, h.opts.MaxLineLength)
	switch res {
	case lineNeed:
		return n
	case lineTooLong:
		p.prefixOK = false
		p.buf = p.buf[:0]
		if p.resp {
			h.warn(p, ErrHeaderTooLong, "status line")
		} else {
			h.warn(p, ErrHeaderTooLong, "request line")
		}
		p.st = stResync
		p.lineHead = data[n-1] == '\n'
		p.skipFrame = p.frame
		return n
	}
	ok := false
	if p.resp {
		ok = h.startResp(p, line)
	} else {
		ok = h.startReq(p, line)
	}
	p.buf = p.buf[:0]
	p.prefixOK = false
	if !ok {
		if !p.detected && !p.resp && p.anyMethod {
			p.st = stDead
			return len(data)
		}
		h.badStart(p)
		p.lineHead = true
	}
	return n
}

// badStart handles a line that should have started a message and did not.
func (h *handler) badStart(p *half) {
	if p.resp {
		h.warn(p, ErrBadReply, "")
	} else {
		h.warn(p, ErrBadRequest, "")
	}
	p.st = stResync
	p.lineHead = false
	p.skipFrame = p.frame
	p.prefixOK = false
}

// pendingResp is the transaction the next response answers, or nil.
func (h *handler) pendingResp() *txState {
	if h.nextResp < len(h.q) {
		return h.q[h.nextResp]
	}
	return nil
}

func (h *handler) beginMessage(p *half) {
	p.st = stHeaders
	p.hdrBytes = 0
	p.nhdr = 0
	p.clen = -1
	p.badCL = false
	p.chunked = false
	p.teSeen = false
	p.enc = encNone
	p.hasUpg = false
	p.upgrade = p.upgBuf[:0]
	p.detected = true
	p.useInf = false
	p.keep = nil
	p.keepTrunc = false
	p.keepLimit = h.opts.MaxBodyKeep
	h.service = "http"
}

// startReq parses a request line and opens its transaction.
func (h *handler) startReq(p *half, line []byte) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return false
	}
	method := line[:sp]
	rest := bytes.TrimLeft(line[sp+1:], " ")
	uri, version := rest, []byte(nil)
	if i := bytes.LastIndexByte(rest, ' '); i >= 0 {
		v := bytes.TrimRight(rest[i+1:], " ")
		if len(v) == 0 {
			rest = bytes.TrimRight(rest, " ")
			i = bytes.LastIndexByte(rest, ' ')
			if i >= 0 {
				v = rest[i+1:]
			}
		}
		if i >= 0 {
			if !bytes.HasPrefix(v, []byte("HTTP/")) {
				return false
			}
			uri, version = bytes.TrimRight(rest[:i], " "), v[5:]
		}
	}
	missingURI := false
	if version == nil && isVersion(uri) {
		// "OPTIONS HTTP/1.1": no target (Zeek's missing_HTTP_uri).
		uri, version, missingURI = nil, uri[5:], true
	}
	if len(uri) == 0 && version == nil {
		return false
	}
	if p.anyMethod && version == nil && uri[0] != '/' {
		// An unknown method opened the stream: without a version, only
		// an origin-form target ("CCM_POST /x") makes the line an
		// HTTP/0.9 request, as Zeek reads it; "NICK alice" is not HTTP.
		return false
	}
	h.pendingLimit(p)
	st := h.newTx()
	h.beginMessage(p)
	p.cur = st
	t := &st.t
	t.TsReqStart, t.ReqFrame = p.msgTs, p.msgFrame
	t.Method = string(method)
	t.URI = string(uri)
	t.Path, t.Query = splitURI(t.URI)
	st.head = t.Method == "HEAD"
	st.connect = t.Method == "CONNECT"
	if p.gapNext {
		t.Gap = true
		p.gapNext = false
	}
	if missingURI {
		h.warn(p, ErrMissingURI, "")
	}
	if version == nil {
		// HTTP/0.9 simple request. Header lines that follow anyway are
		// read, as Zeek does, up to the blank line or the close.
		t.Version = "0.9"
		st.v09 = true
		return true
	}
	t.Version = string(version)
	return true
}

// pendingLimit keeps the requests waiting for an answer under
// MaxPendingRequests by giving up on the oldest.
func (h *handler) pendingLimit(p *half) {
	if len(h.q)-h.nextResp < h.opts.MaxPendingRequests {
		return
	}
	st := h.q[h.nextResp]
	h.nextResp++
	st.respDone = true
	st.t.Missing = "response"
	h.setErr(p, st, ErrTooManyPending)
	if h.half[1].cur == st {
		h.half[1].cur = nil
	}
}

// startResp parses a status line and pairs it with a request.
func (h *handler) startResp(p *half, line []byte) bool {
	if !bytes.HasPrefix(line, []byte("HTTP/")) {
		return false
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return false
	}
	version := line[5:sp]
	rest := bytes.TrimLeft(line[sp+1:], " ")
	if len(rest) < 3 || (len(rest) > 3 && rest[3] != ' ') {
		return false
	}
	code := 0
	for _, c := range rest[:3] {
		if c < '0' || c > '9' {
			return false
		}
		code = code*10 + int(c-'0')
	}
	msg := []byte(nil)
	if len(rest) > 3 {
		msg = rest[4:]
	}
	h.beginMessage(p)
	p.lostHead = false
	st := h.pendingResp()
	early := st != nil && st.t.TsReqStart > p.msgTs
	if early {
		// The response began before the oldest waiting request was sent:
		// it answers a request this stream never showed (lost, or before
		// the capture started), not that one or any later one.
		st = nil
	}
	if code >= 100 && code < 200 && code != 101 {
		p.interim = true
		p.cur = st
		if st != nil {
			// The interim response does not start the response: ts_resp_start
			// and resp_frame are the final response's (see the http schema).
			st.t.InfoCode = code
			st.t.InfoMsg = string(msg)
		} else {
			h.warn(p, ErrUnmatchedReply, "interim")
		}
		return true
	}
	p.interim = false
	if st == nil {
		// An unmatched response takes its place in time order: before the
		// requests that are still waiting, which were sent after it began.
		st = h.addTx(true)
		st.reqDone = true
		st.t.Missing = "request"
		st.t.Error = ErrUnmatchedReply
		h.warn(p, ErrUnmatchedReply, "")
	}
	h.nextResp++
	p.cur = st
	t := &st.t
	if t.TsRespStart == 0 {
		t.TsRespStart, t.RespFrame = p.msgTs, p.msgFrame
	}
	t.HasStatus = true
	t.StatusCode = code
	t.StatusMsg = string(msg)
	t.RespVersion = string(version)
	if p.gapNext {
		t.Gap = true
		p.gapNext = false
	}
	return true
}

// startResp09 opens the status-less response to an HTTP/0.9 request.
func (h *handler) startResp09(p *half, st *txState) {
	h.beginMessage(p)
	h.nextResp++
	p.cur = st
	p.interim = false
	st.t.TsRespStart, st.t.RespFrame = p.msgTs, p.msgFrame
	if p.gapNext {
		st.t.Gap = true
		p.gapNext = false
	}
	p.st = stBodyClose
}

func (h *handler) stepHeaders(p *half, data []byte) int {
	line, n, res := p.readLine(data, h.opts.MaxHeaderBytes-p.hdrBytes)
	switch res {
	case lineNeed:
		return n
	case lineTooLong:
		h.broken(p, ErrHeaderTooLong)
		return n
	}
	p.hdrBytes += n
	if len(line) == 0 {
		p.buf = p.buf[:0]
		if p.st == stTrailers {
			h.finish(p)
		} else {
			h.endHeaders(p)
		}
		return n
	}
	h.header(p, line)
	p.buf = p.buf[:0]
	if p.nhdr > h.opts.MaxHeaders {
		h.broken(p, ErrTooManyHeaders)
	}
	return n
}

// header records one header line (or an obsolete folded continuation).
func (h *handler) header(p *half, line []byte) {
	var hs *[]Header
	if p.cur != nil && !p.interim {
		if p.resp {
			hs = &p.cur.t.RespHeaders
		} else {
			hs = &p.cur.t.ReqHeaders
		}
	}
	if line[0] == ' ' || line[0] == '\t' {
		if hs != nil && len(*hs) > 0 {
			last := &(*hs)[len(*hs)-1]
			last.Value += " " + string(bytes.TrimSpace(line))
		}
		return
	}
	p.nhdr++
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return // not a field: ignored, as Zeek does
	}
	name := bytes.TrimRight(line[:colon], " \t")
	value := bytes.TrimSpace(line[colon+1:])
	if hs != nil {
		*hs = append(*hs, Header{Name: string(name), Value: string(value)})
	}
	h.field(p, name, value)
}

// field interprets the fields that frame the body or fill row columns.
func (h *handler) field(p *half, name, value []byte) {
	var t *Transaction
	if p.cur != nil && !p.interim {
		t = &p.cur.t
	}
	switch {
	case equalFold(name, "content-length"):
		n, ok := parseUint(value)
		if !ok || (p.clen >= 0 && p.clen != n) {
			p.badCL = true
			return
		}
		p.clen = n
	case equalFold(name, "transfer-encoding"):
		p.teSeen = true
		p.chunked = lastTokenIs(value, "chunked")
		if t != nil && p.resp {
			t.TransferEncoding = string(value)
		}
	case equalFold(name, "content-encoding"):
		switch {
		case lastTokenIs(value, "gzip"), lastTokenIs(value, "x-gzip"):
			p.enc = encGzip
		case lastTokenIs(value, "deflate"):
			p.enc = encDeflate
		default:
			p.enc = encNone
		}
		if t != nil && p.resp {
			t.ContentEncoding = string(value)
		}
	case equalFold(name, "upgrade"):
		p.hasUpg = true
		v := value
		if i := bytes.IndexAny(v, ", /"); i >= 0 {
			v = v[:i]
		}
		p.upgrade = p.upgBuf[:0]
		for _, c := range v {
			if len(p.upgrade) == len(p.upgBuf) {
				break
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			p.upgrade = append(p.upgrade, c)
		}
	case t == nil:
	case equalFold(name, "content-type"):
		if p.resp {
			t.RespContentType = string(value)
		} else {
			t.ReqContentType = string(value)
		}
	case p.resp:
	case equalFold(name, "host"):
		t.Host = string(value)
	case equalFold(name, "user-agent"):
		t.UserAgent = string(value)
	case equalFold(name, "referer"):
		t.Referrer = string(value)
	}
}

// endHeaders decides how the body is framed.
func (h *handler) endHeaders(p *half) {
	st := p.cur
	if p.badCL {
		h.setErr(p, st, ErrBadContentLength)
	}
	if !p.resp {
		if p.hasUpg {
			st.upgrade = true
		}
		switch {
		case p.chunked:
			p.st = stChunkSize
		case p.clen > 0 && !p.badCL:
			p.st = stBodyLen
			p.remain = p.clen
		default:
			h.finish(p)
			return
		}
		h.startInflate(p)
		return
	}
	if p.interim {
		p.cur = nil
		p.interim = false
		p.st = stStart
		return
	}
	t := &st.t
	code := t.StatusCode
	switch {
	case code == 101:
		t.Upgrade = string(p.upgrade)
		h.finish(p)
		h.tunnel()
		h.tunneled, h.upgraded = true, t.Upgrade
		return
	case st.connect && code >= 200 && code < 300:
		t.Upgrade = "connect"
		h.finish(p)
		h.tunnel()
		h.tunneled, h.upgraded = true, t.Upgrade
		return
	case st.head || code == 204 || code == 304:
		h.finish(p)
		return
	}
	h.startInflate(p)
	switch {
	case p.chunked:
		p.st = stChunkSize
	case p.teSeen:
		p.st = stBodyClose // a non-chunked transfer coding: read to the close
	case p.clen == 0 && !p.badCL:
		h.finish(p)
	case p.clen > 0 && !p.badCL:
		p.st = stBodyLen
		p.remain = p.clen
	default:
		p.st = stBodyClose
	}
}

// startInflate sets up decoding of a gzip or deflate body (requests and
// responses alike, with the same bounds) before its first byte.
func (h *handler) startInflate(p *half) {
	if p.enc == encNone {
		return
	}
	p.useInf = true
	var keep func([]byte) // decoded bytes are only needed to keep them
	if h.opts.KeepBodies {
		keep = p.keepBytes
	}
	p.inf.reset(p.enc, h.opts.MaxDecompressed, h.opts.MaxRatio, keep)
}

// tunnel stops HTTP parsing in both directions after an upgrade.
func (h *handler) tunnel() {
	for i := range h.half {
		q := &h.half[i]
		if q.cur != nil && !q.resp {
			// A request still sending its body has no more HTTP to give.
			h.finish(q)
		}
		q.st = stTunnel
		q.buf = nil
	}
}

// body counts (and decodes, and keeps) body bytes of the current message.
func (h *handler) body(p *half, b []byte) {
	if p.cur == nil || len(b) == 0 {
		return
	}
	if p.useInf {
		p.inf.write(b) // finish takes the decoded length
		return
	}
	if p.resp {
		p.cur.t.RespBodyLen += int64(len(b))
	} else {
		p.cur.t.ReqBodyLen += int64(len(b))
	}
	if h.opts.KeepBodies {
		p.keepBytes(b)
	}
}

func (p *half) keepBytes(b []byte) {
	if p.keepTrunc {
		return
	}
	room := int(p.keepLimit) - len(p.keep)
	if len(b) > room {
		b = b[:room]
		p.keepTrunc = true
	}
	p.keep = append(p.keep, b...)
}

// finish completes the current message at p.ts.
func (h *handler) finish(p *half) {
	st := p.cur
	p.st = stStart
	p.cur = nil
	p.buf = p.buf[:0]
	p.prefixOK = false
	if st == nil {
		return
	}
	t := &st.t
	if p.useInf {
		p.inf.finish()
		if p.resp {
			t.RespBodyLen = p.inf.out
		} else {
			t.ReqBodyLen = p.inf.out
		}
		if p.inf.err != "" {
			h.setErr(p, st, p.inf.err)
		}
		p.useInf = false
	}
	if h.opts.KeepBodies {
		dir := tcpsession.DirOrig
		if p.resp {
			dir = tcpsession.DirResp
		}
		if h.sink != nil && (len(p.keep) > 0 || p.keepTrunc) {
			h.sink.Body(&Body{FlowID: t.FlowID, TransDepth: t.TransDepth, Dir: dir, Data: p.keep, Truncated: p.keepTrunc})
		}
		p.keep = nil
		p.keepTrunc = false
	}
	if p.resp {
		t.TsRespEnd = p.ts
		st.respDone = true
		if o := &h.half[0]; o.st == stWaitUpgrade && t.Upgrade == "" {
			o.st = stStart
		}
	} else {
		t.TsReqEnd = p.ts
		st.reqDone = true
		if st.connect || st.upgrade {
			if !st.respDone {
				p.st = stWaitUpgrade
			}
		}
	}
}

// broken ends the current message with an error and looks for the next.
func (h *handler) broken(p *half, kind string) {
	st := p.cur
	h.setErr(p, st, kind)
	if p.interim {
		p.cur = nil
		p.interim = false
	}
	h.finish(p)
	p.st = stResync
	p.lineHead = false
	p.skipFrame = p.frame
}

// gap handles n bytes of direction p that will never arrive.
func (h *handler) gap(p *half, n int64) {
	var t *Transaction
	if p.cur != nil {
		t = &p.cur.t
		t.Gap = true
	}
	switch p.st {
	case stBodyLen, stChunkData:
		if t != nil && p.resp {
			t.RespWireLen += min(n, p.remain)
		}
		if p.useInf {
			// The decoder cannot skip: count no more decoded bytes.
			p.inf.done = true
		}
		if n < p.remain {
			p.remain -= n
			return
		}
		if n == p.remain {
			p.remain = 0
			if p.st == stChunkData {
				p.st = stChunkEnd
			} else {
				h.finish(p)
			}
			return
		}
		// The gap runs past the end of a Content-Length body: it may hold
		// the start of the next message. (Past the end of a chunk the
		// body may well go on, so a chunk does not count.)
		lost := p.st == stBodyLen
		h.cut(p)
		p.lostHead = lost
	case stBodyClose:
		if t != nil && p.resp {
			t.RespWireLen += n
		}
		if p.useInf {
			p.inf.done = true
		}
	case stStart, stResync:
		p.buf = p.buf[:0]
		p.prefixOK = false
		p.gapNext = true
		p.st = stResync
		p.lineHead = true
		p.lostHead = true
	case stWaitUpgrade:
		p.buf = p.buf[:0]
		p.st = stTunnel
	default: // headers, chunk framing, trailers
		h.cut(p)
	}
}

// lostResponse is called on the response side when, after a gap that may
// have taken the start of a response, bytes arrive that do not start one:
// the body of a response whose status line was lost. That response began
// before these bytes, so it answers the oldest waiting request if that was
// sent by then (a request is never answered by a response that began
// before it): the request is given up (Missing = "response", Gap), and the
// next status line pairs with the request after it. Once per gap: the
// bytes of one response may come in many lines.
func (h *handler) lostResponse(p *half) {
	p.lostHead = false
	if !p.resp {
		return
	}
	st := h.pendingResp()
	if st == nil || st.t.TsReqStart > p.ts {
		return
	}
	h.nextResp++
	st.respDone = true
	st.t.Gap = true
	st.t.Missing = "response"
	// A request side waiting for the answer to an Upgrade or CONNECT
	// keeps waiting: its next bytes tell whether the switch happened.
}

// cut ends the current message because its bytes are gone, then resyncs.
func (h *handler) cut(p *half) {
	if p.interim {
		p.cur = nil
		p.interim = false
	}
	h.finish(p)
	p.st = stResync
	p.lineHead = true
	p.gapNext = true
}

// endOfStream completes or flags the message in progress at Close.
func (h *handler) endOfStream(p *half) {
	switch p.st {
	case stBodyClose:
		h.finish(p)
		return
	case stHeaders, stBodyLen, stChunkSize, stChunkData, stChunkEnd, stTrailers:
		st := p.cur
		if p.st == stHeaders && st != nil && st.v09 && p.nhdr == 0 && len(p.buf) == 0 {
			h.finish(p) // a bare HTTP/0.9 request line is complete
			return
		}
		if st != nil && !p.interim {
			if p.resp {
				h.setErr(p, st, ErrTruncatedReply)
			} else {
				h.setErr(p, st, ErrTruncatedRequest)
			}
		}
		if p.interim {
			p.cur = nil
			p.interim = false
		}
		h.finish(p)
	case stStart, stResync, stWaitUpgrade:
		if p.prefixOK || (len(p.buf) > 0 && p.st == stStart) {
			// A start line cut by the end of the capture.
			if !p.resp {
				h.warn(p, ErrTruncatedRequest, "request line")
			} else {
				h.warn(p, ErrTruncatedReply, "status line")
			}
		}
	}
}

// Helpers.

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// lastTokenIs reports whether the last comma-separated token of v is tok
// (case-insensitive).
func lastTokenIs(v []byte, tok string) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	v = bytes.TrimSpace(v)
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = bytes.TrimSpace(v[:i])
	}
	return equalFold(v, tok)
}

func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseChunkSize reads the hex size of a chunk-size line (extensions after
// ';' ignored).
func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// splitURI splits a request target into path and query; an absolute URI
// loses its scheme and authority.
func splitURI(uri string) (path, query string) {
	path = uri
	if i := indexString(path, "://"); i > 0 && path[0] != '/' {
		rest := path[i+3:]
		j := 0
		for j < len(rest) && rest[j] != '/' && rest[j] != '?' {
			j++
		}
		path = rest[j:]
	}
	for i := 0; i < len(path); i++ {
		if path[i] == '?' {
			return path[:i], path[i+1:]
		}
	}
	return path, ""
}

func indexString(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
