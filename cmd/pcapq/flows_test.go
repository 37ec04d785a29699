package main

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/tcpsession"
)

// zeekConn is one conn.log row.
type zeekConn map[string]string

func readZeekLog(t *testing.T, path string) []zeekConn {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fields []string
	var rows []zeekConn
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#fields") {
			fields = strings.Split(line, "\t")[1:]
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		vals := strings.Split(line, "\t")
		if fields == nil {
			// .cut files: zeek-cut output without a header; the column
			// order is given by the test's command, not by the file.
			return nil
		}
		r := zeekConn{}
		for i, f := range fields {
			if i < len(vals) {
				r[f] = vals[i]
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// TestFlowsMatchZeekConnLog compares the flows table, through the whole
// pipeline (sharding, defragmentation, DuckDB), with Zeek's conn.log
// baselines in ../shared/corpus/expected: conn_state, history, packets and
// payload bytes per side, connection by connection.
func TestFlowsMatchZeekConnLog(t *testing.T) {
	corpus := corpusDir(t)
	logs, _ := filepath.Glob(filepath.Join(corpus, "expected", "zeek-*conn*.log"))
	compared, agreed := 0, 0
	var report []string
	for _, lg := range logs {
		base := filepath.Base(lg)
		stem := base[:strings.Index(base, ".")]
		if strings.Contains(base, "conn-all") {
			// Same capture as conn-limited, made with a shorter Zeek
			// inactivity timeout; conn-limited matches pcapq's 5-minute default.
			continue
		}
		want := readZeekLog(t, lg)
		if want == nil {
			continue
		}
		pcaps, _ := filepath.Glob(filepath.Join(corpus, "pcaps", stem+".pcap*"))
		if len(pcaps) == 0 {
			continue
		}
		db := ingestMem(t, 2, pcaps[0])
		for _, z := range want {
			if z["proto"] != "tcp" && z["proto"] != "udp" && z["proto"] != "icmp" {
				continue
			}
			q := `SELECT conn_state, history, orig_pkts, resp_pkts, orig_bytes, resp_bytes FROM flows
				WHERE orig_h = ? AND orig_p = ? AND resp_h = ? AND resp_p = ? AND proto = ? ORDER BY flow_id`
			op, _ := strconv.Atoi(z["id.orig_p"])
			rp, _ := strconv.Atoi(z["id.resp_p"])
			rows, err := db.Query(context.Background(), q, z["id.orig_h"], op, z["id.resp_h"], rp, z["proto"])
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			found := false
			if rows.Next() {
				found = true
				var st *string
				var hist string
				var op, rp, ob, rb int64
				rows.Scan(&st, &hist, &op, &rp, &ob, &rb)
				if st != nil {
					got["conn_state"] = *st
				}
				got["history"], got["orig_pkts"], got["resp_pkts"] = hist, fmt.Sprint(op), fmt.Sprint(rp)
				got["orig_bytes"], got["resp_bytes"] = fmt.Sprint(ob), fmt.Sprint(rb)
			}
			rows.Close()
			id := fmt.Sprintf("%s %s:%s->%s:%s/%s", stem, z["id.orig_h"], z["id.orig_p"], z["id.resp_h"], z["id.resp_p"], z["proto"])
			for _, f := range []string{"conn_state", "history", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes"} {
				w := z[f]
				if (f == "orig_bytes" || f == "resp_bytes") && w == "-" {
					continue // Zeek logs sizes only when the duration is > 0
				}
				if w == "-" || w == "(empty)" {
					w = ""
				}
				if z["proto"] != "tcp" && f == "history" {
					continue // pcapq keeps no history letters for UDP/ICMP
				}
				compared++
				if !found {
					report = append(report, id+": no such flow")
					break
				}
				if got[f] == w {
					agreed++
				} else {
					report = append(report, fmt.Sprintf("%s: %s = %q, Zeek %q", id, f, got[f], w))
				}
			}
		}
	}
	for _, r := range report {
		t.Log("disagreement: " + r)
	}
	t.Logf("flows vs Zeek conn.log: %d of %d fields agree (%.1f%%)", agreed, compared, 100*float64(agreed)/float64(max(compared, 1)))
	// The README claims every compared field agrees: assert exactly that.
	if compared < 100 || agreed != compared {
		t.Errorf("flows vs Zeek conn.log: %d/%d fields agree, want all (and at least 100 compared)", agreed, compared)
	}
}

// TestCommunityIDMatchesTshark checks flows.community_id against tshark's
// communityid post-dissector (seed 0) for every flow of the recorded
// captures and of the corpus captures with IP traffic.
func TestCommunityIDMatchesTshark(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*.pcap")
	{
		more, _ := filepath.Glob(filepath.Join(corpusDir(t), "pcaps", "zeek-*.pcap"))
		files = append(files, more...)
	}
	checked := 0
	for _, f := range files {
		testenv.Tool(t, "tshark")
		out, err := exec.Command("tshark", "-n", "-r", f, "--enable-protocol", "communityid", "-T", "fields",
			"-E", "occurrence=f", "-e", "frame.number", "-e", "communityid").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", f, err)
		}
		want := map[int64]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			p := strings.Split(l, "\t")
			if len(p) == 2 && p[1] != "" {
				n, _ := strconv.ParseInt(p[0], 10, 64)
				want[n] = p[1]
			}
		}
		db := ingestMem(t, 2, f)
		rows, err := db.Query(context.Background(), `SELECT p.frame, f.community_id FROM packets p JOIN flows f USING (capture_id, flow_id)
			WHERE NOT p.is_fragment`)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for rows.Next() {
			var frame int64
			var cid *string
			rows.Scan(&frame, &cid)
			w, ok := want[frame]
			if !ok {
				continue
			}
			checked++
			if cid == nil || *cid != w {
				bad++
				if bad < 5 {
					t.Errorf("%s frame %d: community_id %v, tshark %s", filepath.Base(f), frame, cid, w)
				}
			}
		}
		rows.Close()
	}
	if checked == 0 {
		t.Fatal("no frames checked")
	}
	t.Logf("community_id equal to tshark's on %d frames", checked)
}

// TestCommunityIDSuricata: Suricata logged community_id
// 1:Vz08QRsy2I1yGIXi37yvHKBnVwM= for sv-nfs3-01.pcap's NFS flow; its
// suricata-verify configuration uses seed 1234. The same algorithm with
// that seed must give Suricata's value (pcapq's table uses seed 0).
func TestCommunityIDSuricata(t *testing.T) {
	got := tcpsession.CommunityID(1234, netip.MustParseAddr("139.25.22.2"), netip.MustParseAddr("139.25.22.102"), 17, 1022, 2049, true)
	if got != "1:Vz08QRsy2I1yGIXi37yvHKBnVwM=" {
		t.Errorf("community id with seed 1234 = %s, Suricata logged 1:Vz08QRsy2I1yGIXi37yvHKBnVwM=", got)
	}
}

// TestRetransmissionsMatchTshark: the frames pcapq flags as a
// retransmission kind match tshark's tcp.analysis flags (F1 >= 0.98) on
// real traffic with drops.
func TestRetransmissionsMatchTshark(t *testing.T) {
	for _, name := range []string{"mkcapture-small", "mkcapture-small-mix"} {
		file := "../../testdata/" + name + ".pcap"
		rows := tsharkFieldsFilter(t, file, "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission", "frame.number")
		want := map[string]bool{}
		for _, r := range rows {
			want[r[0]] = true
		}
		db := ingestMem(t, 2, file)
		res, err := db.Query(context.Background(), "SELECT DISTINCT frame::VARCHAR FROM retransmits")
		if err != nil {
			t.Fatal(err)
		}
		tp, fp := 0, 0
		for res.Next() {
			var f string
			res.Scan(&f)
			if want[f] {
				tp++
			} else {
				fp++
				t.Logf("%s: frame %s flagged by pcapq only", name, f)
			}
		}
		res.Close()
		fn := len(want) - tp
		f1 := 2 * float64(tp) / float64(2*tp+fp+fn)
		t.Logf("%s: retransmissions vs tshark: tp %d fp %d fn %d F1 %.4f", name, tp, fp, fn, f1)
		if len(want) == 0 || fp != 0 || fn != 0 {
			t.Errorf("%s: F1 %.4f, want 1 (tshark flagged %d, fp %d fn %d)", name, f1, len(want), fp, fn)
		}
	}
}

func tsharkFieldsFilter(t *testing.T, file, filter string, fields ...string) [][]string {
	testenv.Tool(t, "tshark")
	args := []string{"-n", "-r", file, "-Y", filter, "-T", "fields", "-E", "separator=\t"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

var convLine = regexp.MustCompile(`^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+(\d+) (bytes|kB|MB)\s+(\d+)\s+(\d+) (bytes|kB|MB)`)

// TestConvTCPTotals: per-connection frames equal `tshark -q -z conv,tcp`
// exactly, and bytes (frame lengths) to tshark's display precision.
func TestConvTCPTotals(t *testing.T) {
	for _, name := range []string{"mkcapture-small", "mkcapture-small-mix"} {
		file := "../../testdata/" + name + ".pcap"
		testenv.Tool(t, "tshark")
		out, err := exec.Command("tshark", "-n", "-r", file, "-q", "-z", "conv,tcp").Output()
		if err != nil {
			t.Fatal(err)
		}
		db := ingestMem(t, 2, file)
		convs := 0
		for _, l := range strings.Split(string(out), "\n") {
			m := convLine.FindStringSubmatch(strings.TrimSpace(l))
			if m == nil {
				continue
			}
			convs++
			// "<-" columns are frames from B to A, "->" from A to B.
			a, ap, b, bp := m[1], m[2], m[3], m[4]
			q := `SELECT count(*) FILTER (WHERE src_ip = ? AND src_port = ?), coalesce(sum(orig_len) FILTER (WHERE src_ip = ? AND src_port = ?), 0),
				count(*) FILTER (WHERE src_ip = ? AND src_port = ?), coalesce(sum(orig_len) FILTER (WHERE src_ip = ? AND src_port = ?), 0)
				FROM packets WHERE ip_proto = 6 AND ((src_ip = ? AND src_port = ? AND dst_ip = ? AND dst_port = ?) OR (src_ip = ? AND src_port = ? AND dst_ip = ? AND dst_port = ?))`
			var baF, baB, abF, abB int64
			rs, err := db.Query(context.Background(), q, b, bp, b, bp, a, ap, a, ap, a, ap, b, bp, b, bp, a, ap)
			if err != nil {
				t.Fatal(err)
			}
			rs.Next()
			rs.Scan(&baF, &baB, &abF, &abB)
			rs.Close()
			// Frames must equal; flows must hold the same totals.
			wBA, _ := strconv.ParseInt(m[5], 10, 64)
			wAB, _ := strconv.ParseInt(m[8], 10, 64)
			if baF != wBA || abF != wAB {
				t.Errorf("%s %s:%s<->%s:%s frames %d/%d, tshark %d/%d", name, a, ap, b, bp, baF, abF, wBA, wAB)
			}
			if !sameBytes(baB, m[6], m[7]) || !sameBytes(abB, m[9], m[10]) {
				t.Errorf("%s %s:%s<->%s:%s bytes %d/%d, tshark %s %s / %s %s", name, a, ap, b, bp, baB, abB, m[6], m[7], m[9], m[10])
			}
			fl := scalarInt(t, db, `SELECT coalesce(sum(orig_pkts + resp_pkts), 0) FROM flows WHERE proto = 'tcp' AND
				((orig_h = ? AND orig_p = ? AND resp_h = ? AND resp_p = ?) OR (orig_h = ? AND orig_p = ? AND resp_h = ? AND resp_p = ?))`,
				a, ap, b, bp, b, bp, a, ap)
			if fl != wBA+wAB {
				t.Errorf("%s %s:%s<->%s:%s flows hold %d packets, tshark %d", name, a, ap, b, bp, fl, wBA+wAB)
			}
		}
		if convs == 0 {
			t.Fatalf("%s: no conversations parsed from tshark", name)
		}
		t.Logf("%s: %d TCP conversations equal to tshark conv,tcp", name, convs)
	}
}

// sameBytes compares an exact byte count with tshark's rounded display.
func sameBytes(got int64, num, unit string) bool {
	n, _ := strconv.ParseFloat(num, 64)
	u := map[string]float64{"bytes": 1, "kB": 1e3, "MB": 1e6}[unit]
	d := float64(got) - n*u
	return d > -u && d < u
}
