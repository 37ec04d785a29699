package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/serve"
)

// The query socket. DuckDB lets one process open a database file for
// writing and no other process open it at all meanwhile, so a capture
// answers the queries on its database itself: it listens on a unix
// socket beside the file (liveSocket), and `pcapq query -d FILE` sends
// its SQL there when the socket answers. Each query runs on a connection
// of its own to the capture's database, so it sees what the capture has
// committed (at most about a second old), and must be one read-only
// statement (query.CheckReadOnly). The socket is the capturing user's
// (mode 0600) and, on Linux, a peer of another user (root excepted) is
// refused.
//
// Protocol: the client sends one JSON object (liveRequest); the server
// answers with frames of one byte of kind, a
// 4-byte big-endian length and that many bytes: 'D' output, then 'Z' (done)
// or 'E' (an error message).

// liveRequest is what pcapq query sends.
type liveRequest struct {
	SQL    string `json:"sql"`
	Format string `json:"format"`
}

const (
	frameData  = 'D'
	frameError = 'E'
	frameDone  = 'Z'
	// maxFrame bounds a frame either side reads; maxRequest the request.
	maxFrame   = 1 << 20
	maxRequest = 1 << 20
)

// liveSocket is the socket a capture writing the database at dbPath
// listens on: beside the file, or in the temporary directory under a hash
// of the file's absolute path when that name is too long for a unix
// socket (108 bytes).
func liveSocket(dbPath string) string {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		abs = dbPath
	}
	p := abs + ".pcapq.sock"
	if len(p) < 100 {
		return p
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(os.TempDir(), fmt.Sprintf("pcapq-%x.sock", h[:8]))
}

// liveServer answers queries on the database of a running capture.
type liveServer struct {
	ln     *net.UnixListener
	sock   string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu sync.RWMutex // held for reading while a query runs
	db *query.DB    // nil while the database is being rotated
	// gen is cancelled when db is replaced: queries on it are cancelled
	// rather than waited for, so that a long query does not hold up
	// --rotate (and with it the capture's commits). Read under mu.
	gen       context.Context
	genCancel context.CancelFunc
	// page is the connection of the page of capture --serve (pageSource),
	// opened at its first query; setDB closes it.
	page *query.DB
	// outDir is where parquet results are written ("": the temporary
	// directory); with --serve the only directory the database may
	// reach (query.DB.Confine).
	outDir string
}

// listenLive starts the query socket for the database at dbPath. A socket
// left behind by a capture that died is replaced; one that answers means
// another capture writes the file.
func listenLive(dbPath string) (*liveServer, error) {
	sock := liveSocket(dbPath)
	if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		c.Close()
		return nil, &exitError{code: 2, err: fmt.Errorf("another pcapq capture is writing %s (it answers on %s)", dbPath, sock)}
	}
	if st, err := os.Lstat(sock); err == nil && st.Mode()&os.ModeSocket != 0 {
		os.Remove(sock)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("query socket for %s: %w", dbPath, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("query socket for %s: %w", dbPath, err)
	}
	s := &liveServer{ln: ln, sock: sock}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.gen, s.genCancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// errRotated is what a query running when the capture moved to a new
// database file gets.
var errRotated = errors.New("the capture moved on to a new database file (--rotate) while this query ran: try again")

// setDB makes db (nil: none, while rotating) the database queries run on.
// Queries running on the previous one are cancelled (they fail with
// errRotated) and waited for.
func (s *liveServer) setDB(db *query.DB) error {
	s.genCancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen, s.genCancel = context.WithCancel(context.Background())
	var err error
	if s.page != nil {
		err = s.page.Close()
		s.page = nil
	}
	s.db = db
	return err
}

// pageSource is the database of the capture as the page of capture
// --serve reads it: through a connection of its own to the database being
// written, like a socket query, so it sees what the capture has committed
// and follows it across --rotate; every statement must pass CheckReadOnly
// there too, whatever the web server checked before.
//
// The web server holds mu for reading around each use of the source and
// its rows (serve.Options.Lock is mu.RLocker()) and makes one use at a
// time, so the page's connection is only touched by one goroutine, and
// setDB, which holds mu, waits for that use to end before it closes it.
func (s *liveServer) pageSource() serve.Source { return pageSource{s} }

type pageSource struct{ s *liveServer }

func (p pageSource) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s := p.s
	if s.db == nil {
		return nil, errors.New("the capture is between two database files (--rotate): try again")
	}
	if s.page == nil {
		rd, err := s.db.NewReader(ctx)
		if err != nil {
			return nil, err
		}
		s.page = rd
	}
	if err := s.page.CheckReadOnly(ctx, q); err != nil {
		return nil, err
	}
	return s.page.Query(s.untilRotated(ctx), q, args...)
}

// Explain says why a query failed when the capture cancelled it to move
// to a new database file (serve.Explainer; called under mu, so s.gen is
// the one the query ran under).
func (p pageSource) Explain(err error) error {
	if err != nil && p.s.gen.Err() != nil {
		return errRotated
	}
	return err
}

// untilRotated returns ctx, also cancelled when the database is replaced
// (setDB). Call with mu held for reading.
func (s *liveServer) untilRotated(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.gen, cancel)
	context.AfterFunc(ctx, func() { stop() })
	return ctx
}

func (s *liveServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

// close stops accepting, cancels the queries running, waits for them and
// removes the socket.
func (s *liveServer) close() {
	s.once.Do(func() {
		s.ln.Close()
		s.cancel()
		s.wg.Wait()
	})
}

// frameWriter sends what is written to it as data frames.
type frameWriter struct {
	w   *bufio.Writer
	err error
}

func (f *frameWriter) frame(kind byte, p []byte) error {
	if f.err != nil {
		return f.err
	}
	var h [5]byte
	h[0] = kind
	binary.BigEndian.PutUint32(h[1:], uint32(len(p)))
	f.w.Write(h[:])
	_, f.err = f.w.Write(p)
	return f.err
}

func (f *frameWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 64<<10)
		if err := f.frame(frameData, p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

func (s *liveServer) serve(c *net.UnixConn) {
	defer c.Close()
	fw := &frameWriter{w: bufio.NewWriterSize(c, 64<<10)}
	defer fw.w.Flush()
	fail := func(err error) { fw.frame(frameError, []byte(err.Error())) }
	if err := peerAllowed(c); err != nil {
		fail(err)
		return
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req liveRequest
	if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
		fail(fmt.Errorf("bad request: %w", err))
		return
	}
	c.SetReadDeadline(time.Time{})
	// A client that goes away (closes the connection) cancels its query.
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, c)
		cancel()
	}()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		fail(errors.New("the capture is between two database files (--rotate): try again"))
		return
	}
	ctx = s.untilRotated(ctx)
	gen := s.gen
	fail = func(err error) {
		if gen.Err() != nil {
			err = errRotated
		}
		fw.frame(frameError, []byte(err.Error()))
	}
	rd, err := s.db.NewReader(ctx)
	if err != nil {
		fail(err)
		return
	}
	defer rd.Close()
	if err := rd.CheckReadOnly(ctx, req.SQL); err != nil {
		fail(err)
		return
	}
	if req.Format == "parquet" {
		err = s.parquet(ctx, rd, req.SQL, fw)
	} else {
		err = rd.Output(ctx, req.SQL, req.Format, fw, "")
	}
	if err != nil {
		fail(err)
		return
	}
	fw.frame(frameDone, nil)
}

// parquet has DuckDB write the result to a temporary file and sends it.
func (s *liveServer) parquet(ctx context.Context, rd *query.DB, q string, w io.Writer) error {
	dir, err := os.MkdirTemp(s.outDir, "pcapq-live-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "out.parquet")
	if err := rd.Output(ctx, q, "parquet", nil, tmp); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// errNoCapture means no capture answers for the database: query opens
// the file itself.
var errNoCapture = errors.New("no capture answers")

// queryLive sends a query to the capture writing dbPath and copies the
// result to w (or, for parquet, to the file output). It returns
// errNoCapture when no capture answers.
func queryLive(ctx context.Context, dbPath, sql, format, output string, w io.Writer) error {
	sock := liveSocket(dbPath)
	if st, err := os.Lstat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
		return errNoCapture
	}
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return errNoCapture // left by a capture that died
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	req, _ := json.Marshal(liveRequest{SQL: sql, Format: format})
	if _, err := c.Write(req); err != nil {
		return fmt.Errorf("query socket %s: %w", sock, err)
	}
	if format == "parquet" {
		if output == "" || output == "-" {
			return fmt.Errorf("--format parquet needs an output file (-o FILE)")
		}
		f, err := os.Create(output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	br := bufio.NewReaderSize(c, 64<<10)
	buf := make([]byte, 64<<10)
	for {
		var h [5]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("the capture writing %s stopped answering (%v); run the query again", dbPath, err)
		}
		n := binary.BigEndian.Uint32(h[1:])
		if n > maxFrame {
			return fmt.Errorf("query socket %s: frame of %d bytes", sock, n)
		}
		if int(n) > len(buf) {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return fmt.Errorf("the capture writing %s stopped answering (%v); run the query again", dbPath, err)
		}
		switch h[0] {
		case frameData:
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		case frameError:
			return fmt.Errorf("%s (answered by the capture writing %s)", query.Escape(string(buf[:n])), dbPath)
		case frameDone:
			return nil
		default:
			return fmt.Errorf("query socket %s: unknown frame %q", sock, h[0])
		}
	}
}

// queryLive runs the query through the capture writing c.DB, if one
// answers (errNoCapture if none does).
func (c *QueryCmd) queryLive(g *Globals, sql string) error {
	var w io.Writer = g.stdout
	if c.Output != "" && c.Format != "parquet" {
		sock := liveSocket(c.DB)
		if st, err := os.Lstat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
			return errNoCapture
		}
		f, err := os.Create(c.Output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return queryLive(g.ctx, c.DB, sql, c.Format, c.Output, w)
}
