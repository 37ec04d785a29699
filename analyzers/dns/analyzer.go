package dns

import (
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/tcpsession"
)

// Table is the dns table, filled from Row.
var Table = analyzers.MustTable(Schema, map[string]analyzers.Computed[Row]{
	"qclass_name": func(r *Row, b array.Builder) { appendName(b, r.HasQuestion, QClassName(r.QClass)) },
	"qtype_name":  func(r *Row, b array.Builder) { appendName(b, r.HasQuestion, QTypeName(r.QType)) },
	"rcode_name":  func(r *Row, b array.Builder) { appendName(b, r.HasRcode, RcodeName(r.Rcode)) },
})

func appendName(b array.Builder, ok bool, name string) {
	if !ok {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(name)
}

// Analyzer registers DNS: UDP flows on ports 53, 5353 (mDNS) and 5355
// (LLMNR), and TCP connections to or from port 53.
var Analyzer = &analyzers.Analyzer{
	Name:   "dns",
	Tables: []*analyzers.Table{Table},
	Detect: func(f *analyzers.FlowInfo, _ tcpsession.Dir, _ []byte) analyzers.Verdict {
		if f.RespP == 53 || f.OrigP == 53 {
			return analyzers.Yes
		}
		return analyzers.No
	},
	NewStream: func(f *analyzers.FlowInfo, env *analyzers.Env) analyzers.Stream {
		return &flow{c: NewConn(f.FlowID, f.CommunityID, "tcp", envSink{env})}
	},
	UDPPorts: []uint16{53, 5353, 5355},
	NewDatagram: func(f *analyzers.FlowInfo, env *analyzers.Env) analyzers.Datagram {
		return &flow{c: NewConn(f.FlowID, f.CommunityID, "udp", envSink{env})}
	},
}

type envSink struct{ env *analyzers.Env }

func (s envSink) Row(r *Row)                               { s.env.Emit(Table, r.FlowID, r) }
func (s envSink) Warning(frame int64, kind, detail string) { s.env.Warn(frame, kind, detail) }

// flow adapts a Conn to the analyzer hooks.
type flow struct{ c *Conn }

func (f *flow) Data(dir tcpsession.Dir, data []byte, ts, frame int64) {
	f.c.Stream(int(dir)-1, data, ts, frame)
}
func (f *flow) Gap(dir tcpsession.Dir, n int64, ts, frame int64) { f.c.Gap(int(dir)-1, n, frame) }
func (f *flow) Datagram(_ tcpsession.Dir, payload []byte, ts, frame int64) {
	f.c.Datagram(payload, ts, frame)
}
func (f *flow) Close(ts int64) { f.c.Close(ts) }

// Service is "dns" once a message parsed cleanly.
func (f *flow) Service() string {
	if f.c.Good() {
		return "dns"
	}
	return ""
}
