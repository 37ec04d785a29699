package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// tsharkHTTP returns, per TCP connection (client ip|port), the requests
// and responses tshark saw, in order, and each response's expected time to
// first byte, built from two tshark runs (both times are tshark's own):
//
//   - with http.desegment_body on (tshark's default) a request is reported
//     at the frame that completes it, body included: its http.request_in
//     is the end of the request;
//   - with http.desegment_body off a response is reported at the frame
//     that completes its headers, its first segment for every response
//     here: the first response byte.
//
// expected ttfb = time(first response frame) - time(request-complete
// frame), which is pcapq's ttfb_ms definition. For requests without a body
// it equals tshark's http.time in the second run.
type tsharkConn struct {
	reqs   []string  // "METHOD URI"
	codes  []string  // status per response
	ttfb   []float64 // expected ttfb in ms per response, NaN when tshark paired no request
	rframe []int64   // first response frame per response
}

type tsharkResp struct {
	frame, reqIn int64
	code         string
}

func tsharkHTTPRun(t *testing.T, file string, desegBody bool) (reqs map[string][]string, resps map[string][]tsharkResp, times map[int64]float64) {
	out, err := exec.Command("tshark", "-n", "-r", file, "-o", fmt.Sprintf("http.desegment_body:%v", desegBody),
		"-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
		"-e", "http.request.method", "-e", "http.request.uri", "-e", "http.response.code", "-e", "http.request_in").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	reqs, resps, times = map[string][]string{}, map[string][]tsharkResp{}, map[int64]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		for len(f) < 12 {
			f = append(f, "")
		}
		frame, _ := strconv.ParseInt(f[0], 10, 64)
		times[frame], _ = strconv.ParseFloat(f[1], 64)
		src, dst := first(f[2], f[3]), first(f[5], f[6])
		if f[8] != "" {
			methods, uris := strings.Split(f[8], "|"), strings.Split(f[9], "|")
			for i := range methods {
				reqs[src+"|"+f[4]] = append(reqs[src+"|"+f[4]], methods[i]+" "+uris[min(i, len(uris)-1)])
			}
		}
		if f[10] != "" {
			ins := strings.Split(f[11], "|")
			for i, code := range strings.Split(f[10], "|") {
				var in int64
				if i < len(ins) {
					in, _ = strconv.ParseInt(ins[i], 10, 64)
				}
				resps[dst+"|"+f[7]] = append(resps[dst+"|"+f[7]], tsharkResp{frame: frame, reqIn: in, code: code})
			}
		}
	}
	return reqs, resps, times
}

func tsharkHTTP(t *testing.T, file string) map[string]*tsharkConn {
	testenv.Tool(t, "tshark")
	reqs, whole, times := tsharkHTTPRun(t, file, true)
	_, heads, _ := tsharkHTTPRun(t, file, false)
	conns := map[string]*tsharkConn{}
	get := func(k string) *tsharkConn {
		if conns[k] == nil {
			conns[k] = &tsharkConn{}
		}
		return conns[k]
	}
	for k, r := range reqs {
		get(k).reqs = r
	}
	for k, rs := range heads {
		c := get(k)
		for i, r := range rs {
			c.codes = append(c.codes, r.code)
			c.rframe = append(c.rframe, r.frame)
			ttfb := math.NaN()
			if i < len(whole[k]) && whole[k][i].reqIn != 0 {
				ttfb = (times[r.frame] - times[whole[k][i].reqIn]) * 1000
			}
			c.ttfb = append(c.ttfb, ttfb)
		}
	}
	return conns
}

// TestHTTPMatchesTsharkAndNginx checks the http table of captures of real
// traffic (mkcapture: nginx, wrk, curl; with drops) against tshark and
// against nginx's own access log.
func TestHTTPMatchesTsharkAndNginx(t *testing.T) {
	for _, name := range []string{"mkcapture-small", "mkcapture-small-mix"} {
		t.Run(name, func(t *testing.T) {
			file := "../../testdata/" + name + ".pcap"
			want := tsharkHTTP(t, file)
			db := ingestMem(t, 2, file)
			rows, err := db.Query(context.Background(), `SELECT f.orig_h || '|' || f.orig_p, h.method, h.uri, h.status_code, h.ttfb_ms, h.resp_frame
				FROM http h JOIN flows f USING (capture_id, flow_id) ORDER BY h.flow_id, h.trans_depth`)
			if err != nil {
				t.Fatal(err)
			}
			type tx struct {
				req, code string
				ttfb      float64
				rframe    int64
			}
			got := map[string][]tx{}
			total := 0
			for rows.Next() {
				var key string
				var method, uri *string
				var code *int32
				var ttfb *float64
				var rframe *int64
				if err := rows.Scan(&key, &method, &uri, &code, &ttfb, &rframe); err != nil {
					t.Fatal(err)
				}
				x := tx{ttfb: math.NaN()}
				if method != nil {
					x.req = *method + " " + *uri
				}
				if code != nil {
					x.code = fmt.Sprint(*code)
				}
				if ttfb != nil {
					x.ttfb = *ttfb
				}
				if rframe != nil {
					x.rframe = *rframe
				}
				got[key] = append(got[key], x)
				total++
			}
			rows.Close()

			// (method, uri, status) per connection equals tshark's pairs.
			mismatch := 0
			for key, w := range want {
				var wantPairs, gotPairs []string
				for i, r := range w.reqs {
					code := ""
					if i < len(w.codes) {
						code = w.codes[i]
					}
					wantPairs = append(wantPairs, r+" "+code)
				}
				for _, x := range got[key] {
					gotPairs = append(gotPairs, x.req+" "+x.code)
				}
				sort.Strings(wantPairs)
				sort.Strings(gotPairs)
				if strings.Join(wantPairs, ",") != strings.Join(gotPairs, ",") {
					mismatch++
					if mismatch < 10 {
						t.Errorf("connection %s: pcapq %v, tshark %v", key, gotPairs, wantPairs)
					}
				}
			}
			for key := range got {
				if want[key] == nil {
					t.Errorf("connection %s: pcapq has HTTP tshark does not: %v", key, got[key])
				}
			}

			// Number of transactions equals the requests nginx served.
			logLines := countLines(t, "../../testdata/"+name+".access.log")
			if total != logLines {
				t.Errorf("%d transactions, nginx logged %d requests", total, logLines)
			}

			// ttfb_ms vs tshark's http.time (per response frame).
			compared, within := 0, 0
			for key, w := range want {
				byFrame := map[int64]float64{}
				for _, x := range got[key] {
					byFrame[x.rframe] = x.ttfb
				}
				for i, tm := range w.ttfb {
					if math.IsNaN(tm) {
						continue
					}
					compared++
					if g, ok := byFrame[w.rframe[i]]; ok && math.Abs(g-tm) <= 1.0 {
						within++
					} else if compared-within <= 5 {
						t.Logf("frame %d: ttfb_ms %v, from tshark %.3f ms", w.rframe[i], byFrame[w.rframe[i]], tm)
					}
				}
			}
			if compared == 0 || within != compared {
				t.Errorf("ttfb_ms within 1 ms of tshark's http.time for %d of %d responses, want all", within, compared)
			}
			t.Logf("%s: %d transactions (nginx logged %d), %d connections vs tshark, %d mismatched; ttfb within 1 ms of tshark: %d/%d",
				name, total, logLines, len(want), mismatch, within, compared)
		})
	}
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

// TestHTTPGolden pins the http table of the small recorded captures
// (websocket upgrade, pipelining, 100-continue, chunked with trailer, gzip,
// HEAD/304/204). Refresh with -update after checking the change by hand
// against tshark (testdata/*.tshark.tsv).
func TestHTTPGolden(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/http-*.pcap")
	if len(files) < 6 {
		t.Fatalf("want the 6 recorded http-*.pcap captures, found %d", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pcap")
		t.Run(name, func(t *testing.T) {
			db := ingestMem(t, 1, f)
			var out strings.Builder
			err := db.Output(context.Background(), `SELECT trans_depth, req_frame, resp_frame, method, host, uri, version, req_body_len,
				status_code, status_msg, transfer_encoding, content_encoding, resp_body_len, resp_wire_len, upgrade, missing, gap, error,
				round(ttfb_ms, 3) AS ttfb_ms, resp_headers
				FROM http ORDER BY flow_id, trans_depth`, "jsonl", &out, "")
			if err != nil {
				t.Fatal(err)
			}
			// Stable text: resp_headers as a sorted JSON object.
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatal(err)
				}
				delete(m, "resp_headers_date")
				b, _ := json.Marshal(m)
				lines = append(lines, string(b))
			}
			got := strings.Join(lines, "\n") + "\n"
			golden := filepath.Join("testdata", name+".http.golden")
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			if string(want) != got {
				t.Errorf("http rows differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestHTTPEmptyTarget: a request line with no target ("GET  HTTP/1.1",
// "OPTIONS HTTP/1.1") has the empty string as uri, as Zeek logs it
// ("(empty)", not "-"); a row with no request has uri NULL.
func TestHTTPEmptyTarget(t *testing.T) {
	file := tcpExchange(t,
		[]byte("GET  HTTP/1.1\r\nHost: h\r\n\r\n"),
		[]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
		[]byte("OPTIONS HTTP/1.1\r\nHost: h\r\n\r\n"),
		[]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	)
	db := ingestMem(t, 1, file)
	var out strings.Builder
	if err := db.Output(context.Background(), `SELECT trans_depth, method, uri IS NULL AS uri_null, uri, path IS NULL AS path_null, path, query, version, status_code, missing
		FROM http ORDER BY trans_depth`, "csv", &out, ""); err != nil {
		t.Fatal(err)
	}
	want := `trans_depth,method,uri_null,uri,path_null,path,query,version,status_code,missing
1,GET,false,,false,,,1.1,400,
2,OPTIONS,false,,false,,,1.1,400,
3,,true,,true,,,,200,request
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestHTTPURINullLikeZeek: over the corpus's Zeek http.log baselines, uri is
// NULL exactly where Zeek logs "-" (no request), the empty string where Zeek logs
// "(empty)", and otherwise Zeek's value, for every row both have.
func TestHTTPURINullLikeZeek(t *testing.T) {
	dir := corpusDir(t)
	logs, _ := filepath.Glob(filepath.Join(dir, "expected", "zeek-*.http.log*"))
	// Rows where the uri differs for a reason measured and explained in
	// httpextract's TestZeekHTTPLog (zeekKnown).
	known := map[string]string{
		"zeek-http-methods|128.2.6.136 46578 173.194.75.103 80 1": "CCM_POST with no version opening the stream: Zeek reads HTTP/0.9, we do not take it for HTTP",
	}
	compared, empty, null := 0, 0, 0
	for _, lp := range logs {
		stem := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(lp), ".cut"), ".http.log")
		capPath := filepath.Join(dir, "pcaps", stem+".pcap")
		if _, err := os.Stat(capPath); err != nil {
			capPath = filepath.Join(dir, "pcaps", stem+".pcapng")
		}
		zeek := zeekURIs(t, lp)
		db := ingestMem(t, 1, capPath)
		rows, err := db.Query(context.Background(), `SELECT f.orig_h || ' ' || f.orig_p || ' ' || f.resp_h || ' ' || f.resp_p || ' ' || h.trans_depth, h.uri
			FROM http h JOIN flows f USING (capture_id, flow_id)`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var key string
			var uri *string
			if err := rows.Scan(&key, &uri); err != nil {
				t.Fatal(err)
			}
			z, ok := zeek[key]
			if !ok {
				continue
			}
			if why, ok := known[stem+"|"+key]; ok {
				t.Logf("%s %s: skipped (%s)", stem, key, why)
				continue
			}
			compared++
			got := "-"
			switch {
			case uri == nil:
				null++
			case *uri == "":
				got = "(empty)"
				empty++
			default:
				got = *uri
			}
			if got != z {
				t.Errorf("%s %s: uri %s (NULL shown as -, '' as (empty)), Zeek %s", stem, key, got, z)
			}
		}
		rows.Close()
	}
	if compared == 0 {
		t.Fatal("no rows compared")
	}
	if empty == 0 || null == 0 {
		t.Errorf("the baselines should hold both an empty and an unset uri: %d empty, %d NULL", empty, null)
	}
	t.Logf("%d uris compared with Zeek (%d empty, %d NULL)", compared, empty, null)
}

// zeekURIs maps "orig_h orig_p resp_h resp_p trans_depth" to Zeek's uri
// field as logged ("-" unset, "(empty)" empty).
func zeekURIs(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	var fields []string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "#fields\t"):
			fields = strings.Split(line, "\t")[1:]
			continue
		case strings.HasPrefix(line, "ts\t") && fields == nil:
			fields = strings.Split(line, "\t")
			continue
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		v := map[string]string{}
		for i, x := range strings.Split(line, "\t") {
			if i < len(fields) {
				v[fields[i]] = x
			}
		}
		m[strings.Join([]string{v["id.orig_h"], v["id.orig_p"], v["id.resp_h"], v["id.resp_p"], v["trans_depth"]}, " ")] = v["uri"]
	}
	return m
}

// TestHTTPRequestBodyDecodedLikeTshark: request bodies with
// Content-Encoding gzip, x-gzip or deflate (zlib or raw), by length or
// chunked, have req_body_len equal to the decoded size tshark shows for the
// request (its "File Data: N bytes", decompressed and de-chunked).
func TestHTTPRequestBodyDecodedLikeTshark(t *testing.T) {
	testenv.Tool(t, "tshark")
	var plain strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&plain, "field%d=%d&", i, i*i%9973)
	}
	body := plain.String()
	comp := func(w func(io.Writer) io.WriteCloser) string {
		var b bytes.Buffer
		z := w(&b)
		io.WriteString(z, body)
		z.Close()
		return b.String()
	}
	gz := comp(func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	zl := comp(func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) })
	raw := comp(func(w io.Writer) io.WriteCloser { z, _ := flate.NewWriter(w, 6); return z })
	chunked := func(s string) string {
		var b strings.Builder
		for len(s) > 0 {
			n := min(len(s), 1000)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
			s = s[n:]
		}
		return b.String() + "0\r\n\r\n"
	}
	post := func(enc, framing, b string) []byte {
		h := "POST /up HTTP/1.1\r\nHost: h\r\n"
		if enc != "" {
			h += "Content-Encoding: " + enc + "\r\n"
		}
		if framing == "chunked" {
			return []byte(h + "Transfer-Encoding: chunked\r\n\r\n" + chunked(b))
		}
		return []byte(h + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(b)) + b)
	}
	ok := []byte("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
	file := tcpExchange(t,
		post("gzip", "length", gz), ok,
		post("x-gzip", "chunked", gz), ok,
		post("deflate", "chunked", zl), ok,
		post("deflate", "length", raw), ok,
		post("", "length", body), ok,
	)
	out, err := exec.Command("tshark", "-n", "-r", file, "-T", "pdml").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	// frame number -> decoded request body size as tshark shows it
	frameRe := regexp.MustCompile(`<field name="frame.number" [^>]*show="(\d+)"`)
	fileRe := regexp.MustCompile(`<field name="http.file_data" showname="File Data: (\d+) bytes"`)
	want := map[int64]int64{}
	var frame int64
	for _, line := range strings.Split(string(out), "\n") {
		if m := frameRe.FindStringSubmatch(line); m != nil {
			frame, _ = strconv.ParseInt(m[1], 10, 64)
		}
		if m := fileRe.FindStringSubmatch(line); m != nil {
			want[frame], _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	db := ingestMem(t, 1, file)
	rows, err := db.Query(context.Background(), `SELECT req_frame, req_body_len, error FROM http ORDER BY trans_depth`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var frame, got int64
		var e *string
		if err := rows.Scan(&frame, &got, &e); err != nil {
			t.Fatal(err)
		}
		n++
		w, ok := want[frame]
		if !ok {
			t.Errorf("request at frame %d: tshark shows no body", frame)
			continue
		}
		if got != w || w != int64(len(body)) || e != nil {
			t.Errorf("request at frame %d: req_body_len %d (error %v), tshark %d, plain body %d", frame, got, e, w, len(body))
		}
	}
	if n != 5 {
		t.Errorf("%d rows, want 5", n)
	}
}

// TestHTTPLostStatusLineMatchesTshark: on a keep-alive connection of 100
// GETs whose 40th response lost its status line (the segment was cut out;
// see httpextract/tshark_test.go), every row's method, uri, status,
// resp_frame and ttfb_ms equal tshark's pairing (http.request_in,
// http.time), and the unanswered request has a row with no response.
func TestHTTPLostStatusLineMatchesTshark(t *testing.T) {
	testenv.Tool(t, "tshark")
	file := "../../httpextract/testdata/http-keepalive-lost-status-line.pcap"
	out, err := exec.Command("tshark", "-n", "-r", file, "-Y", "http.request || http.response",
		"-T", "fields", "-E", "separator=\t",
		"-e", "frame.number", "-e", "http.request.method", "-e", "http.request.uri",
		"-e", "http.response.code", "-e", "http.request_in", "-e", "http.time").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	type want struct {
		req              string // "METHOD URI"
		code             string // "" when unanswered
		respFrame        int64
		ttfbMs           float64
		answered, exists bool
	}
	byReq := map[int64]*want{}
	var order []int64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		for len(f) < 6 {
			f = append(f, "")
		}
		frame, _ := strconv.ParseInt(f[0], 10, 64)
		if f[1] != "" {
			byReq[frame] = &want{req: f[1] + " " + f[2], exists: true}
			order = append(order, frame)
		}
		if f[3] != "" {
			in, _ := strconv.ParseInt(f[4], 10, 64)
			w := byReq[in]
			if w == nil {
				t.Fatalf("tshark response frame %d pairs with frame %q, not a request", frame, f[4])
			}
			sec, _ := strconv.ParseFloat(f[5], 64)
			w.code, w.respFrame, w.ttfbMs, w.answered = f[3], frame, sec*1000, true
		}
	}
	db := ingestMem(t, 1, file)
	rows, err := db.Query(context.Background(), `SELECT req_frame, method || ' ' || uri, status_code, resp_frame, ttfb_ms, missing, gap
		FROM http ORDER BY trans_depth`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, unanswered, bad := 0, 0, 0
	for rows.Next() {
		var reqFrame int64
		var req string
		var code *int32
		var respFrame *int64
		var ttfb *float64
		var missing *string
		var gap bool
		if err := rows.Scan(&reqFrame, &req, &code, &respFrame, &ttfb, &missing, &gap); err != nil {
			t.Fatal(err)
		}
		if order[n] != reqFrame {
			t.Fatalf("row %d: request at frame %d, tshark's request %d is at frame %d", n+1, reqFrame, n+1, order[n])
		}
		n++
		w := byReq[reqFrame]
		ok := req == w.req
		if !w.answered {
			unanswered++
			ok = ok && code == nil && respFrame == nil && ttfb == nil && missing != nil && *missing == "response" && gap
		} else {
			ok = ok && code != nil && fmt.Sprint(*code) == w.code && respFrame != nil && *respFrame == w.respFrame &&
				ttfb != nil && math.Abs(*ttfb-w.ttfbMs) < 0.001 && missing == nil
		}
		if !ok {
			if bad++; bad <= 5 {
				t.Errorf("frame %d: %s status %v resp_frame %v ttfb_ms %v missing %v gap %v; tshark %+v",
					reqFrame, req, deref(code), deref(respFrame), deref(ttfb), deref(missing), gap, *w)
			}
		}
	}
	if n != len(order) || n != 100 || unanswered != 1 || bad > 0 {
		t.Errorf("%d rows for %d tshark requests (want 100), %d unanswered (want 1), %d disagree", n, len(order), unanswered, bad)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
