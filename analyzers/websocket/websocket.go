package websocket

import "strconv"

// Opcodes (RFC 6455 5.2).
const (
	OpContinuation = 0
	OpText         = 1
	OpBinary       = 2
	OpClose        = 8
	OpPing         = 9
	OpPong         = 10
)

// Bounds.
const (
	// PreviewLen is how much of a text message the preview keeps.
	PreviewLen = 64
	// MaxFrameLen is the largest frame payload accepted. The 64-bit length
	// field allows 2^63-1; nothing is buffered for a frame (payload bytes
	// are counted and only the preview, or Options.MaxPayload with
	// KeepPayloads, is kept), but a claim past this bound is not a frame
	// of a real session, and the direction is not parsed further.
	MaxFrameLen = 1 << 40
	// maxControl is the largest control frame payload (RFC 6455 5.5).
	maxControl = 125
	// MaxFragments bounds the fragments counted into one message; past it
	// the message is emitted and a new one started (a warning says so).
	MaxFragments = 1 << 20
)

// Warning kinds.
const (
	WarnFrameTooLong    = "websocket_frame_too_long"    // payload length past MaxFrameLen (or its top bit set)
	WarnBadControl      = "websocket_bad_control_frame" // control frame fragmented or longer than 125 bytes
	WarnBadOpcode       = "websocket_reserved_opcode"   // opcode 3-7 or 11-15
	WarnBadContinuation = "websocket_bad_continuation"  // continuation with no message open, or a new message while one is open
	WarnTruncated       = "websocket_truncated_message" // the connection ended (or a gap came) inside a message
	WarnGap             = "websocket_content_gap"       // bytes lost: the direction is not parsed further
	WarnAfterClose      = "websocket_data_after_close"  // bytes after this side's close frame
)

// OpcodeName names an opcode.
func OpcodeName(op uint8) string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved-" + strconv.Itoa(int(op))
}

// Row is one row of the websocket table: a data message (its fragments
// joined) or a control frame.
type Row struct {
	FlowID      int64  `col:"flow_id"`
	Ts          int64  `col:"ts"`          // capture time of the first byte of the message
	FirstFrame  int64  `col:"first_frame"` // frame holding the first byte
	LastFrame   int64  `col:"last_frame"`  // frame completing the message
	Orig        bool   // sent by the originator (the client)
	Opcode      uint8  `col:"opcode"` // the first frame's opcode (text, binary, close, ping, pong)
	Fragments   int    `col:"fragments"`
	PayloadLen  int64  `col:"payload_len"` // payload bytes on the wire (after unmasking, before any extension decoding)
	Masked      bool   `col:"masked"`      // the (first) frame was masked
	Compressed  bool   `col:"compressed"`  // RSV1 set on the first frame (permessage-deflate): the preview is not text
	HasClose    bool   // a close frame with a status code
	CloseCode   uint16 `col:"close_code,null=HasClose"`
	CloseReason string `col:"close_reason,null=HasClose"`
	HasPreview  bool   // a text message: Preview holds its first bytes
	Preview     string `col:"preview,null=HasPreview"` // first PreviewLen bytes of a text message (as sent; may cut a UTF-8 sequence)
	Payload     []byte `col:"payload,omitempty"`       // with Options.KeepPayloads: the payload, up to Options.MaxPayload
	Truncated   bool   `col:"truncated"`               // the message did not end (connection end or gap), or Payload was capped
}

// Sink receives rows and warnings.
type Sink interface {
	Row(r *Row)
	Warning(frame int64, kind, detail string)
}

// Options tune a Conn. The zero value keeps no payloads.
type Options struct {
	KeepPayloads bool
	MaxPayload   int64 // bytes of each message kept with KeepPayloads (0: 1 MiB)
}

// Conn parses the WebSocket frames of both directions of one connection,
// from the first byte after the HTTP handshake (the client's request head
// and the server's 101 response head). Drive it from one goroutine.
type Conn struct {
	flowID int64
	opts   Options
	sink   Sink
	half   [2]half
}

// half is one direction's state.
type half struct {
	hdr  [14]byte
	nhdr int
	need int // header length once known
	left int64
	fin  bool
	op   uint8
	rsv  uint8
	mask [4]byte
	mpos int
	ctrl []byte // control frame payload (at most 125 bytes)
	cur  *Row   // control frame being read
	fts  int64  // capture time and frame of the current frame's first byte
	ffr  int64
	msg  *Row // data message in progress (across fragments)

	stopped bool
	closed  bool
}

// NewConn returns the state of one upgraded connection.
func NewConn(flowID int64, opts Options, sink Sink) *Conn {
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = 1 << 20
	}
	return &Conn{flowID: flowID, opts: opts, sink: sink}
}

// Data feeds in-order bytes of direction d (0 = client, 1 = server).
func (c *Conn) Data(d int, data []byte, ts, frame int64) {
	h := &c.half[d&1]
	for len(data) > 0 && !h.stopped {
		if h.closed {
			c.sink.Warning(frame, WarnAfterClose, strconv.Itoa(len(data))+" bytes after the "+dirName(d)+"'s close frame are not parsed")
			h.stopped = true
			return
		}
		if h.left == 0 && h.need == 0 || h.nhdr < h.need {
			// frame header
			if h.nhdr < 2 {
				h.hdr[h.nhdr] = data[0]
				h.nhdr++
				data = data[1:]
				if h.nhdr == 2 {
					h.need = 2
					switch h.hdr[1] & 127 {
					case 126:
						h.need += 2
					case 127:
						h.need += 8
					}
					if h.hdr[1]&0x80 != 0 {
						h.need += 4
					}
				}
				if h.nhdr == 1 {
					h.fts, h.ffr = ts, frame
				}
				if h.nhdr < h.need || h.need == 0 {
					continue
				}
			} else {
				n := copy(h.hdr[h.nhdr:h.need], data)
				h.nhdr += n
				data = data[n:]
				if h.nhdr < h.need {
					continue
				}
			}
			if !c.startFrame(d, h, ts, frame) {
				return
			}
			if h.left == 0 {
				c.endFrame(d, h, ts, frame)
			}
			continue
		}
		n := int(min(h.left, int64(len(data))))
		c.payload(h, data[:n])
		data = data[n:]
		h.left -= int64(n)
		if h.left == 0 {
			c.endFrame(d, h, ts, frame)
		}
	}
}

// startFrame decodes a complete header; false stops the direction.
func (c *Conn) startFrame(d int, h *half, ts, frame int64) bool {
	b := h.hdr[:h.need]
	h.fin = b[0]&0x80 != 0
	h.rsv = b[0] >> 4 & 7
	h.op = b[0] & 15
	masked := b[1]&0x80 != 0
	var n uint64
	i := 2
	switch b[1] & 127 {
	case 126:
		n = uint64(b[2])<<8 | uint64(b[3])
		i = 4
	case 127:
		for _, x := range b[2:10] {
			n = n<<8 | uint64(x)
		}
		i = 10
	default:
		n = uint64(b[1] & 127)
	}
	h.mask = [4]byte{}
	if masked {
		copy(h.mask[:], b[i:i+4])
	}
	h.mpos = 0
	h.nhdr, h.need = 0, 0
	start := &Row{FlowID: c.flowID, Ts: h.fts, FirstFrame: h.ffr, Orig: d == 0, Masked: masked, Compressed: h.rsv&4 != 0}
	if n > MaxFrameLen {
		c.sink.Warning(frame, WarnFrameTooLong, dirName(d)+" frame claims "+strconv.FormatUint(n, 10)+" payload bytes (max "+strconv.Itoa(MaxFrameLen)+"); the rest of this direction is not parsed")
		c.stop(d, h, frame)
		return false
	}
	h.left = int64(n)
	if h.op >= 8 {
		if h.op > OpPong {
			c.sink.Warning(frame, WarnBadOpcode, dirName(d)+" frame with reserved opcode "+strconv.Itoa(int(h.op)))
		}
		if !h.fin || n > maxControl {
			c.sink.Warning(frame, WarnBadControl, dirName(d)+" "+OpcodeName(h.op)+" frame of "+strconv.FormatUint(n, 10)+" bytes, FIN "+strconv.FormatBool(h.fin))
		}
		r := start
		r.Opcode, r.Fragments = h.op, 1
		h.cur = r
		h.ctrl = h.ctrl[:0]
		return true
	}
	if h.op > OpBinary {
		c.sink.Warning(frame, WarnBadOpcode, dirName(d)+" frame with reserved opcode "+strconv.Itoa(int(h.op)))
	}
	switch {
	case h.op == OpContinuation && h.msg == nil:
		c.sink.Warning(frame, WarnBadContinuation, dirName(d)+" continuation frame with no message open")
		start.Opcode = OpContinuation
		h.msg = start
	case h.op != OpContinuation && h.msg != nil:
		c.sink.Warning(frame, WarnBadContinuation, dirName(d)+" new "+OpcodeName(h.op)+" message before the last one ended")
		h.msg.Truncated = true
		c.sink.Row(h.msg)
		h.msg = nil
		fallthrough
	case h.op != OpContinuation:
		start.Opcode = h.op
		start.HasPreview = h.op == OpText && !start.Compressed
		h.msg = start
	}
	h.msg.Fragments++
	if h.msg.Fragments >= MaxFragments && !h.fin {
		c.sink.Warning(frame, WarnBadContinuation, dirName(d)+" message of more than "+strconv.Itoa(MaxFragments)+" fragments: emitted in parts")
		h.fin = true
	}
	return true
}

func (c *Conn) payload(h *half, b []byte) {
	if h.cur != nil { // control frame
		for _, x := range b {
			if len(h.ctrl) < maxControl {
				h.ctrl = append(h.ctrl, x^h.mask[h.mpos&3])
			}
			h.mpos++
		}
		h.cur.PayloadLen += int64(len(b))
		return
	}
	r := h.msg
	r.PayloadLen += int64(len(b))
	want := 0
	if r.HasPreview && len(r.Preview) < PreviewLen {
		want = PreviewLen - len(r.Preview)
	}
	keep := 0
	if c.opts.KeepPayloads {
		if room := c.opts.MaxPayload - int64(len(r.Payload)); room > 0 {
			keep = int(min(room, int64(len(b))))
		}
		if int64(len(b)) > int64(keep) {
			r.Truncated = true
		}
	}
	if want == 0 && keep == 0 {
		h.mpos += len(b)
		return
	}
	var pre []byte
	for i, x := range b {
		if i >= want && i >= keep {
			break
		}
		x ^= h.mask[(h.mpos+i)&3]
		if i < want {
			pre = append(pre, x)
		}
		if i < keep {
			r.Payload = append(r.Payload, x)
		}
	}
	h.mpos += len(b)
	r.Preview += string(pre)
}

func (c *Conn) endFrame(d int, h *half, ts, frame int64) {
	if r := h.cur; r != nil {
		h.cur = nil
		r.LastFrame = frame
		if r.Opcode == OpClose && len(h.ctrl) >= 2 {
			r.HasClose = true
			r.CloseCode = uint16(h.ctrl[0])<<8 | uint16(h.ctrl[1])
			r.CloseReason = string(h.ctrl[2:])
		}
		if c.opts.KeepPayloads {
			r.Payload = append([]byte(nil), h.ctrl...)
		}
		if r.Opcode == OpClose {
			h.closed = true
		}
		c.sink.Row(r)
		return
	}
	if h.fin {
		r := h.msg
		h.msg = nil
		r.LastFrame = frame
		c.sink.Row(r)
	}
}

func (c *Conn) stop(d int, h *half, frame int64) {
	h.stopped = true
	c.flush(d, h, frame)
}

// flush emits a message cut short.
func (c *Conn) flush(d int, h *half, frame int64) {
	for _, r := range []*Row{h.cur, h.msg} {
		if r == nil {
			continue
		}
		r.Truncated = true
		r.LastFrame = frame
		c.sink.Warning(frame, WarnTruncated, dirName(d)+" "+OpcodeName(r.Opcode)+" message cut after "+strconv.FormatInt(r.PayloadLen, 10)+" payload bytes")
		c.sink.Row(r)
	}
	h.cur, h.msg = nil, nil
}

// Gap reports lost bytes: frames cannot be found again in that direction.
func (c *Conn) Gap(d int, n int64, frame int64) {
	h := &c.half[d&1]
	if h.stopped {
		return
	}
	c.sink.Warning(frame, WarnGap, dirName(d)+": "+strconv.FormatInt(n, 10)+" bytes missing; the rest of this direction is not parsed")
	c.stop(d, h, frame)
}

// Close ends the connection; a message in progress is emitted truncated.
func (c *Conn) Close(ts int64) {
	for d := range c.half {
		h := &c.half[d]
		if !h.stopped {
			last := int64(0)
			if h.msg != nil {
				last = h.msg.FirstFrame
			} else if h.cur != nil {
				last = h.cur.FirstFrame
			}
			c.flush(d, h, last)
			h.stopped = true
		}
	}
}

func dirName(d int) string {
	if d == 0 {
		return "client"
	}
	return "server"
}
