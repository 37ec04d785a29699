package httpextract

import (
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

// Request/response pairing on real captures, checked against tshark.
//
// The captures are recorded by `scripts/testdata/record.sh pairing`
// between two network namespaces (Go net/http server from
// scripts/testdata/httpfixture, whose bodies name the request target they
// answer: "target /p?n=5"):
//
//   - http-pipelined-70.pcap: 70 GETs on one connection, one segment each,
//     all on the wire before the first response (the first, /slow, is held
//     300 ms); the 70 responses follow in order, five of them in one
//     segment. tshark 4.0 pairs every one of these responses with the last
//     request (http.request_in and http.response_for.uri name request 70),
//     so the expected pairing is the request tshark dissected with the URI
//     that tshark's http.file_data of the response names.
//   - http-keepalive-lost-status-line.pcap: 100 GETs one after another on
//     one keep-alive connection; the segment carrying the status line,
//     headers and first body bytes of the 40th response (/big, 4000 bytes
//     in 3 segments) was cut out with editcap. tshark leaves request 40
//     unanswered and pairs every later response with its request
//     (http.request_in); that is the expected pairing.

// tsharkTx is one request as tshark dissects it, with the response the
// expectation pairs it with (respFrame 0: none).
type tsharkTx struct {
	reqFrame  int64
	method    string
	uri       string
	respFrame int64
	code      int
	ttfbNs    int64 // time(respFrame) - time(reqFrame): the requests here are one segment each
}

// pairBy says where the expected pairing comes from.
type pairBy int

const (
	pairByRequestIn pairBy = iota // tshark's http.request_in
	pairByBody                    // the request whose URI the response body names
)

func tsharkPairing(t *testing.T, file string, by pairBy) []tsharkTx {
	t.Helper()
	testenv.Tool(t, "tshark")
	out, err := exec.Command("tshark", "-n", "-r", file, "-Y", "http",
		"-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\x01",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "http.request.method", "-e", "http.request.uri",
		"-e", "http.response.code", "-e", "http.request_in", "-e", "http.file_data").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	times := map[int64]float64{}
	var txs []tsharkTx
	byURI := map[string]int{}
	byFrame := map[int64]int{}
	type resp struct {
		frame, reqIn int64
		code         int
		body         string
	}
	var resps []resp
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		for len(f) < 7 {
			f = append(f, "")
		}
		frame, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark line %q: %v", line, err)
		}
		times[frame], _ = strconv.ParseFloat(f[1], 64)
		if f[2] != "" {
			methods, uris := strings.Split(f[2], "\x01"), strings.Split(f[3], "\x01")
			if len(methods) != 1 || len(uris) != 1 {
				t.Fatalf("frame %d: %d requests in one frame; this test wants one per frame", frame, len(methods))
			}
			if _, dup := byURI[uris[0]]; dup {
				t.Fatalf("frame %d: URI %s requested twice; the test captures use unique targets", frame, uris[0])
			}
			byURI[uris[0]] = len(txs)
			byFrame[frame] = len(txs)
			txs = append(txs, tsharkTx{reqFrame: frame, method: methods[0], uri: uris[0]})
		}
		if f[4] != "" {
			codes, ins, bodies := strings.Split(f[4], "\x01"), strings.Split(f[5], "\x01"), strings.Split(f[6], "\x01")
			for i, c := range codes {
				r := resp{frame: frame}
				r.code, _ = strconv.Atoi(c)
				if i < len(ins) {
					r.reqIn, _ = strconv.ParseInt(ins[i], 10, 64)
				}
				if i < len(bodies) {
					r.body = bodies[i]
				}
				resps = append(resps, r)
			}
		}
	}
	for _, r := range resps {
		// The server's body names the target it answers ("target /p?n=5\n").
		var fromBody = -1
		if fs := strings.Fields(strings.ReplaceAll(r.body, `\n`, " ")); len(fs) == 2 {
			if i, ok := byURI[fs[1]]; ok {
				fromBody = i
			}
		}
		i := fromBody
		if by == pairByRequestIn {
			j, ok := byFrame[r.reqIn]
			if !ok {
				t.Fatalf("response frame %d: tshark pairs it with no request (request_in %d)", r.frame, r.reqIn)
			}
			if j != fromBody {
				t.Fatalf("response frame %d: tshark's request_in %d disagrees with the body %q", r.frame, r.reqIn, r.body)
			}
			i = j
		}
		if i < 0 {
			t.Fatalf("response frame %d: body %q names no request tshark saw", r.frame, r.body)
		}
		if txs[i].respFrame != 0 {
			t.Fatalf("request %s answered twice (frames %d and %d)", txs[i].uri, txs[i].respFrame, r.frame)
		}
		txs[i].respFrame, txs[i].code = r.frame, r.code
		txs[i].ttfbNs = int64(math.Round((times[r.frame] - times[txs[i].reqFrame]) * 1e9))
	}
	return txs
}

// TestPairingMatchesTshark compares every transaction's request (frame,
// method, uri), response (frame, status) and ttfb with tshark's.
func TestPairingMatchesTshark(t *testing.T) {
	for _, tc := range []struct {
		file       string
		by         pairBy
		requests   int
		unanswered int
	}{
		{"http-pipelined-70.pcap", pairByBody, 70, 0},
		{"http-keepalive-lost-status-line.pcap", pairByRequestIn, 100, 1},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".pcap"), func(t *testing.T) {
			file := filepath.Join("testdata", tc.file)
			want := tsharkPairing(t, file, tc.by)
			if len(want) != tc.requests {
				t.Fatalf("tshark sees %d requests, the capture holds %d", len(want), tc.requests)
			}
			rows := extractCapture(t, file)
			if len(rows) != len(want) {
				t.Errorf("%d rows, want one per request: %d", len(rows), len(want))
			}
			wantByFrame := map[int64]tsharkTx{}
			unanswered := 0
			for _, w := range want {
				wantByFrame[w.reqFrame] = w
				if w.respFrame == 0 {
					unanswered++
				}
			}
			if unanswered != tc.unanswered {
				t.Fatalf("tshark leaves %d requests unanswered, the capture was made with %d", unanswered, tc.unanswered)
			}
			bad := 0
			fail := func(format string, args ...any) {
				t.Helper()
				if bad++; bad <= 10 {
					t.Errorf(format, args...)
				}
			}
			seen := map[int64]bool{}
			for _, r := range rows {
				x := r.tx
				w, ok := wantByFrame[x.ReqFrame]
				if !ok || seen[x.ReqFrame] {
					fail("row %d (%s %s, status %d, Missing %q): no request of tshark's, or a second row, at frame %d",
						x.TransDepth, x.Method, x.URI, x.StatusCode, x.Missing, x.ReqFrame)
					continue
				}
				seen[x.ReqFrame] = true
				if x.Method != w.method || x.URI != w.uri {
					fail("frame %d: request %s %s, tshark %s %s", x.ReqFrame, x.Method, x.URI, w.method, w.uri)
				}
				if w.respFrame == 0 {
					if x.HasStatus || x.RespFrame != 0 || x.Missing != "response" || !x.Gap {
						fail("%s: tshark has no response; row has status %d (HasStatus %v) at frame %d, Missing %q, Gap %v",
							w.uri, x.StatusCode, x.HasStatus, x.RespFrame, x.Missing, x.Gap)
					}
					continue
				}
				if !x.HasStatus || x.StatusCode != w.code || x.RespFrame != w.respFrame {
					fail("%s: response %d at frame %d, tshark %d at frame %d", w.uri, x.StatusCode, x.RespFrame, w.code, w.respFrame)
					continue
				}
				if x.Missing != "" || x.Error != "" {
					fail("%s: Missing %q Error %q", w.uri, x.Missing, x.Error)
				}
				// tshark prints epoch times to the ns; float64 keeps ~0.2 µs.
				if d := (x.TsRespStart - x.TsReqEnd) - w.ttfbNs; d < -1000 || d > 1000 {
					fail("%s: ttfb %d ns, from tshark's frame times %d ns", w.uri, x.TsRespStart-x.TsReqEnd, w.ttfbNs)
				}
			}
			for _, w := range want {
				if !seen[w.reqFrame] {
					fail("tshark's request %s %s (frame %d) has no row", w.method, w.uri, w.reqFrame)
				}
			}
			if bad > 0 {
				t.Fatalf("%d disagreements with tshark over %d requests", bad, len(want))
			}
			t.Logf("%d requests, %d rows, %d unanswered: all pairs, statuses and ttfb agree with tshark", len(want), len(rows), unanswered)
		})
	}
}
