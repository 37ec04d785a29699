package all

import (
	"strings"
	"testing"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/httpextract"
	"github.com/pcapq/pcapq/tcpsession"
)

type nopHTTPSink struct{}

func (nopHTTPSink) Transaction(*httpextract.Transaction) {}
func (nopHTTPSink) Body(*httpextract.Body)               {}
func (nopHTTPSink) Warning(int64, string, string)        {}

// BenchmarkHTTPStream: one keep-alive connection of 100 requests, 1460-byte
// segments, through httpextract directly and through the analyzers'
// dispatcher: the dispatcher's cost per segment is one more call.
func BenchmarkHTTPStream(b *testing.B) {
	req := "GET /small.txt HTTP/1.1\r\nHost: example.test\r\nUser-Agent: wrk\r\n\r\n"
	body := strings.Repeat("x", 4000)
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4000\r\n\r\n" + body
	var segs [][]byte
	for r := resp; len(r) > 0; {
		n := min(1460, len(r))
		segs = append(segs, []byte(r[:n]))
		r = r[n:]
	}
	run := func(b *testing.B, newStream func(*tcpsession.FlowInfo) tcpsession.StreamHandler) {
		b.ReportAllocs()
		b.SetBytes(int64(100 * (len(req) + len(resp))))
		for i := 0; i < b.N; i++ {
			h := newStream(&tcpsession.FlowInfo{FlowID: 1})
			for j := 0; j < 100; j++ {
				h.Data(tcpsession.DirOrig, []byte(req), int64(j), int64(j))
				for _, s := range segs {
					h.Data(tcpsession.DirResp, s, int64(j), int64(j))
				}
			}
			h.Close(1)
		}
	}
	b.Run("httpextract", func(b *testing.B) {
		run(b, httpextract.NewFactory(httpextract.DefaultOptions(), nopHTTPSink{}))
	})
	b.Run("dispatcher", func(b *testing.B) {
		env := &analyzers.Env{Emit: func(*analyzers.Table, int64, any) {}, Warn: func(int64, string, string) {}}
		run(b, analyzers.NewSet(Analyzers(httpextract.DefaultOptions())).NewStream(env))
	})
}
