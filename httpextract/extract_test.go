package httpextract

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/tcpsession"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const (
	orig = tcpsession.DirOrig
	resp = tcpsession.DirResp
)

// seg is one segment of a test stream. Segments are delivered in order;
// a test may cut a segment into pieces, which keep the segment's ts and
// frame (1-based index), so every way of cutting must give equal rows.
type seg struct {
	dir  tcpsession.Dir
	data string
	gap  int64 // when > 0, a Gap of this many bytes instead of data
}

type warning struct {
	Frame        int64
	Kind, Detail string
}

type recSink struct {
	txs    []*Transaction
	bodies []*Body
	warns  []warning
}

func (s *recSink) Transaction(t *Transaction) { s.txs = append(s.txs, t) }
func (s *recSink) Body(b *Body)               { s.bodies = append(s.bodies, b) }
func (s *recSink) Warning(frame int64, kind, detail string) {
	s.warns = append(s.warns, warning{frame, kind, detail})
}

type result struct {
	Txs     []*Transaction
	Bodies  []*Body
	Warns   []warning
	Service string
}

// run feeds segs, cutting segment i at cuts(i, len) offsets, then closes.
func run(opts Options, segs []seg, cuts func(i, n int) []int) result {
	s := &recSink{}
	h := NewFactory(opts, s)(&tcpsession.FlowInfo{FlowID: 7, CommunityID: "1:x"})
	for i, sg := range segs {
		ts, frame := int64(i+1)*1000, int64(i+1)
		if sg.gap > 0 {
			h.Gap(sg.dir, sg.gap, ts, frame)
			continue
		}
		prev := 0
		var cs []int
		if cuts != nil {
			cs = cuts(i, len(sg.data))
		}
		for _, c := range append(cs, len(sg.data)) {
			c = min(c, len(sg.data))
			if c > prev {
				h.Data(sg.dir, []byte(sg.data[prev:c]), ts, frame)
				prev = c
			}
		}
	}
	h.Close(int64(len(segs)+1) * 1000)
	return result{s.txs, s.bodies, s.warns, h.Service()}
}

func total(segs []seg) int {
	n := 0
	for _, s := range segs {
		n += len(s.data)
	}
	return n
}

// checkSplits runs segs whole, one byte at a time, cut at every single
// offset (small inputs) and at random offsets; all must agree.
func checkSplits(t *testing.T, opts Options, segs []seg) result {
	t.Helper()
	want := run(opts, segs, nil)
	same := func(how string, got result) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: rows differ from the unsplit run:\n%s", how, lineDiff(render(got), render(want)))
		}
	}
	if total(segs) <= 1<<16 {
		same("byte at a time", run(opts, segs, func(_, n int) []int {
			cs := make([]int, n)
			for i := range cs {
				cs[i] = i
			}
			return cs
		}))
	}
	if total(segs) <= 4<<10 {
		for si := range segs {
			for off := 1; off < len(segs[si].data); off++ {
				same(fmt.Sprintf("segment %d cut at %d", si, off), run(opts, segs, func(i, _ int) []int {
					if i == si {
						return []int{off}
					}
					return nil
				}))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for r := range 20 {
		same(fmt.Sprintf("random split %d", r), run(opts, segs, func(_, n int) []int {
			var cs []int
			for c := 0; c < n; {
				c += 1 + rng.IntN(max(n/3, 1))
				cs = append(cs, c)
			}
			return cs
		}))
	}
	return want
}

// lineDiff lists the lines that differ (got -, want +).
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := range max(len(g), len(w)) {
		var x, y string
		if i < len(g) {
			x = g[i]
		}
		if i < len(w) {
			y = w[i]
		}
		if x != y {
			fmt.Fprintf(&b, "line %d:\n - %s\n + %s\n", i+1, x, y)
		}
	}
	return b.String()
}

// render prints rows in a stable text form (the golden file format).
func render(r result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "service=%q\n", r.Service)
	for _, t := range r.Txs {
		b.WriteString("--- transaction\n")
		v := reflect.ValueOf(*t)
		for i := range v.NumField() {
			f := v.Field(i)
			if f.IsZero() {
				continue
			}
			name := v.Type().Field(i).Name
			if h, ok := f.Interface().([]Header); ok {
				for _, x := range h {
					fmt.Fprintf(&b, "%s: %s: %q\n", name, x.Name, x.Value)
				}
				continue
			}
			fmt.Fprintf(&b, "%s: %#v\n", name, f.Interface())
		}
	}
	for _, x := range r.Bodies {
		fmt.Fprintf(&b, "--- body depth=%d dir=%s len=%d truncated=%v\n", x.TransDepth, x.Dir, len(x.Data), x.Truncated)
	}
	for _, w := range r.Warns {
		fmt.Fprintf(&b, "--- warning frame=%d %s %s\n", w.Frame, w.Kind, w.Detail)
	}
	return b.String()
}

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zlibbed(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func rawDeflated(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func chunkedBody(s string, size int) string {
	var b strings.Builder
	for len(s) > 0 {
		n := min(size, len(s))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

const getReq = "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\nReferer: http://example.com/\r\n\r\n"

func ok200(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

var text = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200)

// numbers is text that compresses only about 3:1.
var numbers = func() string {
	var b strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&b, "%d ", i*i%9973)
	}
	return b.String()
}()

type tcase struct {
	name   string
	opts   func(*Options)
	segs   []seg
	check  func(t *testing.T, r result)
	golden bool
}

func one(t *testing.T, r result) *Transaction {
	t.Helper()
	if len(r.Txs) != 1 {
		t.Fatalf("got %d transactions, want 1:\n%s", len(r.Txs), render(r))
	}
	return r.Txs[0]
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

var cases = []tcase{
	{
		name: "simple-get",
		segs: []seg{{orig, getReq, 0}, {resp, ok200("hello"), 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Method", x.Method, "GET")
			eq(t, "Host", x.Host, "example.com")
			eq(t, "Path", x.Path, "/index.html")
			eq(t, "Query", x.Query, "a=1&b=2")
			eq(t, "UserAgent", x.UserAgent, "test/1.0")
			eq(t, "Referrer", x.Referrer, "http://example.com/")
			eq(t, "StatusCode", x.StatusCode, 200)
			eq(t, "RespBodyLen", x.RespBodyLen, 5)
			eq(t, "TransDepth", x.TransDepth, 1)
			eq(t, "TsReqStart", x.TsReqStart, 1000)
			eq(t, "TsRespEnd", x.TsRespEnd, 2000)
			eq(t, "RespFrame", x.RespFrame, 2)
			eq(t, "service", r.Service, "http")
		},
		golden: true,
	},
	{
		name: "pipelined",
		segs: []seg{
			{orig, getReq + "GET /two HTTP/1.1\r\nHost: example.com\r\n\r\n" +
				"POST /three HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world", 0},
			{resp, ok200("first"), 0},
			{resp, "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody("not here", 3), 0},
			{resp, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			eq(t, "2.Path", r.Txs[1].Path, "/two")
			eq(t, "2.StatusCode", r.Txs[1].StatusCode, 404)
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 8)
			eq(t, "3.ReqBodyLen", r.Txs[2].ReqBodyLen, 11)
			eq(t, "3.TransDepth", r.Txs[2].TransDepth, 3)
			eq(t, "3.TsRespStart", r.Txs[2].TsRespStart, 4000)
		},
		golden: true,
	},
	{
		name: "chunked-trailers",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
				"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n", 0},
			{orig, "GET /next HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("x"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			x := r.Txs[0]
			eq(t, "RespBodyLen", x.RespBodyLen, 11)
			eq(t, "TransferEncoding", x.TransferEncoding, "chunked")
			eq(t, "last header", x.RespHeaders[len(x.RespHeaders)-1], Header{"X-Sum", "42"})
			eq(t, "Error", x.Error, "")
		},
		golden: true,
	},
	{
		name: "bad-chunk-size",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			eq(t, "Error", one(t, r).Error, ErrBadChunkSize)
		},
	},
	{
		name: "gzip",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
				fmt.Sprint(len(gzipped(text))) + "\r\n\r\n" + gzipped(text), 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "RespBodyLen", x.RespBodyLen, int64(len(text)))
			eq(t, "RespWireLen", x.RespWireLen, int64(len(gzipped(text))))
			eq(t, "ContentEncoding", x.ContentEncoding, "gzip")
			eq(t, "Error", x.Error, "")
		},
	},
	{
		name: "gzip-chunked",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
				chunkedBody(gzipped(text), 100), 0},
		},
		check: func(t *testing.T, r result) {
			eq(t, "RespBodyLen", one(t, r).RespBodyLen, int64(len(text)))
		},
	},
	{
		name: "deflate-zlib",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + zlibbed(text), 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "RespBodyLen", x.RespBodyLen, int64(len(text)))
			eq(t, "Error", x.Error, "")
		},
	},
	{
		name: "deflate-raw",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: " +
				fmt.Sprint(len(rawDeflated(text))) + "\r\n\r\n" + rawDeflated(text), 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "RespBodyLen", x.RespBodyLen, int64(len(text)))
			eq(t, "Error", x.Error, "")
		},
	},
	{
		// Request bodies are decoded as responses are (Zeek's
		// request_body_len is the decoded length too).
		name: "request-gzip",
		segs: []seg{
			{orig, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: " +
				fmt.Sprint(len(gzipped(text))) + "\r\n\r\n" + gzipped(text), 0},
			{resp, "HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n", 0},
			{orig, "POST /up2 HTTP/1.1\r\nContent-Encoding: x-gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody(gzipped(text[:1000]), 77), 0},
			{resp, ok200("ok"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.ReqBodyLen", r.Txs[0].ReqBodyLen, int64(len(text)))
			eq(t, "1.Error", r.Txs[0].Error, "")
			eq(t, "1.RespBodyLen", r.Txs[0].RespBodyLen, 0)
			eq(t, "1.ContentEncoding", r.Txs[0].ContentEncoding, "gzip") // the response's
			eq(t, "2.ReqBodyLen", r.Txs[1].ReqBodyLen, 1000)
			eq(t, "2.Error", r.Txs[1].Error, "")
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 2)
		},
	},
	{
		name: "request-deflate",
		segs: []seg{
			{orig, "PUT /z HTTP/1.1\r\nContent-Encoding: deflate\r\nContent-Length: " +
				fmt.Sprint(len(zlibbed(text))) + "\r\n\r\n" + zlibbed(text), 0},
			{resp, ok200(""), 0},
			{orig, "PUT /raw HTTP/1.1\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody(rawDeflated(text), 500), 0},
			{resp, ok200(""), 0},
			{orig, "PUT /plain HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello", 0},
			{resp, ok200(""), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			for i, want := range []int64{int64(len(text)), int64(len(text)), 5} {
				eq(t, fmt.Sprint(i+1, ".ReqBodyLen"), r.Txs[i].ReqBodyLen, want)
				eq(t, fmt.Sprint(i+1, ".Error"), r.Txs[i].Error, "")
			}
		},
	},
	{
		// An undecodable request body: a warning and its row's Error; the
		// pairing and the next transaction are unaffected.
		name: "request-gzip-corrupt",
		segs: []seg{
			{orig, "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbagegarbag" +
				"GET /next HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("a") + ok200("bb"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.Error", r.Txs[0].Error, ErrInflateFailed)
			eq(t, "1.StatusCode", r.Txs[0].StatusCode, 200)
			eq(t, "2.Path", r.Txs[1].Path, "/next")
			eq(t, "2.Error", r.Txs[1].Error, "")
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 2)
			if len(r.Warns) != 1 || r.Warns[0].Kind != ErrInflateFailed || !strings.Contains(r.Warns[0].Detail, "request side") {
				t.Errorf("warnings %v, want one %s on the request side", r.Warns, ErrInflateFailed)
			}
		},
	},
	{
		// A gap in a compressed request body: what decoded before it counts.
		name: "request-gzip-gap",
		segs: []seg{
			{orig, "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: " +
				fmt.Sprint(len(gzipped(numbers))) + "\r\n\r\n" + gzipped(numbers)[:1000], 0},
			{orig, "", 100},
			{orig, gzipped(numbers)[1100:], 0},
			{resp, ok200("a"), 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Gap", x.Gap, true)
			eq(t, "Error", x.Error, "")
			eq(t, "StatusCode", x.StatusCode, 200)
			if x.ReqBodyLen == 0 || x.ReqBodyLen >= int64(len(numbers))/2 {
				t.Errorf("ReqBodyLen %d, want what decoded before the gap (%d compressed bytes of %d)", x.ReqBodyLen, 1000, len(gzipped(numbers)))
			}
		},
	},
	{
		name: "request-keep-bodies-decoded",
		opts: func(o *Options) { o.KeepBodies = true },
		segs: []seg{
			{orig, "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: " +
				fmt.Sprint(len(gzipped("hello request"))) + "\r\n\r\n" + gzipped("hello request"), 0},
			{resp, ok200("a"), 0},
		},
		check: func(t *testing.T, r result) {
			eq(t, "ReqBodyLen", one(t, r).ReqBodyLen, 13)
			if len(r.Bodies) != 2 {
				t.Fatalf("got %d bodies", len(r.Bodies))
			}
			eq(t, "request body", string(r.Bodies[0].Data), "hello request")
			eq(t, "request body dir", r.Bodies[0].Dir, orig)
		},
	},
	{
		name: "gzip-corrupt",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbagegarbag", 0},
		},
		check: func(t *testing.T, r result) {
			eq(t, "Error", one(t, r).Error, ErrInflateFailed)
		},
	},
	{
		name: "100-continue",
		segs: []seg{
			{orig, "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n", 0},
			{resp, "HTTP/1.1 100 Continue\r\n\r\n", 0},
			{orig, "0123456789", 0},
			{resp, ok200("done"), 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "StatusCode", x.StatusCode, 200)
			eq(t, "InfoCode", x.InfoCode, 100)
			eq(t, "InfoMsg", x.InfoMsg, "Continue")
			eq(t, "ReqBodyLen", x.ReqBodyLen, 10)
			eq(t, "RespBodyLen", x.RespBodyLen, 4)
			eq(t, "TsReqEnd", x.TsReqEnd, 3000)
			eq(t, "TsRespStart", x.TsRespStart, 4000) // the final response, not the interim 100 (at 2000)
			eq(t, "RespFrame", x.RespFrame, 4)
			eq(t, "TsRespEnd", x.TsRespEnd, 4000)
		},
		golden: true,
	},
	{
		name: "head-and-304",
		segs: []seg{
			{orig, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\nGET /d HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0},
			{resp, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 0},
			{resp, "HTTP/1.1 204 No Content\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			for i, x := range r.Txs {
				eq(t, fmt.Sprint(i, " RespBodyLen"), x.RespBodyLen, 0)
				eq(t, fmt.Sprint(i, " Missing"), x.Missing, "")
			}
			eq(t, "3.StatusCode", r.Txs[2].StatusCode, 204)
		},
		golden: true,
	},
	{
		name: "websocket",
		segs: []seg{
			{orig, "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 0},
			{resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello", 0},
			{orig, "\x81\x85abcdHTTP/1.1 200 OK\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 OK\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Upgrade", x.Upgrade, "websocket")
			eq(t, "StatusCode", x.StatusCode, 101)
		},
	},
	{
		name: "connect",
		segs: []seg{
			{orig, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 Connection established\r\n\r\n", 0},
			{orig, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0},
			{resp, "\x16\x03\x03\x00\x5a\x02", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Upgrade", x.Upgrade, "connect")
			eq(t, "Method", x.Method, "CONNECT")
			eq(t, "URI", x.URI, "example.com:443")
		},
	},
	{
		name: "connect-refused",
		segs: []seg{
			{orig, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 0},
			{orig, "GET / HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("ok"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			eq(t, "Upgrade", r.Txs[0].Upgrade, "")
			eq(t, "2.StatusCode", r.Txs[1].StatusCode, 200)
		},
	},
	{
		name: "gap-in-body",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 0},
			{resp, "", 50},
			{resp, strings.Repeat("x", 40), 0},
			{orig, "GET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("ok"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			eq(t, "Gap", r.Txs[0].Gap, true)
			eq(t, "RespWireLen", r.Txs[0].RespWireLen, 100)
			eq(t, "RespBodyLen", r.Txs[0].RespBodyLen, 50)
			eq(t, "2.Gap", r.Txs[1].Gap, false)
			eq(t, "2.StatusCode", r.Txs[1].StatusCode, 200)
		},
		golden: true,
	},
	{
		name: "gap-in-headers-recovers",
		segs: []seg{
			{orig, getReq + "GET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Le", 0},
			{resp, "", 30},
			{resp, ok200("second"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "Gap", r.Txs[0].Gap, true)
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 6)
		},
	},
	{
		// A response whose status line and headers were lost in a gap while
		// its body arrived: its request is left unanswered and the next
		// status line pairs with the next request (tshark does the same on
		// testdata/http-keepalive-lost-status-line.pcap).
		name: "lost-status-line-keepalive",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("one"), 0},
			{orig, "GET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, "", 60},
			{resp, "HTTP\r\nthe rest of the body of the second response\nmore of it\n", 0},
			{orig, "GET /3 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("three"), 0},
			{orig, "GET /4 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("four"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 4 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			x := r.Txs[1]
			eq(t, "2.Path", x.Path, "/2")
			eq(t, "2.HasStatus", x.HasStatus, false)
			eq(t, "2.Missing", x.Missing, "response")
			eq(t, "2.Gap", x.Gap, true)
			eq(t, "2.TsRespStart", x.TsRespStart, 0)
			for i, want := range []struct {
				path string
				body int64
				ts   int64
			}{{"/1", 3, 2000}, {"/3", 5, 7000}, {"/4", 4, 9000}} {
				x := r.Txs[[]int{0, 2, 3}[i]]
				eq(t, want.path+" Path", x.Path, want.path)
				eq(t, want.path+" StatusCode", x.StatusCode, 200)
				eq(t, want.path+" RespBodyLen", x.RespBodyLen, want.body)
				eq(t, want.path+" TsRespStart", x.TsRespStart, want.ts)
				eq(t, want.path+" Missing", x.Missing, "")
			}
		},
	},
	{
		// The lost response's body is one line that starts like a status
		// line: however it is split, it shows a response was lost.
		name: "lost-status-line-short-body",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("one"), 0},
			{orig, "GET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, "", 60},
			{resp, "HTTP\r\n", 0},
			{orig, "GET /3 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("three"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "2.Missing", r.Txs[1].Missing, "response")
			eq(t, "3.StatusCode", r.Txs[2].StatusCode, 200)
			eq(t, "3.Missing", r.Txs[2].Missing, "")
		},
	},
	{
		name: "lost-status-line-pipelined",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("one"), 0},
			{resp, "", 30},
			{resp, "tail\nof\n", 0},
			{resp, "two", 0},
			{resp, ok200("three"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.RespBodyLen", r.Txs[0].RespBodyLen, 3)
			eq(t, "2.Missing", r.Txs[1].Missing, "response")
			eq(t, "2.HasStatus", r.Txs[1].HasStatus, false)
			eq(t, "3.Path", r.Txs[2].Path, "/3")
			eq(t, "3.RespBodyLen", r.Txs[2].RespBodyLen, 5)
			eq(t, "3.Missing", r.Txs[2].Missing, "")
		},
	},
	{
		// A gap from inside a Content-Length body to past its end took the
		// next response's status line too.
		name: "gap-past-content-length",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", 0},
			{resp, "", 5 + 40},
			{resp, "rest of two", 0},
			{resp, ok200("three"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.StatusCode", r.Txs[0].StatusCode, 200)
			eq(t, "1.Gap", r.Txs[0].Gap, true)
			eq(t, "2.Missing", r.Txs[1].Missing, "response")
			eq(t, "3.StatusCode", r.Txs[2].StatusCode, 200)
			eq(t, "3.RespBodyLen", r.Txs[2].RespBodyLen, 5)
		},
	},
	{
		// A gap past the end of a chunk: the chunked body goes on after
		// it, so the bytes skipped are still the first response's.
		name: "gap-past-chunk",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0},
			{resp, "", 10},
			{resp, "llo\r\n0\r\n\r\n", 0},
			{resp, ok200("two"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.Gap", r.Txs[0].Gap, true)
			eq(t, "2.StatusCode", r.Txs[1].StatusCode, 200)
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 3)
			eq(t, "2.Missing", r.Txs[1].Missing, "")
		},
	},
	{
		// A gap between two responses followed by a status line: nothing
		// shows that a response was lost, so the pairing goes on.
		name: "gap-between-responses",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("one"), 0},
			{resp, "", 10},
			{resp, "\r\n" + ok200("two"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "2.StatusCode", r.Txs[1].StatusCode, 200)
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 3)
			eq(t, "2.Gap", r.Txs[1].Gap, true)
		},
	},
	{
		// Two Content-Length fields that disagree: the framing is invalid
		// (RFC 9112 6.3). tshark 4.0 and Zeek both take the last value
		// without a word; we flag it and read the response to the close.
		name: "content-length-conflict-response",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 10\r\n\r\nhelloworld", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Error", x.Error, ErrBadContentLength)
			eq(t, "RespBodyLen", x.RespBodyLen, 10)
			if len(r.Warns) != 1 || r.Warns[0].Kind != ErrBadContentLength {
				t.Errorf("warnings %v, want one %s", r.Warns, ErrBadContentLength)
			}
		},
	},
	{
		// A server must refuse the request (400) and close; its bytes
		// after the header block are not taken for a body.
		name: "content-length-conflict-request",
		segs: []seg{
			{orig, "POST /p HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 3\r\n\r\nabc", 0},
			{resp, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Error", x.Error, ErrBadContentLength)
			eq(t, "ReqBodyLen", x.ReqBodyLen, 0)
			eq(t, "StatusCode", x.StatusCode, 400)
		},
	},
	{
		// Repeating the same Content-Length is not a conflict: the body is
		// framed by it and the next response pairs with the next request.
		name: "content-length-duplicate-equal",
		segs: []seg{
			{orig, "POST /p HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + ok200("two"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.Error", r.Txs[0].Error, "")
			eq(t, "1.ReqBodyLen", r.Txs[0].ReqBodyLen, 3)
			eq(t, "1.RespBodyLen", r.Txs[0].RespBodyLen, 5)
			eq(t, "2.Path", r.Txs[1].Path, "/2")
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 3)
			eq(t, "warnings", len(r.Warns), 0)
		},
	},
	{
		// A bad Content-Length spoils only its own message.
		name: "content-length-bad-then-good",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\nContent-Length: x\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 0},
			{resp, ok200("one") + ok200("two"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.Error", r.Txs[0].Error, ErrBadContentLength)
			eq(t, "2.Error", r.Txs[1].Error, "")
			eq(t, "2.ReqBodyLen", r.Txs[1].ReqBodyLen, 3)
			eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 3)
		},
	},
	{
		name: "content-length-empty",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nhello", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Error", x.Error, ErrBadContentLength)
			eq(t, "RespBodyLen", x.RespBodyLen, 5)
		},
	},
	{
		name: "content-length-not-a-number",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello!", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Error", x.Error, ErrBadContentLength)
			eq(t, "RespBodyLen", x.RespBodyLen, 6)
		},
	},
	{
		// After a gap, a status line shows nothing was lost: a later resync
		// (bad chunk) skipping bytes gives up no request.
		name: "gap-then-bad-chunk",
		segs: []seg{
			{orig, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0},
			{resp, ok200("one"), 0},
			{resp, "", 10},
			{resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\njunk line\r\nmore junk\r\n", 0},
			{resp, ok200("three"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "2.Error", r.Txs[1].Error, ErrBadChunkSize)
			eq(t, "3.StatusCode", r.Txs[2].StatusCode, 200)
			eq(t, "3.RespBodyLen", r.Txs[2].RespBodyLen, 5)
			eq(t, "3.Missing", r.Txs[2].Missing, "")
		},
	},
	{
		name: "unmatched-reply",
		segs: []seg{{resp, ok200("orphan"), 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Missing", x.Missing, "request")
			eq(t, "Error", x.Error, ErrUnmatchedReply)
			eq(t, "RespBodyLen", x.RespBodyLen, 6)
		},
	},
	{
		name: "no-response",
		segs: []seg{{orig, getReq + "GET /2 HTTP/1.1\r\n\r\n", 0}, {resp, ok200("a"), 0}},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			eq(t, "1.Missing", r.Txs[0].Missing, "")
			eq(t, "2.Missing", r.Txs[1].Missing, "response")
		},
	},
	{
		name: "close-delimited",
		segs: []seg{
			{orig, "GET / HTTP/1.0\r\n\r\n", 0},
			{resp, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nabc", 0},
			{resp, "defgh", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "RespBodyLen", x.RespBodyLen, 8)
			eq(t, "TsRespEnd", x.TsRespEnd, 3000)
			eq(t, "Error", x.Error, "")
		},
	},
	{
		name: "truncated-response",
		segs: []seg{
			{orig, getReq, 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Error", x.Error, ErrTruncatedReply)
			eq(t, "RespBodyLen", x.RespBodyLen, 3)
		},
	},
	{
		name: "truncated-request",
		segs: []seg{{orig, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Error", x.Error, ErrTruncatedRequest)
			eq(t, "Missing", x.Missing, "response")
		},
	},
	{
		name: "not-http",
		segs: []seg{
			{orig, "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03GET / HTTP/1.1\r\n\r\n", 0},
			{resp, "SSH-2.0-OpenSSH_9.6\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 0 || r.Service != "" {
				t.Fatalf("want nothing, got:\n%s", render(r))
			}
		},
	},
	{
		name: "http09",
		segs: []seg{{orig, "GET /old\r\n", 0}, {resp, "<html>hi</html>", 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Version", x.Version, "0.9")
			eq(t, "HasStatus", x.HasStatus, false)
			eq(t, "RespBodyLen", x.RespBodyLen, 15)
		},
	},
	{
		name: "http09-with-headers",
		segs: []seg{{orig, "GET /HTTP/1.1\nHost: www.google.com\n\n", 0}, {resp, "HTTP/1.0 403 Forbidden\r\n\r\nno", 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Version", x.Version, "0.9")
			eq(t, "URI", x.URI, "/HTTP/1.1")
			eq(t, "Host", x.Host, "www.google.com")
			eq(t, "RespBodyLen", x.RespBodyLen, 28) // the whole reply, as Zeek
		},
	},
	{
		name: "missing-uri",
		segs: []seg{{orig, "OPTIONS HTTP/1.1\r\nHost: h\r\n\r\n", 0}, {resp, ok200(""), 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "URI", x.URI, "")
			eq(t, "Version", x.Version, "1.1")
			eq(t, "StatusCode", x.StatusCode, 200)
		},
	},
	{
		name: "empty-target",
		segs: []seg{{orig, "GET  HTTP/1.1\r\nHost: h\r\n\r\n", 0}, {resp, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0}},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Method", x.Method, "GET")
			eq(t, "URI", x.URI, "")
			eq(t, "Version", x.Version, "1.1")
			eq(t, "StatusCode", x.StatusCode, 400)
			if len(r.Warns) != 1 || r.Warns[0].Kind != ErrMissingURI {
				t.Errorf("warnings %v, want one %s", r.Warns, ErrMissingURI)
			}
		},
	},
	{
		name: "unknown-method",
		segs: []seg{
			{orig, "CCM_POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 0},
			{resp, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			x := one(t, r)
			eq(t, "Method", x.Method, "CCM_POST")
			eq(t, "ReqBodyLen", x.ReqBodyLen, 2)
			eq(t, "Missing", x.Missing, "")
		},
	},
	{
		name: "unknown-method-no-version",
		segs: []seg{{orig, "NICK alice\r\nUSER alice 0 * :A\r\n", 0}},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 0 || r.Service != "" {
				t.Fatalf("IRC taken for HTTP:\n%s", render(r))
			}
		},
	},
	{
		name: "malformed",
		segs: []seg{
			{orig, "GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 0},
			{resp, "HTTP/1.1 2x0 Weird\r\n\r\n" + ok200("fine"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 2 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			// The bad status line is skipped; the next good one pairs with
			// the first request.
			eq(t, "1.StatusCode", r.Txs[0].StatusCode, 200)
			eq(t, "2.Missing", r.Txs[1].Missing, "response")
		},
		golden: true,
	},
	{
		name: "header-limits",
		opts: func(o *Options) { o.MaxHeaders = 3; o.MaxLineLength = 64; o.MaxHeaderBytes = 200 },
		segs: []seg{
			{orig, "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\n\r\n" +
				"GET /b HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n" +
				"GET /c HTTP/1.1\r\nA: " + strings.Repeat("v", 300) + "\r\n\r\n" +
				"GET /d HTTP/1.1\r\n\r\n", 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 3 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.Error", r.Txs[0].Error, ErrTooManyHeaders)
			eq(t, "2.Error", r.Txs[1].Error, ErrHeaderTooLong)
			eq(t, "3.Path", r.Txs[2].Path, "/d")
		},
	},
	{
		name: "pending-bound",
		opts: func(o *Options) { o.MaxPendingRequests = 2 },
		segs: []seg{{orig, strings.Repeat("GET / HTTP/1.1\r\n\r\n", 5), 0}},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 5 {
				t.Fatalf("got %d rows", len(r.Txs))
			}
			// Requests 3, 4 and 5 each find 2 waiting: the oldest is given up.
			for i, want := range []string{ErrTooManyPending, ErrTooManyPending, ErrTooManyPending, "", ""} {
				eq(t, fmt.Sprint(i+1, ".Error"), r.Txs[i].Error, want)
				eq(t, fmt.Sprint(i+1, ".Missing"), r.Txs[i].Missing, "response")
			}
		},
	},
	{
		name: "queue-bound-endless-request",
		opts: func(o *Options) { o.MaxPendingRequests = 2 },
		segs: []seg{
			{orig, "POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\nabc", 0},
			{resp, strings.Repeat(ok200("x"), 10), 0},
			{orig, "more body", 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Txs) != 10 {
				t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
			}
			eq(t, "1.Error", r.Txs[0].Error, ErrTooManyPending)
			eq(t, "1.StatusCode", r.Txs[0].StatusCode, 200)
			eq(t, "1.ReqBodyLen", r.Txs[0].ReqBodyLen, 3) // the parser let go of it
			eq(t, "10.Missing", r.Txs[9].Missing, "request")
		},
	},
	{
		name: "keep-bodies",
		opts: func(o *Options) { o.KeepBodies = true; o.MaxBodyKeep = 4 },
		segs: []seg{
			{orig, "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 0},
			{resp, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzipped("hello"), 0},
		},
		check: func(t *testing.T, r result) {
			if len(r.Bodies) != 2 {
				t.Fatalf("got %d bodies", len(r.Bodies))
			}
			eq(t, "req body", string(r.Bodies[0].Data), "abc")
			eq(t, "resp body", string(r.Bodies[1].Data), "hell")
			eq(t, "resp truncated", r.Bodies[1].Truncated, true)
		},
	},
}

func TestCases(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := DefaultOptions()
			if c.opts != nil {
				c.opts(&opts)
			}
			r := checkSplits(t, opts, c.segs)
			if c.check != nil {
				c.check(t, r)
			}
			if c.golden {
				golden(t, c.name, render(r))
			}
		})
	}
}

// TestRequestBomb: a request body of 10 MB of zeros gzipped stops at the
// same caps as a response's, in bounded memory, in both decoders.
func TestRequestBomb(t *testing.T) {
	zeros := make([]byte, 10<<20)
	bomb := []byte(gzipped(string(zeros)))
	for _, tc := range []struct {
		name string
		opts func(*Options)
	}{
		{"ratio", nil},
		{"size", func(o *Options) { o.MaxRatio = 1 << 30; o.MaxDecompressed = 1 << 20 }},
		{"ratio-keep", func(o *Options) { o.KeepBodies = true }},
		{"size-keep", func(o *Options) { o.KeepBodies = true; o.MaxRatio = 1 << 30; o.MaxDecompressed = 1 << 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			s := &recSink{}
			h := NewFactory(opts, s)(&tcpsession.FlowInfo{})
			h.Data(orig, []byte(fmt.Sprintf("POST /bomb HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(bomb))), 1, 1)
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			for off := 0; off < len(bomb); off += 1460 {
				h.Data(orig, bomb[off:min(off+1460, len(bomb))], 2, 2)
			}
			runtime.ReadMemStats(&m1)
			h.Data(resp, []byte(ok200("no")), 3, 3)
			h.Close(4)
			if len(s.txs) != 1 {
				t.Fatalf("got %d rows", len(s.txs))
			}
			x := s.txs[0]
			eq(t, "Error", x.Error, ErrInflateLimit)
			eq(t, "StatusCode", x.StatusCode, 200)
			if x.ReqBodyLen > opts.MaxDecompressed || x.ReqBodyLen > opts.MaxRatio*int64(len(bomb)) || x.ReqBodyLen >= int64(len(zeros)) {
				t.Errorf("ReqBodyLen = %d, want capped", x.ReqBodyLen)
			}
			// Counting holds 21 KB of state; keeping adds the kept bytes
			// (MaxBodyKeep, grown by append) and klauspost's decoder.
			limit := uint64(2 << 20)
			if opts.KeepBodies {
				limit += 4 * uint64(opts.MaxBodyKeep)
			}
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > limit {
				t.Errorf("decoding allocated %d bytes, want < %d", alloc, limit)
			}
			if len(s.warns) != 1 || s.warns[0].Kind != ErrInflateLimit {
				t.Errorf("warnings %v, want one %s", s.warns, ErrInflateLimit)
			}
			t.Logf("%s: wire %d decoded %d, allocated %d", tc.name, len(bomb), x.ReqBodyLen, m1.TotalAlloc-m0.TotalAlloc)
		})
	}
}

// TestBomb: 10 MB of zeros gzipped must stop at the cap, and decoding must
// not hold more than its bounded buffers.
func TestBomb(t *testing.T) {
	zeros := make([]byte, 10<<20)
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(zeros)
	w.Close()
	bomb := b.Bytes()
	for _, tc := range []struct {
		name string
		opts func(*Options)
	}{
		{"ratio", nil},
		{"size", func(o *Options) { o.MaxRatio = 1 << 30; o.MaxDecompressed = 1 << 20 }},
		{"ratio-keep", func(o *Options) { o.KeepBodies = true }},
		{"size-keep", func(o *Options) { o.KeepBodies = true; o.MaxRatio = 1 << 30; o.MaxDecompressed = 1 << 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			s := &recSink{}
			h := NewFactory(opts, s)(&tcpsession.FlowInfo{})
			h.Data(orig, []byte(getReq), 1, 1)
			h.Data(resp, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(bomb))), 2, 2)
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			for off := 0; off < len(bomb); off += 1460 {
				h.Data(resp, bomb[off:min(off+1460, len(bomb))], 3, 3)
			}
			runtime.ReadMemStats(&m1)
			h.Close(4)
			if len(s.txs) != 1 {
				t.Fatalf("got %d rows", len(s.txs))
			}
			x := s.txs[0]
			eq(t, "Error", x.Error, ErrInflateLimit)
			eq(t, "RespWireLen", x.RespWireLen, int64(len(bomb)))
			if x.RespBodyLen > opts.MaxDecompressed || x.RespBodyLen >= int64(len(zeros)) {
				t.Errorf("RespBodyLen = %d, want capped", x.RespBodyLen)
			}
			limit := uint64(2 << 20)
			if opts.KeepBodies {
				limit += 4 * uint64(opts.MaxBodyKeep)
			}
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > limit {
				t.Errorf("decoding allocated %d bytes, want < %d", alloc, limit)
			}
			t.Logf("%s: wire %d decoded %d, allocated %d", tc.name, x.RespWireLen, x.RespBodyLen, m1.TotalAlloc-m0.TotalAlloc)
		})
	}
}

// TestSteadyStateAllocs: body bytes of a large response allocate nothing.
func TestSteadyStateAllocs(t *testing.T) {
	piece := bytes.Repeat([]byte("x"), 1400)
	chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", len(piece), piece))
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields(text + " alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")
	var sb strings.Builder
	for sb.Len() < 3<<20 {
		sb.WriteString(words[rng.IntN(len(words))])
		sb.WriteString(" ")
		if rng.IntN(7) == 0 {
			fmt.Fprint(&sb, rng.IntN(100000))
		}
	}
	comp := []byte(gzipped(sb.String()))
	for _, tc := range []struct {
		name, head string
		data       []byte
		step       int
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n", piece, 0},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk, 0},
		{"gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n", comp, 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewFactory(DefaultOptions(), &recSink{})(&tcpsession.FlowInfo{})
			h.Data(orig, []byte(getReq), 1, 1)
			h.Data(resp, []byte(tc.head), 2, 2)
			off := 0
			next := func() []byte {
				if tc.step == 0 {
					return tc.data
				}
				if off+tc.step > len(tc.data) {
					t.Fatal("test stream too short")
				}
				b := tc.data[off : off+tc.step]
				off += tc.step
				return b
			}
			for range 200 { // warm up buffers
				h.Data(resp, next(), 3, 3)
			}
			if n := testing.AllocsPerRun(200, func() { h.Data(resp, next(), 3, 3) }); n != 0 {
				t.Errorf("%v allocations per segment, want 0", n)
			}
		})
	}
}

func TestZeroOptionsBounded(t *testing.T) {
	r := run(Options{}, []seg{{orig, getReq, 0}, {resp, ok200("hi"), 0}}, nil)
	if len(r.Txs) != 1 || r.Txs[0].RespBodyLen != 2 {
		t.Fatalf("zero Options: %s", render(r))
	}
}

// feed is one call to a handler with explicit times, for tests where
// delivery order and capture time differ (tcpsession delivers a buffered
// out-of-order segment with its own, earlier, time).
type feed struct {
	dir  tcpsession.Dir
	data string
	gap  int64
	ts   int64
}

func runFeeds(feeds []feed) result {
	s := &recSink{}
	h := NewFactory(DefaultOptions(), s)(&tcpsession.FlowInfo{FlowID: 7})
	for i, f := range feeds {
		if f.gap > 0 {
			h.Gap(f.dir, f.gap, f.ts, int64(i+1))
		} else {
			h.Data(f.dir, []byte(f.data), f.ts, int64(i+1))
		}
	}
	h.Close(1 << 40)
	return result{s.txs, s.bodies, s.warns, h.Service()}
}

// TestResponseBeforeRequest: a response that began before the oldest
// waiting request was sent answers none of the waiting requests; its row
// (Missing = "request") comes before theirs in TransDepth order.
func TestResponseBeforeRequest(t *testing.T) {
	r := runFeeds([]feed{
		{orig, "GET /1 HTTP/1.1\r\n\r\n", 0, 1000},
		{orig, "GET /2 HTTP/1.1\r\n\r\n", 0, 1100},
		{resp, ok200("early"), 0, 500},
		{resp, ok200("one"), 0, 2000},
		{resp, ok200("two!"), 0, 2100},
	})
	if len(r.Txs) != 3 {
		t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
	}
	for i, want := range []struct {
		depth   int
		path    string
		body    int64
		missing string
	}{{1, "", 5, "request"}, {2, "/1", 3, ""}, {3, "/2", 4, ""}} {
		x := r.Txs[i]
		eq(t, fmt.Sprint(i, " TransDepth"), x.TransDepth, want.depth)
		eq(t, fmt.Sprint(i, " Path"), x.Path, want.path)
		eq(t, fmt.Sprint(i, " RespBodyLen"), x.RespBodyLen, want.body)
		eq(t, fmt.Sprint(i, " Missing"), x.Missing, want.missing)
	}
}

// TestLostHeadTimeRule: body bytes after a gap that were sent before the
// waiting request cannot belong to its response: the request stays
// waiting and gets the next status line.
func TestLostHeadTimeRule(t *testing.T) {
	r := runFeeds([]feed{
		{orig, "GET /1 HTTP/1.1\r\n\r\n", 0, 1000},
		{resp, ok200("one"), 0, 1500},
		{orig, "GET /2 HTTP/1.1\r\n\r\n", 0, 3000},
		{resp, "", 50, 3000},
		{resp, "stray bytes sent before request 2\n", 0, 2500},
		{resp, ok200("two"), 0, 3500},
	})
	if len(r.Txs) != 2 {
		t.Fatalf("got %d rows:\n%s", len(r.Txs), render(r))
	}
	eq(t, "2.StatusCode", r.Txs[1].StatusCode, 200)
	eq(t, "2.RespBodyLen", r.Txs[1].RespBodyLen, 3)
	eq(t, "2.Missing", r.Txs[1].Missing, "")
}

// TestPipelinedQueue: long pipelines, answered all at once or interleaved
// with more requests, so that the queue of waiting requests is compacted
// while requests still wait (at 32 emitted rows and more). Response i has
// a body of i bytes: every row must pair /i with the i-byte body.
func TestPipelinedQueue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		batch []int // requests sent, then responses sent, alternately
	}{
		{"70-then-70", 70, []int{70, 70}},
		{"64-then-64", 64, []int{64, 64}},
		{"200-then-200", 200, []int{200, 200}},
		{"interleaved", 150, []int{40, 20, 40, 45, 70, 85}},
		{"sequential", 100, slicesRepeat([]int{1, 1}, 100)},
		{"one-ahead", 100, append([]int{2}, slicesRepeat([]int{1, 1}, 98, 1, 0, 1)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs []seg
			reqs, resps := 0, 0
			for i, k := range tc.batch {
				var b strings.Builder
				if i%2 == 0 {
					for range k {
						reqs++
						fmt.Fprintf(&b, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", reqs)
					}
					segs = append(segs, seg{orig, b.String(), 0})
					continue
				}
				for range k {
					// One segment per response, as servers write them.
					resps++
					segs = append(segs, seg{resp, ok200(strings.Repeat("x", resps)), 0})
				}
			}
			if reqs != tc.n || resps != tc.n {
				t.Fatalf("test sends %d requests, %d responses, want %d", reqs, resps, tc.n)
			}
			r := run(DefaultOptions(), segs, nil)
			if len(r.Txs) != tc.n {
				t.Errorf("%d rows, want %d", len(r.Txs), tc.n)
			}
			bad := 0
			for i, x := range r.Txs {
				if x.TransDepth != i+1 || x.Path != fmt.Sprintf("/%d", i+1) || x.RespBodyLen != int64(i+1) || x.Missing != "" || x.Error != "" {
					if bad++; bad <= 5 {
						t.Errorf("row %d: depth %d path %s resp body %d Missing %q Error %q", i+1, x.TransDepth, x.Path, x.RespBodyLen, x.Missing, x.Error)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d rows wrong", bad, len(r.Txs))
			}
		})
	}
}

// slicesRepeat returns s repeated n times followed by tail.
func slicesRepeat(s []int, n int, tail ...int) []int {
	var out []int
	for range n {
		out = append(out, s...)
	}
	return append(out, tail...)
}
