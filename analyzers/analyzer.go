package analyzers

import (
	"strings"

	"github.com/pcapq/pcapq/tcpsession"
)

// Verdict is what a detector says about a stream's first bytes.
type Verdict uint8

const (
	NeedMore Verdict = iota // not enough bytes yet
	Yes                     // this protocol
	No                      // not this protocol
)

// Env is what the pipeline gives an analyzer's handlers: where rows and
// warnings go, and the options that apply to every analyzer. One Env
// serves one shard: handlers of one shard run on one goroutine.
type Env struct {
	// Emit hands a finished row (a pointer to the row type of t) to the
	// pipeline, which owns it from then on. flowID orders the rows:
	// rows of one flow keep the order they were emitted in.
	Emit func(t *Table, flowID int64, row any)
	// Warn adds a row to the warnings table.
	Warn func(frame int64, kind, detail string)
	// KeepBodies keeps payloads (HTTP bodies, WebSocket messages), up to
	// MaxBody bytes each (pcapq's --bodies and --body-cap).
	KeepBodies bool
	MaxBody    int64
}

// Stream is one TCP connection's handler: the reassembled bytes of each
// direction, in order, with gaps; Close once at the end. data is valid
// only during the call.
type Stream interface {
	Data(dir tcpsession.Dir, data []byte, ts, frame int64)
	Gap(dir tcpsession.Dir, n int64, ts, frame int64)
	Close(ts int64)
	// Service is the protocol's name for flows.service once the stream
	// is recognised as such, "" before (or never).
	Service() string
}

// Handover is implemented by a Stream that can pass its connection on,
// as HTTP does after a 101 Switching Protocols or a CONNECT tunnel. After
// each call that delivered data, the dispatcher asks; once ok, the
// stream gets no more data, and upgrade names what follows ("websocket",
// "connect", "h2c", ...). orig and resp are the bytes each direction sent
// after its HTTP message, already delivered to the stream but not parsed
// by it.
type Handover interface {
	Handover() (upgrade string, orig, resp []byte, ok bool)
}

// Datagram is one UDP flow's handler.
type Datagram interface {
	Datagram(dir tcpsession.Dir, payload []byte, ts, frame int64)
	Close(ts int64)
	Service() string
}

// FlowInfo identifies a flow to an analyzer (TCP or UDP).
type FlowInfo = tcpsession.FlowInfo

// Analyzer is one protocol's registration: the tables it fills and the
// hooks that feed it. See doc.go for how to add one.
type Analyzer struct {
	// Name is the protocol's name (and its option name: --no-NAME).
	Name string
	// Tables are the tables its rows go to.
	Tables []*Table

	// Detect, with NewStream, makes it a TCP analyzer: Detect sees the
	// first bytes of a direction (orig: dir == DirOrig) with the flow's
	// ports and says whether the connection is this protocol. Detectors
	// are asked in registration order; the first Yes takes the stream.
	Detect    func(f *FlowInfo, dir tcpsession.Dir, first []byte) Verdict
	NewStream func(f *FlowInfo, env *Env) Stream

	// Upgrades lists the HTTP upgrade tokens whose tunnel this analyzer
	// takes over (Handover's upgrade), e.g. "websocket". NewStream is
	// called for it with the tunnel's bytes.
	Upgrades []string

	// UDPPorts with NewDatagram make it a UDP analyzer for flows with
	// one of these ports on either side.
	UDPPorts    []uint16
	NewDatagram func(f *FlowInfo, env *Env) Datagram
}

// joinService adds s to a comma-separated list of services (Zeek's
// conn.log service field), in the order they were recognised.
func joinService(list, s string) string {
	if s == "" {
		return list
	}
	for _, x := range strings.Split(list, ",") {
		if x == s {
			return list
		}
	}
	if list == "" {
		return s
	}
	return list + "," + s
}
