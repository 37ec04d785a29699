package websocket

import (
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/tcpsession"
)

// Table is the websocket table, filled from Row.
var Table = analyzers.MustTable(Schema, map[string]analyzers.Computed[Row]{
	"direction": func(r *Row, b array.Builder) {
		d := "resp"
		if r.Orig {
			d = "orig"
		}
		b.(*array.StringBuilder).Append(d)
	},
	"opcode_name": func(r *Row, b array.Builder) { b.(*array.StringBuilder).Append(OpcodeName(r.Opcode)) },
})

// Analyzer registers WebSocket: it takes over a connection the HTTP
// analyzer hands on after a 101 answer to "Upgrade: websocket".
var Analyzer = &analyzers.Analyzer{
	Name:     "websocket",
	Tables:   []*analyzers.Table{Table},
	Upgrades: []string{"websocket"},
	NewStream: func(f *analyzers.FlowInfo, env *analyzers.Env) analyzers.Stream {
		return &stream{c: NewConn(f.FlowID, Options{KeepPayloads: env.KeepBodies, MaxPayload: env.MaxBody}, envSink{env})}
	},
}

type envSink struct{ env *analyzers.Env }

func (s envSink) Row(r *Row)                               { s.env.Emit(Table, r.FlowID, r) }
func (s envSink) Warning(frame int64, kind, detail string) { s.env.Warn(frame, kind, detail) }

type stream struct{ c *Conn }

func (s *stream) Data(dir tcpsession.Dir, data []byte, ts, frame int64) {
	s.c.Data(int(dir)-1, data, ts, frame)
}
func (s *stream) Gap(dir tcpsession.Dir, n int64, ts, frame int64) { s.c.Gap(int(dir)-1, n, frame) }
func (s *stream) Close(ts int64)                                   { s.c.Close(ts) }
func (s *stream) Service() string                                  { return "websocket" }
