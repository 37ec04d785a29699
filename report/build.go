package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pcapq/pcapq/analyzers/all"
	"github.com/pcapq/pcapq/schema"
)

// Querier runs SQL; *query.DB is one. Build reads every row it asks for
// (each query aggregates in SQL and is limited), and asks one query at a
// time.
type Querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Options say what to report on.
type Options struct {
	Captures []int32 // report on these capture_ids only; empty: all
	Top      int     // rows kept per ranked table (top talkers, slowest, ...); 0: DefaultTop
	Title    string  // "" : "pcapq report"
	Tool     string  // e.g. "pcapq 0.1.0", shown in the footer
	Database string  // database or capture path shown in the header
	// Tables whose declared report queries (schema.Table.Report) get a
	// section when the table exists and has rows; nil: analyzers/all.Tables.
	Tables []*schema.Table
	// Trace, when set, is told each query and how long it took.
	Trace func(sql string, took time.Duration)
}

// DefaultTop is the number of rows ranked tables keep by default.
const DefaultTop = 10

// maxTop bounds Options.Top: every table is built in memory and printed.
const maxTop = 10000

// maxCaptureRows bounds the captures table of the overview.
const maxCaptureRows = 100

// maxTimeBuckets bounds the points of a time chart: the bucket width is the
// smallest round width that gives at most this many.
const maxTimeBuckets = 300

// maxProtoSeries is the number of protocols drawn separately in the
// traffic charts; the rest are summed as "other".
const maxProtoSeries = 5

// Build computes the report with SQL over q's pcapq tables.
func Build(ctx context.Context, q Querier, o Options) (*Report, error) {
	if o.Top <= 0 {
		o.Top = DefaultTop
	}
	if o.Top > maxTop {
		return nil, fmt.Errorf("report: --top %d is more than %d", o.Top, maxTop)
	}
	if o.Title == "" {
		o.Title = "pcapq report"
	}
	if o.Tables == nil {
		o.Tables = all.Tables
	}
	b := &builder{ctx: ctx, q: q, o: o, filter: "true"}
	if len(o.Captures) > 0 {
		ids := make([]string, len(o.Captures))
		for i, id := range o.Captures {
			ids[i] = strconv.Itoa(int(id))
		}
		b.filter = "capture_id IN (" + strings.Join(ids, ", ") + ")"
	}
	if err := b.checkTables(); err != nil {
		return nil, err
	}
	r := &Report{Title: o.Title, Tool: o.Tool, Database: o.Database, Captures: o.Captures, Top: o.Top}
	steps := []func() (*Section, error){b.overview, b.traffic, b.tcp, b.http}
	for _, step := range steps {
		s, err := step()
		if err != nil {
			return nil, err
		}
		r.Sections = append(r.Sections, s)
	}
	extra, err := b.declared()
	if err != nil {
		return nil, err
	}
	r.Sections = append(r.Sections, extra...)
	return r, nil
}

type builder struct {
	ctx    context.Context
	q      Querier
	o      Options
	filter string // SQL condition on capture_id

	// from the overview, for the time charts
	firstNs, lastNs int64
	packets         int64
	flows           int64
	tcpFlows        int64
	httpRows        int64
}

// reportTables are the tables the report's own sections read.
var reportTables = []string{"captures", "packets", "flows", "tcp_events", "http", "warnings"}

// checkTables fails with a clear message when the database is not a
// pcapq database.
func (b *builder) checkTables() error {
	_, rows, err := b.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range rows {
		if s, ok := r[0].(string); ok {
			have[s] = true
		}
	}
	var missing []string
	for _, t := range reportTables {
		if !have[t] {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("report: not a pcapq database: no table %s (make one with pcapq ingest)", strings.Join(missing, ", "))
	}
	return nil
}

// rows runs s and returns every row, values normalised (see norm).
func (b *builder) rows(s string, args ...any) ([]string, [][]any, error) {
	if b.o.Trace != nil {
		start := time.Now()
		defer func() { b.o.Trace(s, time.Since(start)) }()
	}
	rs, err := b.q.Query(b.ctx, s, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("report query failed: %w\n%s", err, s)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		for i := range vals {
			vals[i] = norm(vals[i])
		}
		out = append(out, vals)
	}
	if err := rs.Err(); err != nil {
		return nil, nil, fmt.Errorf("report query failed: %w\n%s", err, s)
	}
	return cols, out, nil
}

// row runs s, which returns one row.
func (b *builder) row(s string, args ...any) ([]any, error) {
	_, rows, err := b.rows(s, args...)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("report query returned %d rows, want 1: %s", len(rows), s)
	}
	return rows[0], nil
}

// table runs s, whose last column must be "total_rows" (count(*) OVER ()
// before the LIMIT), and makes a Table of the other columns.
func (b *builder) table(id, title, doc, s string) (*Table, error) {
	cols, rows, err := b.rows(s)
	if err != nil {
		return nil, err
	}
	t := &Table{ID: id, Title: title, Doc: doc, Total: -1}
	if len(cols) > 0 && cols[len(cols)-1] == "total_rows" {
		cols = cols[:len(cols)-1]
		t.Total = 0
		for i, r := range rows {
			if i == 0 {
				t.Total = r[len(r)-1].(int64)
			}
			rows[i] = r[:len(r)-1]
		}
		t.More = t.Total > int64(len(rows))
	}
	t.Rows = rows
	if t.Rows == nil {
		t.Rows = [][]any{}
	}
	t.Columns = columns(cols, rows)
	return t, nil
}

// columns marks the columns whose values are all numbers.
func columns(names []string, rows [][]any) []Column {
	cs := make([]Column, len(names))
	for i, n := range names {
		cs[i].Name = n
		num, seen := true, false
		for _, r := range rows {
			switch r[i].(type) {
			case nil:
			case int64, float64:
				seen = true
			default:
				num = false
			}
		}
		cs[i].Numeric = num && seen
	}
	return cs
}

func i64(v any) int64 {
	if n, ok := v.(int64); ok {
		return n
	}
	return 0
}

func stat(id, label, doc string, v any) Stat {
	return Stat{ID: id, Label: label, Doc: doc, Value: v}
}

// where is the capture filter as a WHERE clause, with more conditions.
func (b *builder) where(more ...string) string {
	return " WHERE " + strings.Join(append([]string{b.filter}, more...), " AND ")
}

// ranked is table for a ranked query (ordered, not limited): it keeps the
// first Top rows, and says whether there were more (the count of all rows
// is left out: it would make DuckDB keep every group).
func (b *builder) ranked(id, title, doc, s string) (*Table, error) {
	t, err := b.table(id, title, doc, s+fmt.Sprintf(" LIMIT %d", b.o.Top+1))
	if err != nil {
		return nil, err
	}
	if len(t.Rows) > b.o.Top {
		t.Rows, t.More = t.Rows[:b.o.Top], true
	}
	return t, nil
}

func (b *builder) overview() (*Section, error) {
	s := &Section{ID: "overview", Title: "Overview",
		Doc: "What was read: the captures, their time span, and the problems met while reading them."}
	// Packets, bytes and the time span come from the packets themselves, not
	// from the captures rows, which a capture still being written (pcapq
	// capture --serve) does not have yet.
	r, err := b.row(`SELECT count(*), count(*) FILTER (WHERE NOT complete),
		(SELECT string_agg(DISTINCT lt, ', ' ORDER BY lt) FROM (SELECT unnest(link_types) AS lt FROM captures` + b.where() + `)),
		(SELECT count(*) FROM warnings` + b.where() + `)
		FROM captures` + b.where())
	if err != nil {
		return nil, err
	}
	p, err := b.row(`SELECT count(*), sum(cap_len)::BIGINT, min(ts), max(ts), epoch_ns(min(ts)), epoch_ns(max(ts)),
		round((epoch_ns(max(ts)) - epoch_ns(min(ts))) / 1e9, 3) FROM packets` + b.where())
	if err != nil {
		return nil, err
	}
	b.packets = i64(p[0])
	b.firstNs, b.lastNs = i64(p[4]), i64(p[5])
	fr, err := b.row(`SELECT (SELECT count(*) FROM flows` + b.where() + `),
		(SELECT count(*) FROM flows` + b.where("proto = 'tcp'") + `),
		(SELECT count(*) FROM http` + b.where() + `)`)
	if err != nil {
		return nil, err
	}
	b.flows, b.tcpFlows, b.httpRows = i64(fr[0]), i64(fr[1]), i64(fr[2])
	s.Stats = []Stat{
		stat("captures", "Captures", "Capture files read (rows of captures).", r[0]),
		stat("packets", "Packets", "Frames read, as capinfos counts them (rows of packets).", p[0]),
		stat("bytes", "Bytes captured", "Bytes of all frames as captured (sum of packets.cap_len).", p[1]),
		stat("flows", "Flows", "TCP connections and UDP/ICMP flows (rows of flows).", fr[0]),
		stat("first_ts", "First packet", "Timestamp of the earliest packet.", p[2]),
		stat("last_ts", "Last packet", "Timestamp of the latest packet.", p[3]),
		stat("span_s", "Time span (s)", "Last packet minus first packet, in seconds.", p[6]),
		stat("link_types", "Link types", "Link types seen (LINKTYPE names, from captures).", r[2]),
		stat("warnings", "Warnings", "Problems met while reading or decoding (rows of warnings).", r[3]),
		stat("incomplete", "Incomplete captures", "Captures whose reading stopped early (damaged or truncated file): every packet before the damage is kept.", r[1]),
	}
	if i64(r[0]) == 0 && b.packets == 0 {
		s.Note = "The database holds no captures" + b.filterNote() + "."
		return s, nil
	}
	caps, err := b.table("captures", "Captures",
		fmt.Sprintf("Each capture read: file, format, link types, frames, bytes, time span; complete is no when reading stopped early. At most %d shown.", maxCaptureRows),
		`SELECT capture_id, path, format, array_to_string(link_types, ', ') AS link_types, packets, bytes,
		first_ts, last_ts, complete, warnings, count(*) OVER () AS total_rows
		FROM captures`+b.where()+fmt.Sprintf(" ORDER BY capture_id LIMIT %d", maxCaptureRows))
	if err != nil {
		return nil, err
	}
	warn, err := b.ranked("warnings_by_kind", "Warnings by kind",
		"Problems met while reading, decoding or reassembling, by kind (Zeek weird.log names): how many, the first frame concerned, and one example (the alphabetically first detail).",
		`SELECT kind, count(*) AS warnings, min(frame) AS first_frame, min(detail) AS example, count(*) OVER () AS total_rows
		FROM warnings`+b.where()+` GROUP BY kind ORDER BY warnings DESC, kind`)
	if err != nil {
		return nil, err
	}
	s.Tables = []*Table{caps, warn}
	return s, nil
}

func (b *builder) filterNote() string {
	if len(b.o.Captures) == 0 {
		return ""
	}
	return " for capture_id " + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(b.o.Captures)), ", "), "[]")
}

// protoSQL labels a packet by its transport protocol.
const protoSQL = `CASE WHEN ip_proto = 6 THEN 'TCP' WHEN ip_proto = 17 THEN 'UDP' WHEN ip_proto = 1 THEN 'ICMP'
	WHEN ip_proto = 58 THEN 'ICMPv6' WHEN ip_proto = 132 THEN 'SCTP' WHEN ip_proto IS NOT NULL THEN 'IP proto ' || ip_proto
	WHEN ip_version IS NOT NULL THEN 'IP (undecoded)' WHEN ether_type = 2054 THEN 'ARP' ELSE 'non-IP' END`

// quantiles are the percentiles the report gives (p50, p90, p99), as
// DuckDB's quantile_cont computes them (linear interpolation).
const quantiles = "[0.5, 0.9, 0.99]"

// niceWidths are the time-bucket widths a time chart may use, in ns.
var niceWidths = []int64{
	1e6, 2e6, 5e6, 10e6, 20e6, 50e6, 100e6, 200e6, 500e6,
	1e9, 2e9, 5e9, 10e9, 15e9, 30e9, 60e9, 120e9, 300e9, 600e9, 900e9, 1800e9,
	3600e9, 7200e9, 3 * 3600e9, 6 * 3600e9, 12 * 3600e9, 86400e9,
}

// bucketWidth is the smallest nice width (ns) that covers span in at most
// maxTimeBuckets buckets; past a day, whole days.
func bucketWidth(span int64) int64 {
	for _, w := range niceWidths {
		if span/w < maxTimeBuckets {
			return w
		}
	}
	const day = int64(86400e9)
	return (span/maxTimeBuckets/day + 1) * day
}

func (b *builder) traffic() (*Section, error) {
	s := &Section{ID: "traffic", Title: "Traffic",
		Doc: "How much traffic, when, of which protocols, and between whom."}
	if b.packets == 0 {
		s.Note = "No packets."
		return s, nil
	}
	mix, err := b.table("protocol_mix", "Protocol mix",
		"Frames by transport protocol (IP protocol number; ARP and other non-IP frames by EtherType): frames, their share, bytes on the wire (orig_len) and their share, in percent.",
		`SELECT protocol, packets, round(100.0 * packets / sum(packets) OVER (), 3) AS "packets %",
		bytes, round(100.0 * bytes / sum(bytes) OVER (), 3) AS "bytes %", count(*) OVER () AS total_rows
		FROM (SELECT `+protoSQL+` AS protocol, count(*) AS packets, sum(orig_len)::BIGINT AS bytes FROM packets`+b.where()+` GROUP BY 1)
		ORDER BY packets DESC, protocol`)
	if err != nil {
		return nil, err
	}
	// The protocols drawn apart in the time charts: the busiest.
	var names []string
	for i, r := range mix.Rows {
		if i == maxProtoSeries {
			break
		}
		names = append(names, r[0].(string))
	}
	if len(mix.Rows) > maxProtoSeries {
		names = append(names, "other")
	}
	pkts, bits, err := b.trafficCharts(names)
	if err != nil {
		return nil, err
	}
	services, err := b.ranked("services", "Services",
		"Flows by the application protocol recognised in their content (flows.service; '(none)' when none was) and transport: flows, packets and IP bytes of both directions.",
		`SELECT coalesce(service, '(none)') AS service, proto, count(*) AS flows, sum(orig_pkts + resp_pkts)::BIGINT AS packets,
		sum(orig_ip_bytes + resp_ip_bytes)::BIGINT AS ip_bytes, count(*) OVER () AS total_rows
		FROM flows`+b.where()+` GROUP BY ALL ORDER BY flows DESC, service, proto`)
	if err != nil {
		return nil, err
	}
	talkers, err := b.ranked("top_talkers", "Top talkers",
		"Addresses by IP bytes sent plus received over all their flows (flows.orig_ip_bytes and resp_ip_bytes), with packets each way and flows taken part in.",
		`SELECT addr AS address, sum(bytes_out + bytes_in)::BIGINT AS ip_bytes, sum(bytes_out)::BIGINT AS bytes_sent,
		sum(bytes_in)::BIGINT AS bytes_received, sum(pkts_out)::BIGINT AS packets_sent, sum(pkts_in)::BIGINT AS packets_received,
		count(*) AS flows
		FROM (SELECT orig_h AS addr, orig_ip_bytes AS bytes_out, resp_ip_bytes AS bytes_in, orig_pkts AS pkts_out, resp_pkts AS pkts_in FROM flows`+b.where()+`
		UNION ALL SELECT resp_h, resp_ip_bytes, orig_ip_bytes, resp_pkts, orig_pkts FROM flows`+b.where()+`)
		GROUP BY addr ORDER BY ip_bytes DESC, address`)
	if err != nil {
		return nil, err
	}
	convs, err := b.ranked("top_conversations", "Top conversations",
		"Pairs of addresses (originator -> responder, as in flows) by IP bytes of both directions, with flows, packets and bytes each way.",
		`SELECT orig_h AS originator, resp_h AS responder, proto, count(*) AS flows,
		sum(orig_pkts + resp_pkts)::BIGINT AS packets, sum(orig_ip_bytes + resp_ip_bytes)::BIGINT AS ip_bytes,
		sum(orig_ip_bytes)::BIGINT AS bytes_orig_to_resp, sum(resp_ip_bytes)::BIGINT AS bytes_resp_to_orig
		FROM flows`+b.where()+` GROUP BY ALL ORDER BY ip_bytes DESC, originator, responder, proto`)
	if err != nil {
		return nil, err
	}
	ports, err := b.ranked("busiest_ports", "Busiest ports",
		"TCP and UDP responder ports by flows (connections) to them, with distinct clients, packets and IP bytes, and the services recognised on them.",
		`SELECT proto, resp_p AS port, count(*) AS flows, count(DISTINCT orig_h) AS clients,
		sum(orig_pkts + resp_pkts)::BIGINT AS packets, sum(orig_ip_bytes + resp_ip_bytes)::BIGINT AS ip_bytes,
		coalesce(string_agg(DISTINCT service, ', ' ORDER BY service), '') AS services
		FROM flows`+b.where("proto IN ('tcp', 'udp')")+` GROUP BY proto, resp_p ORDER BY flows DESC, ip_bytes DESC, proto, port`)
	if err != nil {
		return nil, err
	}
	s.Charts = []*Chart{pkts, bits}
	s.Tables = []*Table{mix, services, talkers, convs, ports}
	return s, nil
}

// trafficCharts draws packets/s and bits/s over time for the protocols in
// names ("other" sums the rest).
func (b *builder) trafficCharts(names []string) (*Chart, *Chart, error) {
	span := b.lastNs - b.firstNs
	w := bucketWidth(span)
	start := b.firstNs - ((b.firstNs%w)+w)%w // aligned to the width
	n := int((b.lastNs-start)/w) + 1
	idx := map[string]int{}
	for i, name := range names {
		idx[name] = i
	}
	_, rows, err := b.rows(fmt.Sprintf(`SELECT (epoch_ns(ts) - %d) // %d AS bucket, %s AS protocol, count(*), sum(orig_len)::BIGINT
		FROM packets%s GROUP BY ALL`, start, w, protoSQL, b.where()))
	if err != nil {
		return nil, nil, err
	}
	counts := make([][]float64, len(names))
	bytes := make([][]float64, len(names))
	for i := range names {
		counts[i] = make([]float64, n)
		bytes[i] = make([]float64, n)
	}
	for _, r := range rows {
		k := int(i64(r[0]))
		if k < 0 || k >= n {
			return nil, nil, fmt.Errorf("report: packet time bucket %d outside the captures' time span (captures.first_ts/last_ts disagree with packets.ts)", k)
		}
		i, ok := idx[r[1].(string)]
		if !ok {
			i = idx["other"]
		}
		counts[i][k] += float64(i64(r[2]))
		bytes[i][k] += float64(i64(r[3]))
	}
	secs := float64(w) / 1e9
	x := make([]float64, n)
	for k := range x {
		x[k] = float64(start+int64(k)*w) / 1e9
	}
	stepDoc := fmt.Sprintf("in buckets of %s", durText(w))
	mk := func(id, title, doc, ylabel string, data [][]float64, scale float64) *Chart {
		c := &Chart{ID: id, Title: title, Doc: doc, Kind: "time", XLabel: "time (UTC)", YLabel: ylabel, X: x, Step: secs}
		t := &Table{ID: id + "_data", Title: title + ": peaks", Total: int64(len(names)),
			Doc:     "Per protocol: the peak rate (busiest bucket), when it began, and the mean rate over the chart's span.",
			Columns: []Column{{Name: "protocol"}, {Name: "peak " + ylabel, Numeric: true}, {Name: "peak at"}, {Name: "mean " + ylabel, Numeric: true}}}
		for i, name := range names {
			vals := make([]float64, n)
			peak, at, sum := 0.0, 0, 0.0
			for k, v := range data[i] {
				vals[k] = round3(v * scale / secs)
				sum += v
				if v > peak {
					peak, at = v, k
				}
			}
			c.Series = append(c.Series, Series{Label: name, Values: vals})
			t.Rows = append(t.Rows, []any{name, round3(peak * scale / secs), FormatTime(time.Unix(0, start+int64(at)*w)), round3(sum * scale / (secs * float64(n)))})
		}
		c.Data = t
		return c
	}
	pk := mk("packets_per_s", "Packets per second",
		"Frames per second by transport protocol, "+stepDoc+" (frames in the bucket divided by its width; the first and last buckets may be partly outside the capture).",
		"packets/s", counts, 1)
	bt := mk("bits_per_s", "Bits per second",
		"Bits per second on the wire (8 x orig_len) by transport protocol, "+stepDoc+".",
		"bits/s", bytes, 8)
	return pk, bt, nil
}

// hostPortSQL writes an address and port as host:port, [v6]:port.
func hostPortSQL(h, p string) string {
	return fmt.Sprintf("CASE WHEN contains(%[1]s, ':') THEN '[' || %[1]s || ']' ELSE %[1]s END || ':' || %[2]s", h, p)
}

// durText writes a bucket width in words.
func durText(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// histEdges are the latency histogram's bucket bounds in ms: 1-2-5 steps
// from 0.01 ms to 100 s, plus a bucket below 0 and one from 100 s up.
var histEdges = func() []float64 {
	e := []float64{0}
	for d := 0.01; d < 1e5*1.5; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := d * m; v <= 1e5*1.0001 {
				e = append(e, math.Round(v*1000)/1000)
			}
		}
	}
	return e
}()

// histogram counts the values of each expression in cols (over from,
// a FROM clause with its WHERE) in the histEdges buckets, and draws them
// as bars with the empty buckets at both ends left out.
func (b *builder) histogram(id, title, doc, from string, labels, cols []string) (*Chart, error) {
	var sel []string
	nb := len(histEdges) + 1
	for _, c := range cols {
		for k := 0; k < nb; k++ {
			sel = append(sel, "count(*) FILTER (WHERE "+bucketCond(c, k)+")")
		}
	}
	r, err := b.row("SELECT " + strings.Join(sel, ", ") + " FROM " + from)
	if err != nil {
		return nil, err
	}
	lo, hi := nb, -1
	for k := 0; k < nb; k++ {
		for j := range cols {
			if i64(r[j*nb+k]) > 0 {
				lo, hi = min(lo, k), max(hi, k)
			}
		}
	}
	c := &Chart{ID: id, Title: title, Doc: doc, Kind: "histogram", XLabel: "ms", YLabel: "count"}
	t := &Table{ID: id + "_data", Title: title + ": buckets", Doc: "Values in each bucket: from (inclusive) and to (exclusive), in ms.",
		Columns: []Column{{Name: "from (ms)", Numeric: true}, {Name: "to (ms)", Numeric: true}}, Rows: [][]any{}}
	for _, l := range labels {
		c.Series = append(c.Series, Series{Label: l})
		t.Columns = append(t.Columns, Column{Name: l, Numeric: true})
	}
	for k := lo; k <= hi; k++ {
		from, to := bucketBounds(k)
		c.Labels = append(c.Labels, bucketLabel(k))
		row := []any{from, to}
		for j := range cols {
			v := i64(r[j*nb+k])
			c.Series[j].Values = append(c.Series[j].Values, float64(v))
			row = append(row, v)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Total = int64(len(t.Rows))
	c.Data = t
	return c, nil
}

// bucketCond is the SQL condition for histogram bucket k of expression c.
func bucketCond(c string, k int) string {
	switch {
	case k == 0:
		return fmt.Sprintf("%s < 0", c)
	case k == len(histEdges):
		return fmt.Sprintf("%s >= %g", c, histEdges[k-1])
	}
	return fmt.Sprintf("%s >= %g AND %s < %g", c, histEdges[k-1], c, histEdges[k])
}

// bucketBounds are bucket k's bounds (nil: open).
func bucketBounds(k int) (from, to any) {
	if k > 0 {
		from = histEdges[k-1]
	}
	if k < len(histEdges) {
		to = histEdges[k]
	}
	return
}

func bucketLabel(k int) string {
	from, to := bucketBounds(k)
	switch {
	case from == nil:
		return "< 0"
	case to == nil:
		return "≥ " + Text(from)
	}
	return Text(from) + "–" + Text(to)
}

// connStates explains Zeek's conn_state values.
var connStates = map[string]string{
	"S0": "SYN seen, no reply", "S1": "established, not closed", "SF": "normal establish and close",
	"REJ": "rejected (RST to SYN)", "S2": "established, originator closed, no reply", "S3": "established, responder closed, no reply",
	"RSTO": "established, originator reset", "RSTR": "established, responder reset", "RSTOS0": "originator SYN then RST, no SYN-ACK",
	"RSTRH": "responder SYN-ACK then RST, no SYN seen", "SH": "originator SYN then FIN, no SYN-ACK",
	"SHR": "responder SYN-ACK then FIN, no SYN seen", "OTH": "no SYN seen, midstream",
}

func (b *builder) tcp() (*Section, error) {
	s := &Section{ID: "tcp", Title: "TCP health",
		Doc: "Handshake round trips, retransmissions, resets and zero windows of the TCP connections (flows and tcp_events)."}
	if b.tcpFlows == 0 {
		s.Note = "No TCP connections (flows holds none" + b.filterNote() + ")."
		return s, nil
	}
	tf := b.where("proto = 'tcp'")
	r, err := b.row(`SELECT n, rtts, round(q[1], 3), round(q[2], 3), round(q[3], 3), round(mx, 3), pkts, retx, rate, conns_retx, conns_reset FROM (
		SELECT count(*) AS n, count(handshake_rtt_ms) AS rtts, quantile_cont(handshake_rtt_ms, ` + quantiles + `) AS q, max(handshake_rtt_ms) AS mx,
		sum(orig_pkts + resp_pkts)::BIGINT AS pkts, sum(retransmits)::BIGINT AS retx,
		round(100.0 * sum(retransmits) / nullif(sum(orig_pkts + resp_pkts), 0), 3) AS rate,
		count(*) FILTER (WHERE retransmits > 0) AS conns_retx,
		count(*) FILTER (WHERE regexp_matches(history, '[Rr]')) AS conns_reset
		FROM flows` + tf + `)`)
	if err != nil {
		return nil, err
	}
	ev, err := b.row(`SELECT count(*) FILTER (WHERE kind = 'rst'), count(*) FILTER (WHERE kind = 'zero_window'),
		count(DISTINCT (capture_id, flow_id)) FILTER (WHERE kind = 'zero_window') FROM tcp_events` + b.where())
	if err != nil {
		return nil, err
	}
	s.Stats = []Stat{
		stat("tcp_connections", "Connections", "TCP connections (flows with proto 'tcp').", r[0]),
		stat("handshakes", "Handshakes seen", "Connections whose handshake (SYN, SYN-ACK, ACK) was seen, so that its round trip is known.", r[1]),
		stat("rtt_p50", "Handshake RTT p50 (ms)", "Median SYN to ACK-of-SYN-ACK time (flows.handshake_rtt_ms; DuckDB quantile_cont, linear interpolation).", r[2]),
		stat("rtt_p90", "Handshake RTT p90 (ms)", "90th percentile of the handshake round trip.", r[3]),
		stat("rtt_p99", "Handshake RTT p99 (ms)", "99th percentile of the handshake round trip.", r[4]),
		stat("rtt_max", "Handshake RTT max (ms)", "Slowest handshake round trip.", r[5]),
		stat("tcp_packets", "TCP packets", "Packets of all TCP connections (orig_pkts + resp_pkts).", r[6]),
		stat("retransmits", "Retransmitted segments", "Segments flagged retransmission, fast or spurious retransmission (sum of flows.retransmits, tshark's tcp.analysis meaning).", r[7]),
		stat("retransmit_rate", "Retransmission rate (%)", "Retransmitted segments per 100 TCP packets.", r[8]),
		stat("conns_retransmitting", "Connections with retransmissions", "Connections with at least one retransmitted segment.", r[9]),
		stat("conns_reset", "Connections reset", "Connections in which a RST was seen (R or r in the Zeek history).", r[10]),
		stat("rst_segments", "RST segments", "Segments with RST set (tcp_events kind 'rst').", ev[0]),
		stat("zero_windows", "Zero-window segments", "Segments advertising a zero receive window (tcp_events kind 'zero_window').", ev[1]),
		stat("conns_zero_window", "Connections with a zero window", "Connections with at least one zero-window segment.", ev[2]),
	}
	rtt, err := b.histogram("handshake_rtt", "Handshake RTT distribution",
		"TCP connections by handshake round trip (flows.handshake_rtt_ms: SYN to the ACK of the SYN-ACK), in 1-2-5 buckets of ms; connections without a seen handshake are left out.",
		"flows"+tf, []string{"connections"}, []string{"handshake_rtt_ms"})
	if err != nil {
		return nil, err
	}
	kinds, err := b.table("tcp_events_by_kind", "TCP analysis events by kind",
		"Flagged TCP segments (tcp_events, tshark's tcp.analysis meaning) by kind: segments, and connections with at least one.",
		`SELECT kind, count(*) AS segments, count(DISTINCT (capture_id, flow_id)) AS connections, count(*) OVER () AS total_rows
		FROM tcp_events`+b.where()+` GROUP BY kind ORDER BY segments DESC, kind`)
	if err != nil {
		return nil, err
	}
	states, err := b.table("conn_states", "Connection states",
		"TCP connections by Zeek conn_state (how they began and ended): RSTO, RSTR, RSTOS0, RSTRH and REJ are resets; S0 got no answer.",
		`SELECT conn_state, count(*) AS connections, round(100.0 * count(*) / sum(count(*)) OVER (), 3) AS "connections %",
		count(*) OVER () AS total_rows FROM flows`+tf+` GROUP BY conn_state ORDER BY connections DESC, conn_state`)
	if err != nil {
		return nil, err
	}
	states.Columns = append(states.Columns[:2:2], Column{Name: "connections %", Numeric: true}, Column{Name: "meaning"})
	for i, row := range states.Rows {
		st, _ := row[0].(string)
		states.Rows[i] = append(row, connStates[st])
	}
	worst, err := b.ranked("worst_connections", "Worst connections",
		"TCP connections with retransmissions, zero windows or resets, worst first: by retransmitted segments, then zero-window segments, then RST segments. Rate is retransmitted segments per 100 packets of the connection.",
		`WITH ev AS (SELECT capture_id, flow_id, count(*) FILTER (WHERE kind = 'zero_window') AS zero_windows, count(*) FILTER (WHERE kind = 'rst') AS rsts
			FROM tcp_events`+b.where("kind IN ('zero_window', 'rst')")+` GROUP BY ALL)
		SELECT f.capture_id, f.flow_id, `+hostPortSQL("f.orig_h", "f.orig_p")+` AS originator, `+hostPortSQL("f.resp_h", "f.resp_p")+` AS responder,
		f.orig_pkts + f.resp_pkts AS packets, f.retransmits, round(100.0 * f.retransmits / nullif(f.orig_pkts + f.resp_pkts, 0), 3) AS "retransmit %",
		coalesce(ev.zero_windows, 0) AS zero_windows, coalesce(ev.rsts, 0) AS rsts, f.conn_state, f.history,
		round(f.handshake_rtt_ms, 3) AS handshake_rtt_ms, round(f.duration_ms, 3) AS duration_ms
		FROM (SELECT * FROM flows`+tf+`) f LEFT JOIN ev USING (capture_id, flow_id)
		WHERE f.retransmits > 0 OR ev.zero_windows > 0 OR ev.rsts > 0
		ORDER BY f.retransmits DESC, zero_windows DESC, rsts DESC, f.capture_id, f.flow_id`)
	if err != nil {
		return nil, err
	}
	s.Charts = []*Chart{rtt}
	s.Tables = []*Table{kinds, states, worst}
	return s, nil
}

func (b *builder) http() (*Section, error) {
	s := &Section{ID: "http", Title: "HTTP",
		Doc: "HTTP/1.x transactions (the http table): what was asked, how it was answered, and how long it took. ttfb is the time from the end of the request to the first byte of the response; duration from the first request byte to the last response byte. Percentiles are DuckDB's quantile_cont (linear interpolation) over the transactions with a response."}
	if b.httpRows == 0 {
		s.Note = "No HTTP transactions" + b.filterNote() + "."
		return s, nil
	}
	r, err := b.row(`SELECT n, no_resp, no_req, c4, c5, r4, r5, rn, errs,
		round(tq[1], 3), round(tq[2], 3), round(tq[3], 3), round(tmax, 3), round(dq[1], 3), round(dq[2], 3), round(dq[3], 3), round(dmax, 3) FROM (
		SELECT count(*) AS n, count(*) FILTER (WHERE missing = 'response') AS no_resp, count(*) FILTER (WHERE missing = 'request') AS no_req,
		count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS c4, count(*) FILTER (WHERE status_code >= 500) AS c5,
		round(100.0 * count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) / nullif(count(status_code), 0), 3) AS r4,
		round(100.0 * count(*) FILTER (WHERE status_code >= 500) / nullif(count(status_code), 0), 3) AS r5,
		round(100.0 * count(*) FILTER (WHERE missing = 'response') / count(*), 3) AS rn,
		count(error) AS errs,
		quantile_cont(ttfb_ms, ` + quantiles + `) AS tq, max(ttfb_ms) AS tmax, quantile_cont(duration_ms, ` + quantiles + `) AS dq, max(duration_ms) AS dmax
		FROM http` + b.where() + `)`)
	if err != nil {
		return nil, err
	}
	s.Stats = []Stat{
		stat("transactions", "Transactions", "HTTP transactions (rows of http).", r[0]),
		stat("no_response", "Without response", "Requests whose response was never seen (missing = 'response').", r[1]),
		stat("no_request", "Without request", "Responses whose request was never seen (missing = 'request').", r[2]),
		stat("status_4xx", "4xx responses", "Responses with a client error status (400-499).", r[3]),
		stat("status_5xx", "5xx responses", "Responses with a server error status (500 and up).", r[4]),
		stat("rate_4xx", "4xx rate (%)", "4xx responses per 100 responses.", r[5]),
		stat("rate_5xx", "5xx rate (%)", "5xx responses per 100 responses.", r[6]),
		stat("rate_no_response", "No-response rate (%)", "Transactions without response per 100 transactions.", r[7]),
		stat("parse_errors", "Protocol problems", "Transactions with a parsing or decoding problem (http.error set).", r[8]),
		stat("ttfb_p50", "ttfb p50 (ms)", "Median time to first byte.", r[9]),
		stat("ttfb_p90", "ttfb p90 (ms)", "90th percentile of time to first byte.", r[10]),
		stat("ttfb_p99", "ttfb p99 (ms)", "99th percentile of time to first byte.", r[11]),
		stat("ttfb_max", "ttfb max (ms)", "Longest time to first byte.", r[12]),
		stat("duration_p50", "duration p50 (ms)", "Median transaction duration.", r[13]),
		stat("duration_p90", "duration p90 (ms)", "90th percentile of transaction duration.", r[14]),
		stat("duration_p99", "duration p99 (ms)", "99th percentile of transaction duration.", r[15]),
		stat("duration_max", "duration max (ms)", "Longest transaction.", r[16]),
	}
	hist, err := b.histogram("http_latency", "HTTP latency distribution",
		"Transactions by time to first byte (ttfb_ms) and by duration (duration_ms), in 1-2-5 buckets of ms; '< 0' holds responses that began before the request ended.",
		"http"+b.where(), []string{"ttfb", "duration"}, []string{"ttfb_ms", "duration_ms"})
	if err != nil {
		return nil, err
	}
	status, err := b.table("http_status", "Responses by status",
		"Responses by status code, with the most frequent reason phrase sent with it; '—' counts requests without a response.",
		`SELECT status_code AS status, mode(status_msg) AS reason, count(*) AS transactions,
		round(100.0 * count(*) / sum(count(*)) OVER (), 3) AS "transactions %", count(*) OVER () AS total_rows
		FROM http`+b.where()+` GROUP BY status_code ORDER BY status_code NULLS LAST`+fmt.Sprintf(" LIMIT %d", maxTop))
	if err != nil {
		return nil, err
	}
	statusChart := &Chart{ID: "http_status_chart", Title: "Responses by status class", Kind: "bar", XLabel: "status", YLabel: "responses",
		Doc: "Responses by status class (1xx to 5xx), and transactions without a response."}
	classes, err := b.row(`SELECT count(*) FILTER (WHERE status_code BETWEEN 100 AND 199), count(*) FILTER (WHERE status_code BETWEEN 200 AND 299),
		count(*) FILTER (WHERE status_code BETWEEN 300 AND 399), count(*) FILTER (WHERE status_code BETWEEN 400 AND 499),
		count(*) FILTER (WHERE status_code >= 500), count(*) FILTER (WHERE status_code IS NULL) FROM http` + b.where())
	if err != nil {
		return nil, err
	}
	statusChart.Labels = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "no response"}
	sd := &Table{ID: "http_status_chart_data", Title: "Responses by status class", Doc: "Transactions in each class.",
		Columns: []Column{{Name: "class"}, {Name: "transactions", Numeric: true}}, Total: 6}
	vals := make([]float64, len(classes))
	for i, v := range classes {
		vals[i] = float64(i64(v))
		sd.Rows = append(sd.Rows, []any{statusChart.Labels[i], v})
	}
	statusChart.Series = []Series{{Label: "transactions", Values: vals}}
	statusChart.Data = sd
	methods, err := b.ranked("http_methods", "Requests by method",
		"Transactions by request method ('—': request not seen), with their share in percent and how many got a 4xx, a 5xx or no response.",
		`SELECT method, count(*) AS transactions, round(100.0 * count(*) / sum(count(*)) OVER (), 3) AS "transactions %",
		count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS "4xx", count(*) FILTER (WHERE status_code >= 500) AS "5xx",
		count(*) FILTER (WHERE missing = 'response') AS no_response, count(*) OVER () AS total_rows
		FROM http`+b.where()+` GROUP BY method ORDER BY transactions DESC, method NULLS LAST`)
	if err != nil {
		return nil, err
	}
	// latency is the SELECT of the host and endpoint tables, grouped by
	// key over from (a FROM clause with its WHERE).
	latency := func(key, from string) string {
		return `SELECT ` + key + `, transactions, "4xx", "5xx", no_response,
		round(tq[1], 3) AS "ttfb p50", round(tq[2], 3) AS "ttfb p90", round(tq[3], 3) AS "ttfb p99", round(tmax, 3) AS "ttfb max",
		round(dq[1], 3) AS "duration p50", round(dq[2], 3) AS "duration p90", round(dq[3], 3) AS "duration p99", round(dmax, 3) AS "duration max"
		FROM (SELECT ` + key + `, count(*) AS transactions,
		count(*) FILTER (WHERE status_code BETWEEN 400 AND 499) AS "4xx", count(*) FILTER (WHERE status_code >= 500) AS "5xx",
		count(*) FILTER (WHERE missing = 'response') AS no_response,
		quantile_cont(ttfb_ms, ` + quantiles + `) AS tq, max(ttfb_ms) AS tmax, quantile_cont(duration_ms, ` + quantiles + `) AS dq, max(duration_ms) AS dmax
		FROM ` + from + ` GROUP BY ` + key + `) ORDER BY transactions DESC, ` + key + ` NULLS LAST`
	}
	hosts, err := b.ranked("http_hosts", "Hosts",
		"Transactions by Host header ('—': none), busiest first: errors, and ttfb and duration percentiles in ms.",
		latency("host", "http"+b.where()))
	if err != nil {
		return nil, err
	}
	hostChart := &Chart{ID: "http_hosts_chart", Title: "Transactions by host", Kind: "bar", Stacked: true, XLabel: "Host", YLabel: "transactions",
		Doc: "Transactions of the busiest Host headers (those of the Hosts table), stacked: answered with 1xx-3xx, 4xx, 5xx, and without response.",
		Data: &Table{ID: "http_hosts_chart_data", Title: "Transactions by host", Doc: "The numbers of the chart.", Total: int64(len(hosts.Rows)),
			Columns: []Column{{Name: "host"}, {Name: "1xx-3xx", Numeric: true}, {Name: "4xx", Numeric: true}, {Name: "5xx", Numeric: true}, {Name: "no response", Numeric: true}}}}
	parts := make([][]float64, 4)
	for _, row := range hosts.Rows {
		// transactions, 4xx, 5xx, no_response
		n, c4, c5, nr := i64(row[1]), i64(row[2]), i64(row[3]), i64(row[4])
		hostChart.Labels = append(hostChart.Labels, Text(row[0]))
		for i, v := range []int64{n - c4 - c5 - nr, c4, c5, nr} {
			parts[i] = append(parts[i], float64(v))
		}
		hostChart.Data.Rows = append(hostChart.Data.Rows, []any{row[0], n - c4 - c5 - nr, c4, c5, nr})
	}
	for i, l := range []string{"1xx-3xx", "4xx", "5xx", "no response"} {
		hostChart.Series = append(hostChart.Series, Series{Label: l, Values: parts[i]})
	}
	endpoints, err := b.ranked("http_endpoints", "Endpoints",
		"Transactions by endpoint (method, Host and path with numeric, UUID and long hex segments folded to {id}, query string dropped; '—': request not seen), busiest first: errors, and ttfb and duration percentiles in ms.",
		latency("endpoint", `(SELECT h.*, e.endpoint FROM (SELECT * FROM http`+b.where()+`) h
		LEFT JOIN (SELECT DISTINCT method, host, path, `+endpointSQL+` AS endpoint FROM http`+b.where()+`) e
		ON h.method IS NOT DISTINCT FROM e.method AND h.host IS NOT DISTINCT FROM e.host AND h.path IS NOT DISTINCT FROM e.path)`))
	if err != nil {
		return nil, err
	}
	agents, err := b.ranked("http_user_agents", "User agents",
		"Transactions by User-Agent header ('—': none), busiest first, with the hosts they asked and how many got a 4xx or 5xx.",
		`SELECT user_agent, count(*) AS transactions, count(DISTINCT host) AS hosts,
		count(*) FILTER (WHERE status_code >= 400) AS "4xx/5xx"
		FROM http`+b.where()+` GROUP BY user_agent ORDER BY transactions DESC, user_agent NULLS LAST`)
	if err != nil {
		return nil, err
	}
	errs, err := b.ranked("http_errors", "Protocol problems",
		"Transactions by parsing or decoding problem (http.error, Zeek-style names).",
		`SELECT error, count(*) AS transactions, count(*) OVER () AS total_rows FROM http`+b.where("error IS NOT NULL")+
			` GROUP BY error ORDER BY transactions DESC, error`)
	if err != nil {
		return nil, err
	}
	slow, err := b.ranked("http_slowest", "Slowest transactions",
		"Transactions by duration, longest first, with their connection (capture_id, flow_id) and place in it (trans_depth) to look them up in http, flows and packets.",
		`SELECT capture_id, flow_id, trans_depth, ts_req_start AS request_time, method, host, uri, status_code AS status,
		round(ttfb_ms, 3) AS ttfb_ms, round(duration_ms, 3) AS duration_ms
		FROM http`+b.where("duration_ms IS NOT NULL")+` ORDER BY duration_ms DESC, capture_id, flow_id, trans_depth`)
	if err != nil {
		return nil, err
	}
	s.Charts = []*Chart{hist, statusChart, hostChart}
	s.Tables = []*Table{methods, status, hosts, endpoints, agents, errs, slow}
	return s, nil
}

// declared makes a section of each table with report queries that
// exists and has rows.
func (b *builder) declared() ([]*Section, error) {
	var out []*Section
	for _, t := range b.o.Tables {
		if len(t.Report) == 0 {
			continue
		}
		_, rows, err := b.rows(`SELECT count(*) FILTER (WHERE column_name = 'capture_id') FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?`, t.Name)
		if err != nil {
			return nil, err
		}
		var exists bool
		_, tr, err := b.rows(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?`, t.Name)
		if err != nil {
			return nil, err
		}
		exists = i64(tr[0][0]) > 0
		if !exists {
			continue
		}
		cte := "WITH " + t.Name + " AS (SELECT * FROM main." + t.Name
		if i64(rows[0][0]) > 0 {
			cte += b.where()
		}
		cte += ") "
		_, n, err := b.rows(cte + "SELECT count(*) FROM " + t.Name)
		if err != nil {
			return nil, err
		}
		if i64(n[0][0]) == 0 {
			continue
		}
		s := &Section{ID: "table_" + t.Name, Title: t.Name, Doc: t.Doc}
		for i, rq := range t.Report {
			tb, err := b.table(fmt.Sprintf("table_%s_%d", t.Name, i), rq.Title, rq.Doc,
				cte+"SELECT * FROM ("+strings.TrimRight(strings.TrimSpace(rq.SQL), ";")+fmt.Sprintf(") LIMIT %d", b.o.Top+1))
			if err != nil {
				return nil, fmt.Errorf("report query %q of table %s: %w", rq.Title, t.Name, err)
			}
			tb.Total = -1
			if len(tb.Rows) > b.o.Top {
				tb.Rows, tb.More = tb.Rows[:b.o.Top], true
			}
			s.Tables = append(s.Tables, tb)
		}
		out = append(out, s)
	}
	return out, nil
}
