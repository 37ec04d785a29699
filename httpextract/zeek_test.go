package httpextract

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/tcpsession"
)

func corpusDir(t testing.TB) string { return testcorpus.Dir(t) }

func readCapture(t testing.TB, path string, fn func(frame, ts int64, lt decode.LinkType, data []byte, origLen int)) {
	testcorpus.ForEachPacket(t, path, fn)
}

// flowRow is a transaction with its connection's 5-tuple.
type flowRow struct {
	key string // "orig_h orig_p resp_h resp_p trans_depth"
	tx  *Transaction
}

type nopTCPSink struct{}

func (nopTCPSink) Flow(*tcpsession.Flow)         {}
func (nopTCPSink) Event(*tcpsession.Event)       {}
func (nopTCPSink) Warning(int64, string, string) {}

// extractCapture runs decode -> tcpsession -> httpextract over a capture.
func extractCapture(t testing.TB, path string) []flowRow {
	t.Helper()
	s := &recSink{}
	fact := NewFactory(DefaultOptions(), s)
	flows := map[int64]*tcpsession.FlowInfo{}
	opts := tcpsession.DefaultOptions()
	opts.NewStream = func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
		cp := *f
		flows[f.FlowID] = &cp
		return fact(f)
	}
	tr := tcpsession.NewTracker(opts, nopTCPSink{})
	var p decode.Packet
	var last int64
	readCapture(t, path, func(frame, ts int64, lt decode.LinkType, data []byte, origLen int) {
		decode.Decode(lt, data, origLen, &p)
		last = ts
		tr.Process(frame, ts, &p)
	})
	tr.Close(last)
	var rows []flowRow
	for _, x := range s.txs {
		f := flows[x.FlowID]
		if f == nil {
			t.Fatalf("row for unknown flow %d", x.FlowID)
		}
		rows = append(rows, flowRow{fmt.Sprintf("%s %d %s %d %d", f.OrigH, f.OrigP, f.RespH, f.RespP, x.TransDepth), x})
	}
	return rows
}

// zeekRows reads an http.log (or a .cut with a plain header line) into
// maps of column name to value, keyed like flowRow.
func zeekRows(t testing.TB, path string) (keys []string, rows map[string]map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows = map[string]map[string]string{}
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
		vals := strings.Split(line, "\t")
		m := map[string]string{}
		for i, f := range fields {
			if i < len(vals) {
				m[f] = vals[i]
			}
		}
		k := fmt.Sprintf("%s %s %s %s %s", m["id.orig_h"], m["id.orig_p"], m["id.resp_h"], m["id.resp_p"], m["trans_depth"])
		if _, dup := rows[k]; !dup {
			keys = append(keys, k)
		}
		rows[k] = m
	}
	return keys, rows
}

// zeekValue normalises Zeek's unset "-" and empty "(empty)" to "".
func zeekValue(v string) string {
	if v == "-" || v == "(empty)" {
		return ""
	}
	return v
}

// ourValues renders the compared columns as Zeek prints them.
func ourValues(x *Transaction) map[string]string {
	status := ""
	if x.HasStatus {
		status = fmt.Sprint(x.StatusCode)
	} else if x.Version == "0.9" && x.RespFrame != 0 {
		// An HTTP/0.9 reply has no status line: pcapq stores NULL
		// where Zeek writes 0.
		status = "0"
	}
	return map[string]string{
		"method":            x.Method,
		"host":              x.Host,
		"uri":               x.URI,
		"status_code":       status,
		"trans_depth":       fmt.Sprint(x.TransDepth),
		"request_body_len":  fmt.Sprint(x.ReqBodyLen),
		"response_body_len": fmt.Sprint(x.RespBodyLen),
	}
}

var zeekColumns = []string{"method", "host", "uri", "status_code", "request_body_len", "response_body_len"}

// zeekKnown explains the disagreements measured when this test was
// written, keyed by "capture|row key|column" (column "row" for a row only
// one side has). A disagreement not listed here is logged as unexplained.
var zeekKnown = func() map[string]string {
	const (
		rCRLF    = "multipart body whose last line has no CRLF: Zeek's MIME parser counts 2 bytes it adds (weird line_terminated_without_CRLF); we count the Content-Length bytes"
		rPartial = "connection captured without its SYN (Zeek conn.log: OTH, history DdA, no service): Zeek's HTTP analyzer skips partial connections; we detect HTTP by content"
	)
	m := map[string]string{
		"zeek-wikipedia|141.142.220.118 35634 208.80.152.2 80 1|row": rPartial,
	}
	for depth := 1; depth <= 5; depth++ {
		m[fmt.Sprintf("zeek-http-no-crlf|10.1.6.206 49783 5.2.136.90 80 %d|request_body_len", depth)] = rCRLF
	}
	return m
}()

// minZeekAgreement is the agreement measured over all compared cells (480
// of 504 when the test was written; 493 since HTTP/0.9 replies compare as
// Zeek's status_code 0 and "CCM_POST /HTTP/1.1" opens an HTTP/0.9
// request); the test fails below it.
const minZeekAgreement = 493.0 / 504

// TestZeekHTTPLog compares rows with Zeek's http.log baselines, cell by
// cell: method, host, uri, status_code, request_body_len,
// response_body_len, with rows paired by 5-tuple and trans_depth.
func TestZeekHTTPLog(t *testing.T) {
	dir := corpusDir(t)
	logs, _ := filepath.Glob(filepath.Join(dir, "expected", "zeek-*.http.log*"))
	sort.Strings(logs)
	agree, total := 0, 0
	unexplained := 0
	for _, lp := range logs {
		stem := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(lp), ".cut"), ".http.log")
		capPath := filepath.Join(dir, "pcaps", stem+".pcap")
		if _, err := os.Stat(capPath); err != nil {
			capPath = filepath.Join(dir, "pcaps", stem+".pcapng")
		}
		keys, want := zeekRows(t, lp)
		ours := extractCapture(t, capPath)
		got := map[string]*Transaction{}
		var gotKeys []string
		for _, r := range ours {
			got[r.key] = r.tx
			gotKeys = append(gotKeys, r.key)
		}
		fileAgree, fileTotal := 0, 0
		report := func(k, col, detail string) {
			id := stem + "|" + k + "|" + col
			if why, ok := zeekKnown[id]; ok {
				t.Logf("disagree %s: %s (%s)", id, detail, why)
				return
			}
			unexplained++
			t.Logf("disagree %s: %s (UNEXPLAINED)", id, detail)
		}
		for _, k := range keys {
			w := want[k]
			x := got[k]
			if x == nil {
				fileTotal += len(zeekColumns)
				report(k, "row", fmt.Sprintf("Zeek has a row (method %s uri %s status %s), we have none", w["method"], w["uri"], w["status_code"]))
				continue
			}
			ov := ourValues(x)
			for _, c := range zeekColumns {
				fileTotal++
				if zeekValue(w[c]) == ov[c] {
					fileAgree++
					continue
				}
				report(k, c, fmt.Sprintf("zeek %q, ours %q (ours: Missing=%q Error=%q Gap=%v)", w[c], ov[c], x.Missing, x.Error, x.Gap))
			}
		}
		for _, k := range gotKeys {
			if _, ok := want[k]; !ok {
				fileTotal += len(zeekColumns)
				x := got[k]
				report(k, "row", fmt.Sprintf("we have a row Zeek lacks (method %q uri %q status %d Missing=%q Error=%q)", x.Method, x.URI, x.StatusCode, x.Missing, x.Error))
			}
		}
		t.Logf("%s: %d/%d cells agree (%d Zeek rows, %d ours)", stem, fileAgree, fileTotal, len(keys), len(ours))
		agree += fileAgree
		total += fileTotal
	}
	if total == 0 {
		t.Fatal("no Zeek http.log baselines compared: the corpus has none, or none matched")
	}
	rate := float64(agree) / float64(total)
	t.Logf("overall: %d/%d cells agree (%.4f); %d disagreements unexplained", agree, total, rate, unexplained)
	if unexplained > 0 {
		t.Errorf("%d disagreements have no reason in zeekKnown", unexplained)
	}
	if rate < minZeekAgreement {
		t.Errorf("agreement %.4f fell below the measured %.4f", rate, minZeekAgreement)
	}
}
