package httpextract

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/tcpsession"
)

type nopSink struct{}

func (nopSink) Transaction(*Transaction)      {}
func (nopSink) Body(*Body)                    {}
func (nopSink) Warning(int64, string, string) {}

// BenchmarkHTTPParse feeds one keep-alive transaction per iteration to a
// single handler, in 1460-byte segments, and reports bytes of both
// directions per second.
func BenchmarkHTTPParse(b *testing.B) {
	body := strings.Repeat("<p>The quick brown fox jumps over the lazy dog.</p>\n", 200) // ~10 KB
	req := "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n\r\n"
	head := "HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/html\r\n"
	gz := gzipped(body)
	for _, bc := range []struct{ name, resp string }{
		{"simple", head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body},
		{"chunked", head + "Transfer-Encoding: chunked\r\n\r\n" + chunkedBody(body, 1024)},
		{"gzip", head + "Content-Encoding: gzip\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(gz)) + gz},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := NewFactory(DefaultOptions(), nopSink{})(&tcpsession.FlowInfo{})
			rq, rs := []byte(req), []byte(bc.resp)
			b.SetBytes(int64(len(rq) + len(rs)))
			b.ReportAllocs()
			for b.Loop() {
				h.Data(orig, rq, 1, 1)
				for off := 0; off < len(rs); off += 1460 {
					h.Data(resp, rs[off:min(off+1460, len(rs))], 2, 2)
				}
			}
			h.Close(3)
		})
	}
}
