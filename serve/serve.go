package serve

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/report"
)

// Source runs SQL; *query.DB is one.
type Source interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Explainer is a Source that may cancel a query of its own accord (pcapq
// capture --serve does when --rotate replaces its database). The server
// calls Explain with a console query's error, under Options.Lock, and
// shows what it returns.
type Explainer interface {
	Explain(err error) error
}

// Options configure a Server.
type Options struct {
	Report       report.Options // what the report shows
	QueryTimeout time.Duration  // a console query is cancelled after this; 0: DefaultQueryTimeout
	MaxRows      int            // console rows kept; 0: DefaultMaxRows
	MaxBytes     int            // console result text kept; 0: DefaultMaxBytes
	Live         bool           // push live counters (server-sent events) for a growing database
	Tick         time.Duration  // live update period; 0: one second
	Refresh      time.Duration  // live: the page's report is recomputed this often while counts change; 0: 10 s
	// Lock, when set, is held around every use of the Source (a query and
	// the reading of its rows). A writer that shares the Source's
	// connection holds it while it writes; pcapq capture --serve holds it
	// while it replaces the database (--rotate).
	Lock sync.Locker
	// Hosts are the Host header values accepted (host or host:port); empty:
	// any. pcapq serve sets the listening address and, on loopback,
	// localhost, 127.0.0.1 and [::1] with its port.
	Hosts []string
}

// Defaults of Options.
const (
	DefaultQueryTimeout = 30 * time.Second
	DefaultMaxRows      = 10000
	DefaultMaxBytes     = 8 << 20
	maxSQLBytes         = 1 << 20
	recentRows          = 10
)

// Server serves the page and its API; it is an http.Handler.
type Server struct {
	src  Source
	o    Options
	mu   sync.Mutex // one use of src at a time: query.DB pins one connection
	mux  *http.ServeMux
	csp  string
	now  func() time.Time
	done chan struct{}

	// The report of a database that does not change (not Live) is built
	// once.
	cached *report.Report
}

// New returns a server over src.
func New(src Source, o Options) *Server {
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	s := &Server{src: src, o: o, mux: http.NewServeMux(), csp: report.CSP(), now: time.Now, done: make(chan struct{})}
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("GET /fragment", s.fragment)
	s.mux.HandleFunc("GET /api/report.json", s.reportJSON)
	s.mux.HandleFunc("POST /api/query", s.query)
	s.mux.HandleFunc("GET /api/events", s.events)
	return s
}

// Close ends the server's event streams (http.Server.Shutdown waits for
// handlers, and an event stream never ends by itself).
func (s *Server) Close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}

// ServeHTTP checks the Host header and sets the security headers, then
// routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hostAllowed(r.Host) {
		http.Error(w, "pcapq serve: unexpected Host header (this server answers only to the address it listens on)", http.StatusMisdirectedRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) hostAllowed(host string) bool {
	if len(s.o.Hosts) == 0 {
		return true
	}
	for _, h := range s.o.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// use runs f with the Source to itself.
func (s *Server) use(f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.Lock != nil {
		s.o.Lock.Lock()
		defer s.o.Lock.Unlock()
	}
	return f()
}

// lockedSource is the Source as report.Build sees it inside use.
type lockedSource struct{ s *Server }

func (l lockedSource) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return l.s.src.Query(ctx, q, args...)
}

func (s *Server) build(ctx context.Context) (*report.Report, error) {
	var r *report.Report
	err := s.use(func() error {
		if s.cached != nil {
			r = s.cached
			return nil
		}
		var err error
		r, err = report.Build(ctx, lockedSource{s}, s.o.Report)
		if err == nil && !s.o.Live {
			s.cached = r
		}
		return err
	})
	return r, err
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	rep, err := s.build(r.Context())
	if err != nil {
		http.Error(w, "pcapq serve: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := report.WritePage(&b, rep, report.PageOptions{Console: true, Live: s.o.Live, DefaultSQL: defaultSQL, RefreshMS: int(s.o.Refresh.Milliseconds())}); err != nil {
		http.Error(w, "pcapq serve: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

const defaultSQL = "SELECT proto, conn_state, count(*) AS flows, sum(orig_bytes + resp_bytes) AS bytes\nFROM flows GROUP BY ALL ORDER BY flows DESC"

func (s *Server) fragment(w http.ResponseWriter, r *http.Request) {
	rep, err := s.build(r.Context())
	if err != nil {
		http.Error(w, "pcapq serve: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := report.WritePage(&b, rep, report.PageOptions{Fragment: true}); err != nil {
		http.Error(w, "pcapq serve: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Server) reportJSON(w http.ResponseWriter, r *http.Request) {
	rep, err := s.build(r.Context())
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	report.WriteJSON(w, rep)
}

// Result is a console query's answer.
type Result struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	Notice    string   `json:"notice,omitempty"`
	ElapsedMS int64    `json:"elapsed_ms"`
}

// ErrNotReadOnly is returned for a console statement that is not one
// read-only query.
var ErrNotReadOnly = errors.New("pcapq serve: the console is read-only")

// CheckReadOnly asks DuckDB's parser whether q is exactly one statement
// that only reads: json_serialize_sql serializes SELECT statements (WITH,
// FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE are SELECTs to it) and
// answers an error for anything else (INSERT, CREATE, COPY, ATTACH, SET,
// PRAGMA, ...). The caller holds the Source.
func CheckReadOnly(ctx context.Context, src Source, q string) error {
	rows, err := src.Query(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", q)
	if err != nil {
		return err
	}
	defer rows.Close()
	var out string
	if rows.Next() {
		if err := rows.Scan(&out); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var parsed struct {
		Error      bool              `json:"error"`
		ErrorType  string            `json:"error_type"`
		Message    string            `json:"error_message"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		return fmt.Errorf("checking the statement: %w", err)
	}
	switch {
	case parsed.Error && parsed.ErrorType == "not implemented":
		return fmt.Errorf("%w: only one SELECT statement (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE) may run here, and this is not one", ErrNotReadOnly)
	case parsed.Error:
		// A syntax error: let the query itself report it.
		return nil
	case len(parsed.Statements) != 1:
		return fmt.Errorf("%w: give one statement (this has %d)", ErrNotReadOnly, len(parsed.Statements))
	}
	return nil
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		jsonError(w, http.StatusForbidden, "pcapq serve: query from another origin refused")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		// A cross-site form cannot send JSON without a CORS preflight.
		jsonError(w, http.StatusUnsupportedMediaType, "pcapq serve: send the query as application/json")
		return
	}
	var req struct {
		SQL    string `json:"sql"`
		Format string `json:"format"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSQLBytes)).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "pcapq serve: bad request: "+err.Error())
		return
	}
	if strings.TrimSpace(req.SQL) == "" {
		jsonError(w, http.StatusBadRequest, "pcapq serve: no SQL given")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.QueryTimeout)
	defer cancel()
	start := s.now()
	var res Result
	err := s.use(func() error {
		err := CheckReadOnly(ctx, s.src, req.SQL)
		if err == nil {
			err = s.run(ctx, req.SQL, &res)
		}
		if e, ok := s.src.(Explainer); ok && err != nil {
			err = e.Explain(err)
		}
		return err
	})
	res.ElapsedMS = s.now().Sub(start).Milliseconds()
	switch {
	case errors.Is(err, ErrNotReadOnly):
		jsonError(w, http.StatusForbidden, err.Error())
		return
	case err != nil && ctx.Err() == context.DeadlineExceeded:
		jsonError(w, http.StatusRequestTimeout, fmt.Sprintf("pcapq serve: query cancelled after the time limit of %s (%v)", s.o.QueryTimeout, err))
		return
	case err != nil:
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Format == "csv" {
		s.writeCSV(w, &res)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(&res)
}

// run runs q and keeps at most MaxRows rows and MaxBytes of text.
func (s *Server) run(ctx context.Context, q string, res *Result) error {
	rows, err := s.src.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	res.Columns = cols
	res.Rows = [][]any{}
	size := 0
	for rows.Next() {
		if len(res.Rows) == s.o.MaxRows || size > s.o.MaxBytes {
			res.Truncated = true
			what := fmt.Sprintf("the first %d rows", len(res.Rows))
			if size > s.o.MaxBytes {
				what += fmt.Sprintf(" (%d MB of text)", s.o.MaxBytes>>20)
			}
			res.Notice = "result cut to " + what + "; pcapq query -f csv|parquet gives every row"
			break
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			vals[i] = cell(v)
			switch x := vals[i].(type) {
			case string:
				size += len(x)
			default:
				size += 8
			}
		}
		res.Rows = append(res.Rows, vals)
	}
	return rows.Err()
}

// cell turns a scanned value into what the console shows: numbers and
// booleans as they are (big integers as text), everything else as
// query.Text writes it, escaped (no control character reaches the page).
func cell(v any) any {
	switch x := v.(type) {
	case nil, bool, int8, int16, int32, int64, uint8, uint16, uint32, float32, float64:
		return x
	case int:
		return x
	case uint64:
		if x < 1<<53 {
			return x
		}
		return json.Number(fmt.Sprint(x))
	case *big.Int:
		return json.Number(x.String())
	case interface{ Float64() float64 }: // DECIMAL, exact in its text
		return json.Number(query.Text(v))
	}
	return query.Escape(query.Text(v))
}

// writeCSV writes the result as CSV. Cells that a spreadsheet would take
// for a formula (starting with = + - @ or a tab or CR) get a leading ',
// as OWASP advises; numbers are written as they are.
func (s *Server) writeCSV(w http.ResponseWriter, res *Result) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(csvRow(res.Columns))
	for _, r := range res.Rows {
		rec := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
			case string:
				rec[i] = csvText(x)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="pcapq-query.csv"`)
	if res.Notice != "" {
		h.Set("X-Pcapq-Notice", res.Notice)
	}
	w.Write(b.Bytes())
}

func csvRow(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = csvText(query.Escape(s))
	}
	return out
}

func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// liveStats is one server-sent event.
type liveStats struct {
	T         float64           `json:"t"` // Unix seconds
	Packets   int64             `json:"packets"`
	Flows     int64             `json:"flows"`
	HTTP      int64             `json:"http"`
	TCPEvents int64             `json:"tcp_events"`
	Warnings  int64             `json:"warnings"`
	PPS       float64           `json:"pps"`
	Changed   bool              `json:"changed"`
	Recent    map[string]Result `json:"recent,omitempty"`
}

// events pushes the counts of the tables every Tick while they change
// (and once a Tick anyway, so the page's rate falls to 0 when it stops),
// with the newest rows of flows, http and tcp_events when they grew.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	ctx := r.Context()
	var last liveStats
	first := true
	tick := time.NewTicker(s.o.Tick)
	defer tick.Stop()
	for {
		st, err := s.stats(ctx, last, first)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintf(w, "event: failure\ndata: %s\n\n", jsonString(err.Error()))
		} else {
			b, _ := json.Marshal(st)
			fmt.Fprintf(w, "event: stats\ndata: %s\n\n", b)
			last, first = st, false
		}
		fl.Flush()
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// recentSQL are the newest rows the live page shows.
var recentSQL = map[string]string{
	"flows": fmt.Sprintf(`SELECT ts_start, proto, orig_h, orig_p, resp_h, resp_p, service, conn_state, orig_pkts + resp_pkts AS packets
		FROM flows ORDER BY ts_start DESC, flow_id DESC LIMIT %d`, recentRows),
	"http": fmt.Sprintf(`SELECT ts_req_start, method, host, uri, status_code, round(ttfb_ms, 3) AS ttfb_ms
		FROM http ORDER BY ts_req_start DESC NULLS LAST, flow_id DESC, trans_depth DESC LIMIT %d`, recentRows),
	"tcp_events": fmt.Sprintf(`SELECT ts, kind, flow_id, direction, seg_len FROM tcp_events ORDER BY ts DESC, frame DESC LIMIT %d`, recentRows),
}

func (s *Server) stats(ctx context.Context, last liveStats, first bool) (liveStats, error) {
	st := liveStats{T: float64(s.now().UnixNano()) / 1e9}
	err := s.use(func() error {
		rows, err := s.src.Query(ctx, `SELECT (SELECT count(*) FROM packets_data), (SELECT count(*) FROM flows),
			(SELECT count(*) FROM http_data), (SELECT count(*) FROM tcp_events), (SELECT count(*) FROM warnings)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&st.Packets, &st.Flows, &st.HTTP, &st.TCPEvents, &st.Warnings); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		grew := map[string]bool{"flows": st.Flows != last.Flows, "http": st.HTTP != last.HTTP, "tcp_events": st.TCPEvents != last.TCPEvents}
		for k, q := range recentSQL {
			if !first && !grew[k] {
				continue
			}
			var res Result
			if err := s.run(ctx, q, &res); err != nil {
				return err
			}
			if st.Recent == nil {
				st.Recent = map[string]Result{}
			}
			st.Recent[k] = res
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if !first {
		st.Changed = st.Packets != last.Packets || st.Flows != last.Flows || st.HTTP != last.HTTP || st.TCPEvents != last.TCPEvents
		if dt := st.T - last.T; dt > 0 {
			prev := last.Packets
			if st.Packets < prev {
				// Fewer rows: a new database file (capture --rotate).
				prev = 0
			}
			st.PPS = float64(st.Packets-prev) / dt
			st.PPS = float64(int64(st.PPS*10+0.5)) / 10
		}
	}
	return st, nil
}

// LoopbackHosts are the Host values a server listening on the loopback
// address addr (host:port as bound) answers to.
func LoopbackHosts(addr string) []string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{addr}
	}
	return []string{addr, "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port}
}
