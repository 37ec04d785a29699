package http

import (
	"sync"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/httpextract"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/tcpsession"
)

// Data is the http_data table (behind the http view), filled from
// httpextract.Transaction: its tagged fields, and these computed columns.
var Data = analyzers.MustTable(schema.HTTPData, map[string]analyzers.Computed[httpextract.Transaction]{
	"ttfb_ms": func(t *httpextract.Transaction, b array.Builder) {
		appendOptMs(b, t.TsRespStart-t.TsReqEnd, t.TsRespStart != 0 && t.TsReqEnd != 0)
	},
	"duration_ms": func(t *httpextract.Transaction, b array.Builder) {
		appendOptMs(b, t.TsRespEnd-t.TsReqStart, t.TsRespEnd != 0 && t.TsReqStart != 0)
	},
	// A request line without a target ("GET  HTTP/1.1") has uri '', as
	// Zeek logs it; uri and path are NULL only when there is no request.
	"uri":  func(t *httpextract.Transaction, b array.Builder) { appendReqStr(b, t.URI, t.Method != "") },
	"path": func(t *httpextract.Transaction, b array.Builder) { appendReqStr(b, t.Path, t.Method != "") },
	"req_body_len": func(t *httpextract.Transaction, b array.Builder) {
		if t.Method == "" {
			b.AppendNull()
			return
		}
		b.(*array.Int64Builder).Append(t.ReqBodyLen)
	},
	"req_headers_json":  func(t *httpextract.Transaction, b array.Builder) { appendHeaders(b, t.ReqHeaders) },
	"resp_headers_json": func(t *httpextract.Transaction, b array.Builder) { appendHeaders(b, t.RespHeaders) },
})

// Bodies is the http_bodies table (only with --bodies).
var Bodies = analyzers.MustTable(schema.HTTPBodies, map[string]analyzers.Computed[httpextract.Body]{
	"direction": func(bd *httpextract.Body, b array.Builder) {
		d := "response"
		if bd.Dir == tcpsession.DirOrig {
			d = "request"
		}
		b.(*array.StringBuilder).Append(d)
	},
})

// New returns the HTTP/1.x analyzer with the parser's bounds. It reads
// every TCP connection no earlier analyzer took (httpextract finds HTTP by
// content and drops other streams after a few bytes), and hands upgraded
// connections on (101, CONNECT).
func New(opts httpextract.Options) *analyzers.Analyzer {
	return &analyzers.Analyzer{
		Name:   "http",
		Tables: []*analyzers.Table{Data, Bodies},
		Detect: func(*analyzers.FlowInfo, tcpsession.Dir, []byte) analyzers.Verdict { return analyzers.Yes },
		NewStream: func(f *analyzers.FlowInfo, env *analyzers.Env) analyzers.Stream {
			o := opts
			if env.KeepBodies {
				o.KeepBodies = true
				if env.MaxBody > 0 {
					o.MaxBodyKeep = env.MaxBody
				}
			}
			s := httpextract.NewFactory(o, envSink{env})(f)
			return s.(stream)
		},
	}
}

// stream is what httpextract's handler offers: a StreamHandler that can
// hand an upgraded connection over.
type stream interface {
	tcpsession.StreamHandler
	analyzers.Handover
}

type envSink struct{ env *analyzers.Env }

func (s envSink) Transaction(t *httpextract.Transaction)   { s.env.Emit(Data, t.FlowID, t) }
func (s envSink) Body(b *httpextract.Body)                 { s.env.Emit(Bodies, b.FlowID, b) }
func (s envSink) Warning(frame int64, kind, detail string) { s.env.Warn(frame, kind, detail) }

// headerBufs holds scratch buffers for the header JSON (tables may be
// appended to from several pipelines at once).
var headerBufs = sync.Pool{New: func() any { return new([]byte) }}

func appendOptMs(b array.Builder, ns int64, ok bool) {
	if ok {
		b.(*array.Float64Builder).Append(float64(ns) / 1e6)
	} else {
		b.AppendNull()
	}
}

// appendReqStr appends v, even when empty, if ok; NULL otherwise.
func appendReqStr(b array.Builder, v string, ok bool) {
	if ok {
		b.(*array.StringBuilder).Append(schema.ValidText(v))
	} else {
		b.AppendNull()
	}
}

// appendHeaders appends headers as the JSON object http_data stores
// (NULL for nil): names in order of first appearance, each with the array
// of its values in order (map keys must be unique). Names and values are
// escaped for JSON after schema.ValidText.
func appendHeaders(b array.Builder, hs []httpextract.Header) {
	bp := headerBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() { *bp = buf[:0]; headerBufs.Put(bp) }()
	sb := b.(*array.StringBuilder)
	if hs == nil {
		sb.AppendNull()
		return
	}
	buf = append(buf[:0], '{')
	for i, h := range hs {
		dup := false
		for _, prev := range hs[:i] {
			if prev.Name == h.Name {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, h.Name)
		buf = append(buf, ':', '[')
		n := 0
		for _, h2 := range hs[i:] {
			if h2.Name == h.Name {
				if n > 0 {
					buf = append(buf, ',')
				}
				n++
				buf = appendJSONString(buf, h2.Value)
			}
		}
		buf = append(buf, ']')
	}
	buf = append(buf, '}')
	sb.BinaryBuilder.Append(buf)
}

// appendJSONString appends s as a JSON string holding schema.ValidText(s):
// quotes, backslashes and control characters escaped, a byte outside
// valid UTF-8 as the text \xNN.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			i++
			continue
		}
		if c >= 0x80 {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n > 1 {
				i += n
				continue
			}
		}
		buf = append(buf, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default: // a byte outside valid UTF-8: the text \xNN
			buf = append(buf, '\\', '\\', 'x', hex[c>>4], hex[c&15])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
