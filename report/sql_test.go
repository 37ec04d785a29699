package report

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/reporttest"
	"github.com/pcapq/pcapq/query"
)

// The report's numbers equal what the tables hold: every table, key
// figure and chart of the report is recomputed here in Go from the raw
// rows (SELECT of plain columns, no aggregation in SQL): counts, sums,
// percentiles (linear interpolation, as quantile_cont), rankings with
// their tie-breaks, histogram buckets and time buckets. Rounded figures
// (3 decimals) may differ by one unit in the last place.
func TestReportMatchesTables(t *testing.T) {
	db := openDB(t, "", smallMix, hostileCapture(t), truncatedCapture(t), reporttest.SlowResetCapture(t), reporttest.ZeroWindowCapture(t))
	// The captures hold what each figure needs to be tested: warnings, zero
	// windows, a responder's reset, a request without response, a
	// transaction much longer than its ttfb.
	for _, q := range []string{
		"SELECT count(*) FROM warnings",
		"SELECT count(*) FROM tcp_events WHERE kind = 'zero_window'",
		"SELECT count(*) FROM flows WHERE history LIKE '%r%' AND history NOT LIKE '%R%'",
		"SELECT count(*) FROM http WHERE missing = 'response'",
		"SELECT count(*) FROM http WHERE duration_ms > ttfb_ms + 500",
	} {
		if n, err := db.Scalar(context.Background(), q); err != nil || n.(int64) == 0 {
			t.Fatalf("%s: %v (%v); the test needs such rows", q, n, err)
		}
	}
	for _, top := range []int{10, 3} {
		r, err := Build(context.Background(), db, Options{Top: top})
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstRows(t, db, r, nil)
	}
	// Only some captures: the hostile one; the synthetic slow and zero-window
	// connections, whose worst-connection ranking depends on the zero windows
	// and resets alone.
	for _, caps := range [][]int32{{2}, {4, 5}} {
		r, err := Build(context.Background(), db, Options{Captures: caps})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range caps {
			ids = append(ids, int64(c))
		}
		checkAgainstRows(t, db, r, ids)
	}
}

// rawRows runs a plain SELECT and returns the rows normalised.
func rawRows(t *testing.T, db *query.DB, q string) [][]any {
	t.Helper()
	rs, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				vals[i] = tm.UnixNano()
				continue
			}
			vals[i] = norm(v)
		}
		out = append(out, vals)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// keep filters rows by their first column (capture_id).
func keep(rows [][]any, caps []int64) [][]any {
	if caps == nil {
		return rows
	}
	var out [][]any
	for _, r := range rows {
		for _, c := range caps {
			if r[0].(int64) == c {
				out = append(out, r)
			}
		}
	}
	return out
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return v.(string)
}

func num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func nilOr(v any, f func() any) any {
	if v == nil {
		return nil
	}
	return f()
}

// pct is a quantile_cont percentile of vs (sorted here), rounded.
func pct(vs []float64, q float64) any {
	if len(vs) == 0 {
		return nil
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo, hi := math.Floor(pos), math.Ceil(pos)
	v := s[int(lo)] + (pos-lo)*(s[int(hi)]-s[int(lo)])
	return round3(v)
}

func maxOf(vs []float64) any {
	if len(vs) == 0 {
		return nil
	}
	m := vs[0]
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return round3(m)
}

func share(part, whole int64) float64 { return round3(100 * float64(part) / float64(whole)) }

// same compares a report value with the expected one: rounded floats
// within one unit of the third decimal, the rest exactly.
func same(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			if gi, ok := got.(int64); ok {
				g = float64(gi)
			} else {
				return false
			}
		}
		return math.Abs(g-w) <= 0.0010001+1e-12*math.Abs(w)
	case int:
		return got == int64(w)
	}
	return got == want
}

func checkRows(t *testing.T, name string, got *Table, want [][]any, top int) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: table missing", name)
		return
	}
	more := false
	if top > 0 && len(want) > top {
		want, more = want[:top], true
	}
	if got.More != more {
		t.Errorf("%s: more = %v, want %v", name, got.More, more)
	}
	if len(got.Rows) != len(want) {
		t.Errorf("%s: %d rows, want %d\n got %v\nwant %v", name, len(got.Rows), len(want), got.Rows, want)
		return
	}
	for i := range want {
		if len(got.Rows[i]) != len(want[i]) {
			t.Errorf("%s row %d: %d columns, want %d", name, i, len(got.Rows[i]), len(want[i]))
			continue
		}
		for j := range want[i] {
			if !same(got.Rows[i][j], want[i][j]) {
				t.Errorf("%s row %d column %s: got %#v, want %#v", name, i, got.Columns[j].Name, got.Rows[i][j], want[i][j])
			}
		}
	}
}

func findTable(r *Report, id string) *Table {
	for _, s := range r.Sections {
		for _, tb := range s.Tables {
			if tb.ID == id {
				return tb
			}
		}
		for _, c := range s.Charts {
			if c.Data != nil && c.Data.ID == id {
				return c.Data
			}
		}
	}
	return nil
}

func findChart(r *Report, id string) *Chart {
	for _, s := range r.Sections {
		for _, c := range s.Charts {
			if c.ID == id {
				return c
			}
		}
	}
	return nil
}

func findStat(r *Report, id string) (any, bool) {
	for _, s := range r.Sections {
		for _, st := range s.Stats {
			if st.ID == id {
				return st.Value, true
			}
		}
	}
	return nil, false
}

func checkStats(t *testing.T, r *Report, want map[string]any) {
	t.Helper()
	for id, w := range want {
		got, ok := findStat(r, id)
		if !ok {
			t.Errorf("stat %s missing", id)
			continue
		}
		if !same(got, w) {
			t.Errorf("stat %s: got %#v, want %#v", id, got, w)
		}
	}
}

// sortRows sorts rows by the given keys; a key is a column index, negative
// (-(i+1)) for descending. NULLs sort last.
func sortRows(rows [][]any, keys ...int) {
	sort.SliceStable(rows, func(a, b int) bool {
		for _, k := range keys {
			desc := k < 0
			if desc {
				k = -k - 1
			}
			x, y := rows[a][k], rows[b][k]
			if x == nil || y == nil {
				if (x == nil) != (y == nil) {
					return y == nil
				}
				continue
			}
			var c int
			switch xv := x.(type) {
			case string:
				c = strings.Compare(xv, y.(string))
			default:
				xf, yf := num(x), num(y)
				if xf < yf {
					c = -1
				} else if xf > yf {
					c = 1
				}
			}
			if desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
}

// protoLabel is the report's protocol of a packet.
func protoLabel(ipProto, ipVersion, etherType any) string {
	switch {
	case ipProto != nil:
		switch ipProto.(int64) {
		case 6:
			return "TCP"
		case 17:
			return "UDP"
		case 1:
			return "ICMP"
		case 58:
			return "ICMPv6"
		case 132:
			return "SCTP"
		}
		return fmt.Sprintf("IP proto %d", ipProto.(int64))
	case ipVersion != nil:
		return "IP (undecoded)"
	case etherType != nil && etherType.(int64) == 0x0806:
		return "ARP"
	}
	return "non-IP"
}

func hostPort(h any, p any) string {
	s := str(h)
	if strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	return fmt.Sprintf("%s:%d", s, p.(int64))
}

// histCounts counts vs in the report's histogram buckets and trims the
// empty ones at both ends, as the chart does: rows of from, to, counts.
func histCounts(series ...[]float64) [][]any {
	nb := len(histEdges) + 1
	counts := make([][]int64, len(series))
	for j, vs := range series {
		counts[j] = make([]int64, nb)
		for _, v := range vs {
			k := sort.Search(len(histEdges), func(i int) bool { return histEdges[i] > v })
			if v < 0 {
				k = 0
			}
			counts[j][k]++
		}
	}
	lo, hi := nb, -1
	for k := 0; k < nb; k++ {
		for j := range series {
			if counts[j][k] > 0 {
				lo, hi = min(lo, k), max(hi, k)
			}
		}
	}
	rows := [][]any{}
	for k := lo; k <= hi; k++ {
		var from, to any
		if k > 0 {
			from = histEdges[k-1]
		}
		if k < len(histEdges) {
			to = histEdges[k]
		}
		row := []any{from, to}
		for j := range series {
			row = append(row, counts[j][k])
		}
		rows = append(rows, row)
	}
	return rows
}

func checkAgainstRows(t *testing.T, db *query.DB, r *Report, caps []int64) {
	t.Helper()
	top := r.Top
	captures := keep(rawRows(t, db, "SELECT capture_id, path, format, array_to_string(link_types, ', '), packets, bytes, first_ts, last_ts, complete, warnings, link_types FROM captures ORDER BY capture_id"), caps)
	packets := keep(rawRows(t, db, "SELECT capture_id, epoch_ns(ts), ip_proto, ip_version, ether_type, orig_len, cap_len FROM packets"), caps)
	flows := keep(rawRows(t, db, `SELECT capture_id, flow_id, proto, orig_h, orig_p, resp_h, resp_p, service, orig_pkts, resp_pkts,
		orig_ip_bytes, resp_ip_bytes, retransmits, handshake_rtt_ms, conn_state, history, duration_ms FROM flows`), caps)
	events := keep(rawRows(t, db, "SELECT capture_id, flow_id, kind FROM tcp_events"), caps)
	warnings := keep(rawRows(t, db, "SELECT capture_id, kind, frame, detail FROM warnings"), caps)
	httpRows := keep(rawRows(t, db, `SELECT capture_id, flow_id, trans_depth, ts_req_start, method, host, path, uri, user_agent,
		status_code, status_msg, ttfb_ms, duration_ms, missing, error FROM http`), caps)

	// Overview: from the packets rows themselves, not the captures table.
	var bytes, first, last, incomplete, nwarn int64
	first = math.MaxInt64
	for _, p := range packets {
		bytes += p[6].(int64)
		first, last = min(first, p[1].(int64)), max(last, p[1].(int64))
	}
	lts := map[string]bool{}
	for _, c := range captures {
		if !c[8].(bool) {
			incomplete++
		}
		for _, lt := range strings.Split(c[3].(string), ", ") {
			lts[lt] = true
		}
	}
	nwarn = int64(len(warnings))
	var ltList []string
	for lt := range lts {
		ltList = append(ltList, lt)
	}
	sort.Strings(ltList)
	checkStats(t, r, map[string]any{
		"captures": int64(len(captures)), "packets": int64(len(packets)), "bytes": bytes, "flows": int64(len(flows)),
		"first_ts": FormatTime(time.Unix(0, first)), "last_ts": FormatTime(time.Unix(0, last)),
		"span_s": round3(float64(last-first) / 1e9), "link_types": strings.Join(ltList, ", "),
		"warnings": nwarn, "incomplete": incomplete,
	})
	var capRows [][]any
	for _, c := range captures {
		capRows = append(capRows, []any{c[0], c[1], c[2], c[3], c[4], c[5], FormatTime(time.Unix(0, c[6].(int64))), FormatTime(time.Unix(0, c[7].(int64))), c[8], c[9]})
	}
	checkRows(t, "captures", findTable(r, "captures"), capRows, 0)
	{
		type agg struct {
			n     int64
			frame any
			ex    string
		}
		m := map[string]*agg{}
		for _, w := range warnings {
			a := m[w[1].(string)]
			if a == nil {
				a = &agg{ex: str(w[3])}
				m[w[1].(string)] = a
			}
			a.n++
			if w[2] != nil && (a.frame == nil || w[2].(int64) < a.frame.(int64)) {
				a.frame = w[2]
			}
			a.ex = min(a.ex, str(w[3]))
		}
		var want [][]any
		for k, a := range m {
			want = append(want, []any{k, a.n, a.frame, a.ex})
		}
		sortRows(want, -2, 0)
		checkRows(t, "warnings_by_kind", findTable(r, "warnings_by_kind"), want, top)
	}

	// Traffic.
	mix := map[string][2]int64{}
	var wire int64
	for _, p := range packets {
		l := protoLabel(p[2], p[3], p[4])
		m := mix[l]
		m[0]++
		m[1] += p[5].(int64)
		mix[l] = m
		wire += p[5].(int64)
	}
	var mixRows [][]any
	for l, m := range mix {
		mixRows = append(mixRows, []any{l, m[0], share(m[0], int64(len(packets))), m[1], share(m[1], wire)})
	}
	sortRows(mixRows, -2, 0)
	checkRows(t, "protocol_mix", findTable(r, "protocol_mix"), mixRows, 0)
	for _, id := range []string{"packets_per_s", "bits_per_s"} {
		c := findChart(r, id)
		if c == nil {
			t.Errorf("chart %s missing", id)
			continue
		}
		w := int64(math.Round(c.Step * 1e9))
		// Buckets start at a multiple of their width; X is in float seconds.
		start := int64(math.Round(c.X[0]*1e9/float64(w))) * w
		n := len(c.X)
		series := map[string][]float64{}
		var names []string
		for i, m := range mixRows {
			name := m[0].(string)
			if i >= maxProtoSeries {
				name = "other"
			}
			if series[name] == nil {
				series[name] = make([]float64, n)
				names = append(names, name)
			}
		}
		if first < start || (last-start)/w >= int64(n) || w <= 0 || n > maxTimeBuckets+1 {
			t.Errorf("%s: %d buckets of %d ns from %d do not cover the packets %d..%d", id, n, w, start, first, last)
			continue
		}
		for _, p := range packets {
			name := protoLabel(p[2], p[3], p[4])
			if _, ok := series[name]; !ok {
				name = "other"
			}
			v := 1.0
			if id == "bits_per_s" {
				v = 8 * float64(p[5].(int64))
			}
			series[name][(p[1].(int64)-start)/w] += v
		}
		var want [][]any
		secs := float64(w) / 1e9
		for _, name := range names {
			peak, at, sum := 0.0, 0, 0.0
			for k, v := range series[name] {
				sum += v
				if v > peak {
					peak, at = v, k
				}
			}
			want = append(want, []any{name, round3(peak / secs), FormatTime(time.Unix(0, start+int64(at)*w)), round3(sum / secs / float64(n))})
		}
		checkRows(t, id+"_data", c.Data, want, 0)
	}
	{
		m := map[[2]string][3]int64{}
		for _, f := range flows {
			k := [2]string{str(f[7]), f[2].(string)}
			if f[7] == nil {
				k[0] = "(none)"
			}
			v := m[k]
			v[0]++
			v[1] += f[8].(int64) + f[9].(int64)
			v[2] += f[10].(int64) + f[11].(int64)
			m[k] = v
		}
		var want [][]any
		for k, v := range m {
			want = append(want, []any{k[0], k[1], v[0], v[1], v[2]})
		}
		sortRows(want, -3, 0, 1)
		checkRows(t, "services", findTable(r, "services"), want, top)
	}
	{
		m := map[string][6]int64{}
		add := func(addr string, bout, bin, pout, pin int64) {
			v := m[addr]
			v[0] += bout + bin
			v[1] += bout
			v[2] += bin
			v[3] += pout
			v[4] += pin
			v[5]++
			m[addr] = v
		}
		for _, f := range flows {
			add(str(f[3]), f[10].(int64), f[11].(int64), f[8].(int64), f[9].(int64))
			add(str(f[5]), f[11].(int64), f[10].(int64), f[9].(int64), f[8].(int64))
		}
		var want [][]any
		for k, v := range m {
			want = append(want, []any{k, v[0], v[1], v[2], v[3], v[4], v[5]})
		}
		sortRows(want, -2, 0)
		checkRows(t, "top_talkers", findTable(r, "top_talkers"), want, top)
	}
	{
		m := map[[3]string][5]int64{}
		for _, f := range flows {
			k := [3]string{str(f[3]), str(f[5]), f[2].(string)}
			v := m[k]
			v[0]++
			v[1] += f[8].(int64) + f[9].(int64)
			v[2] += f[10].(int64) + f[11].(int64)
			v[3] += f[10].(int64)
			v[4] += f[11].(int64)
			m[k] = v
		}
		var want [][]any
		for k, v := range m {
			want = append(want, []any{k[0], k[1], k[2], v[0], v[1], v[2], v[3], v[4]})
		}
		sortRows(want, -6, 0, 1, 2)
		checkRows(t, "top_conversations", findTable(r, "top_conversations"), want, top)
	}
	{
		type agg struct {
			flows, pkts, bytes int64
			clients, services  map[string]bool
		}
		m := map[[2]any]*agg{}
		for _, f := range flows {
			if f[2] != "tcp" && f[2] != "udp" {
				continue
			}
			k := [2]any{f[2], f[6]}
			a := m[k]
			if a == nil {
				a = &agg{clients: map[string]bool{}, services: map[string]bool{}}
				m[k] = a
			}
			a.flows++
			a.pkts += f[8].(int64) + f[9].(int64)
			a.bytes += f[10].(int64) + f[11].(int64)
			a.clients[str(f[3])] = true
			if f[7] != nil {
				a.services[f[7].(string)] = true
			}
		}
		var want [][]any
		for k, a := range m {
			var svc []string
			for s := range a.services {
				svc = append(svc, s)
			}
			sort.Strings(svc)
			want = append(want, []any{k[0], k[1], a.flows, int64(len(a.clients)), a.pkts, a.bytes, strings.Join(svc, ", ")})
		}
		sortRows(want, -3, -6, 0, 1)
		checkRows(t, "busiest_ports", findTable(r, "busiest_ports"), want, top)
	}

	// TCP.
	var tcp [][]any
	for _, f := range flows {
		if f[2] == "tcp" {
			tcp = append(tcp, f)
		}
	}
	if len(tcp) > 0 {
		var rtts []float64
		var pkts, retx, connsRetx, connsReset int64
		for _, f := range tcp {
			if f[13] != nil {
				rtts = append(rtts, f[13].(float64))
			}
			pkts += f[8].(int64) + f[9].(int64)
			retx += f[12].(int64)
			if f[12].(int64) > 0 {
				connsRetx++
			}
			if strings.ContainsAny(str(f[15]), "Rr") {
				connsReset++
			}
		}
		type fk struct{ c, f int64 }
		zw, rst := map[fk]int64{}, map[fk]int64{}
		var nzw, nrst int64
		kinds := map[string]map[fk]int64{}
		for _, e := range events {
			k := fk{e[0].(int64), e[1].(int64)}
			switch e[2] {
			case "zero_window":
				zw[k]++
				nzw++
			case "rst":
				rst[k]++
				nrst++
			}
			if kinds[e[2].(string)] == nil {
				kinds[e[2].(string)] = map[fk]int64{}
			}
			kinds[e[2].(string)][k]++
		}
		checkStats(t, r, map[string]any{
			"tcp_connections": int64(len(tcp)), "handshakes": int64(len(rtts)),
			"rtt_p50": pct(rtts, 0.5), "rtt_p90": pct(rtts, 0.9), "rtt_p99": pct(rtts, 0.99), "rtt_max": maxOf(rtts),
			"tcp_packets": pkts, "retransmits": retx, "retransmit_rate": round3(100 * float64(retx) / float64(pkts)),
			"conns_retransmitting": connsRetx, "conns_reset": connsReset, "rst_segments": nrst, "zero_windows": nzw,
			"conns_zero_window": int64(len(zw)),
		})
		checkRows(t, "handshake_rtt_data", findTable(r, "handshake_rtt_data"), histCounts(rtts), 0)
		var kindRows [][]any
		for k, m := range kinds {
			var n int64
			for _, c := range m {
				n += c
			}
			kindRows = append(kindRows, []any{k, n, int64(len(m))})
		}
		sortRows(kindRows, -2, 0)
		checkRows(t, "tcp_events_by_kind", findTable(r, "tcp_events_by_kind"), kindRows, 0)
		states := map[string]int64{}
		for _, f := range tcp {
			states[str(f[14])]++
		}
		var stateRows [][]any
		for s, n := range states {
			stateRows = append(stateRows, []any{s, n, share(n, int64(len(tcp))), connStates[s]})
		}
		sortRows(stateRows, -2, 0)
		checkRows(t, "conn_states", findTable(r, "conn_states"), stateRows, 0)
		var worst [][]any
		for _, f := range tcp {
			k := fk{f[0].(int64), f[1].(int64)}
			if f[12].(int64) == 0 && zw[k] == 0 && rst[k] == 0 {
				continue
			}
			p := f[8].(int64) + f[9].(int64)
			worst = append(worst, []any{f[0], f[1], hostPort(f[3], f[4]), hostPort(f[5], f[6]), p, f[12],
				round3(100 * float64(f[12].(int64)) / float64(p)), zw[k], rst[k], f[14], f[15],
				nilOr(f[13], func() any { return round3(f[13].(float64)) }), round3(f[16].(float64))})
		}
		sortRows(worst, -6, -8, -9, 0, 1)
		checkRows(t, "worst_connections", findTable(r, "worst_connections"), worst, top)
	}

	// HTTP.
	if len(httpRows) > 0 {
		var ttfb, dur []float64
		var noResp, noReq, c4, c5, answered, errs int64
		classes := make([]int64, 6)
		for _, h := range httpRows {
			if h[11] != nil {
				ttfb = append(ttfb, h[11].(float64))
			}
			if h[12] != nil {
				dur = append(dur, h[12].(float64))
			}
			switch h[13] {
			case "response":
				noResp++
			case "request":
				noReq++
			}
			if h[14] != nil {
				errs++
			}
			if h[9] == nil {
				classes[5]++
				continue
			}
			answered++
			sc := h[9].(int64)
			switch {
			case sc >= 500:
				c5++
				classes[4]++
			case sc >= 400:
				c4++
				classes[3]++
			case sc >= 100:
				classes[sc/100-1]++
			}
		}
		n := int64(len(httpRows))
		checkStats(t, r, map[string]any{
			"transactions": n, "no_response": noResp, "no_request": noReq, "status_4xx": c4, "status_5xx": c5,
			"rate_4xx": share(c4, answered), "rate_5xx": share(c5, answered), "rate_no_response": share(noResp, n), "parse_errors": errs,
			"ttfb_p50": pct(ttfb, 0.5), "ttfb_p90": pct(ttfb, 0.9), "ttfb_p99": pct(ttfb, 0.99), "ttfb_max": maxOf(ttfb),
			"duration_p50": pct(dur, 0.5), "duration_p90": pct(dur, 0.9), "duration_p99": pct(dur, 0.99), "duration_max": maxOf(dur),
		})
		checkRows(t, "http_latency_data", findTable(r, "http_latency_data"), histCounts(ttfb, dur), 0)
		var classRows [][]any
		for i, l := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "no response"} {
			classRows = append(classRows, []any{l, classes[i]})
		}
		checkRows(t, "http_status_chart_data", findTable(r, "http_status_chart_data"), classRows, 0)

		// group collects the transactions by a key.
		group := func(key func(h []any) any) (map[any][][]any, []any) {
			m := map[any][][]any{}
			var keys []any
			for _, h := range httpRows {
				k := key(h)
				if _, ok := m[k]; !ok {
					keys = append(keys, k)
				}
				m[k] = append(m[k], h)
			}
			return m, keys
		}
		counts := func(hs [][]any) (c4, c5, nr int64) {
			for _, h := range hs {
				if h[9] != nil && h[9].(int64) >= 500 {
					c5++
				} else if h[9] != nil && h[9].(int64) >= 400 {
					c4++
				}
				if h[13] == "response" {
					nr++
				}
			}
			return
		}
		m, keys := group(func(h []any) any { return h[4] })
		var methods [][]any
		for _, k := range keys {
			a, b, c := counts(m[k])
			methods = append(methods, []any{k, int64(len(m[k])), share(int64(len(m[k])), n), a, b, c})
		}
		sortRows(methods, -2, 0)
		checkRows(t, "http_methods", findTable(r, "http_methods"), methods, top)

		latencyRows := func(key func(h []any) any) [][]any {
			m, keys := group(key)
			var rows [][]any
			for _, k := range keys {
				hs := m[k]
				var tt, du []float64
				for _, h := range hs {
					if h[11] != nil {
						tt = append(tt, h[11].(float64))
					}
					if h[12] != nil {
						du = append(du, h[12].(float64))
					}
				}
				a, b, c := counts(hs)
				rows = append(rows, []any{k, int64(len(hs)), a, b, c, pct(tt, 0.5), pct(tt, 0.9), pct(tt, 0.99), maxOf(tt),
					pct(du, 0.5), pct(du, 0.9), pct(du, 0.99), maxOf(du)})
			}
			sortRows(rows, -2, 0)
			return rows
		}
		hostRows := latencyRows(func(h []any) any { return h[5] })
		checkRows(t, "http_hosts", findTable(r, "http_hosts"), hostRows, top)
		var hostParts [][]any
		for _, h := range hostRows {
			n, c4, c5, nr := h[1].(int64), h[2].(int64), h[3].(int64), h[4].(int64)
			hostParts = append(hostParts, []any{h[0], n - c4 - c5 - nr, c4, c5, nr})
		}
		checkRows(t, "http_hosts_chart_data", findTable(r, "http_hosts_chart_data"), hostParts[:min(top, len(hostParts))], 0)
		checkRows(t, "http_endpoints", findTable(r, "http_endpoints"), latencyRows(func(h []any) any {
			if h[4] == nil || h[6] == nil {
				return nil
			}
			return EndpointKey(h[4].(string), str(h[5]), h[6].(string))
		}), top)

		m, keys = group(func(h []any) any { return h[9] })
		var statuses [][]any
		for _, k := range keys {
			freq := map[string]int{}
			best, tie := "", false
			for _, h := range m[k] {
				s := str(h[10])
				freq[s]++
				if freq[s] > freq[best] || best == "" {
					best, tie = s, false
				} else if s != best && freq[s] == freq[best] {
					tie = true
				}
			}
			var reason any = best
			if k == nil {
				reason = nil
			}
			if tie {
				reason = findReason(findTable(r, "http_status"), k) // any of the tied phrases
			}
			statuses = append(statuses, []any{k, reason, int64(len(m[k])), share(int64(len(m[k])), n)})
		}
		sortRows(statuses, 0)
		checkRows(t, "http_status", findTable(r, "http_status"), statuses, 0)

		m, keys = group(func(h []any) any { return h[8] })
		var agents [][]any
		for _, k := range keys {
			hosts := map[string]bool{}
			var bad int64
			for _, h := range m[k] {
				if h[5] != nil {
					hosts[h[5].(string)] = true
				}
				if h[9] != nil && h[9].(int64) >= 400 {
					bad++
				}
			}
			agents = append(agents, []any{k, int64(len(m[k])), int64(len(hosts)), bad})
		}
		sortRows(agents, -2, 0)
		checkRows(t, "http_user_agents", findTable(r, "http_user_agents"), agents, top)

		m, keys = group(func(h []any) any { return h[14] })
		var errRows [][]any
		for _, k := range keys {
			if k != nil {
				errRows = append(errRows, []any{k, int64(len(m[k]))})
			}
		}
		sortRows(errRows, -2, 0)
		checkRows(t, "http_errors", findTable(r, "http_errors"), errRows, top)

		var slow [][]any
		for _, h := range httpRows {
			if h[12] == nil {
				continue
			}
			slow = append(slow, []any{h[0], h[1], h[2], FormatTime(time.Unix(0, h[3].(int64))), h[4], h[5], h[7], h[9],
				nilOr(h[11], func() any { return round3(h[11].(float64)) }), h[12]})
		}
		sortRows(slow, -10, 0, 1, 2) // on the exact duration, as the report
		for _, row := range slow {
			row[9] = round3(row[9].(float64))
		}
		checkRows(t, "http_slowest", findTable(r, "http_slowest"), slow, top)
	}
}

// findReason returns the reason phrase the report shows for a status
// (used when several phrases are equally frequent: mode picks one).
func findReason(tb *Table, status any) any {
	for _, row := range tb.Rows {
		if row[0] == status {
			return row[1]
		}
	}
	return nil
}
