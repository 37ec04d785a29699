package tls

import (
	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/tcpsession"
)

// Table is the tls table, filled from Row.
var Table = analyzers.MustTable[Row](Schema, nil)

// Analyzer registers TLS: any TCP connection whose first record is a
// handshake record holding a ClientHello (or, when the client's side was
// not captured, a ServerHello). Its service is "ssl", as Zeek names it.
var Analyzer = &analyzers.Analyzer{
	Name:   "tls",
	Tables: []*analyzers.Table{Table},
	Detect: func(_ *analyzers.FlowInfo, dir tcpsession.Dir, first []byte) analyzers.Verdict {
		switch Detect(first, dir == tcpsession.DirOrig) {
		case Yes:
			return analyzers.Yes
		case No:
			return analyzers.No
		}
		return analyzers.NeedMore
	},
	NewStream: func(f *analyzers.FlowInfo, env *analyzers.Env) analyzers.Stream {
		return &stream{c: NewConn(f.FlowID, f.CommunityID, Options{}, envSink{env})}
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

// Service is "ssl" once a hello was parsed.
func (s *stream) Service() string {
	if s.c.chSeen || s.c.shSeen {
		return "ssl"
	}
	return ""
}
