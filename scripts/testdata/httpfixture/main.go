// Command httpfixture is a tiny stdlib-only HTTP server and client used by
// scripts/testdata/record.sh to produce real traffic for the captures in
// testdata/. It is not part of pcapq itself.
//
//	httpfixture serve ADDR              WebSocket echo at /ws, chunked+trailer at /chunked
//	httpfixture ws-client ADDR          upgrade to WebSocket, exchange a few frames, close
//	httpfixture pipeline ADDR HOST PATH...  send all GETs in one write, read all responses
//	httpfixture pipeline-each ADDR HOST PATH...  send the GETs one write (segment) each, 2 ms
//	                                        apart, before reading any response
//	httpfixture sequential ADDR HOST PATH...  one keep-alive conn, each GET sent after the
//	                                        previous response was read
//
// serve also answers /slow (after a 300 ms pause), /big (4000 bytes) and any
// other path with a one-line body naming the request target.
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func main() {
	log.SetFlags(0)
	log.SetPrefix("httpfixture: ")
	if len(os.Args) < 3 {
		log.Fatal("usage: httpfixture serve|ws-client|pipeline|pipeline-each|sequential ADDR [HOST PATH...]")
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2])
	case "ws-client":
		err = wsClient(os.Args[2])
	case "pipeline":
		if len(os.Args) < 5 {
			log.Fatal("usage: httpfixture pipeline ADDR HOST PATH...")
		}
		err = pipeline(os.Args[2], os.Args[3], os.Args[4:])
	case "pipeline-each", "sequential":
		if len(os.Args) < 5 {
			log.Fatalf("usage: httpfixture %s ADDR HOST PATH...", os.Args[1])
		}
		if os.Args[1] == "sequential" {
			err = sequential(os.Args[2], os.Args[3], os.Args[4:])
		} else {
			err = pipelineEach(os.Args[2], os.Args[3], os.Args[4:])
		}
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

// ---- server ----------------------------------------------------------------

func serve(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", handleWS)
	mux.HandleFunc("/chunked", handleChunked)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "slow "+r.URL.RequestURI()+"\n")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// 4000 bytes, with a Content-Length: else net/http chunks a body past 2 KB.
		w.Header().Set("Content-Length", "4000")
		io.WriteString(w, strings.Repeat(strings.Repeat("0123456789", 9)+"abcdefghi\n", 40))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "target "+r.URL.RequestURI()+"\n")
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// handleChunked writes its body in several flushed parts (so net/http uses
// Transfer-Encoding: chunked) and sends a trailer after the last chunk.
func handleChunked(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Trailer", "X-Body-Crc32")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fl, _ := w.(http.Flusher)
	sum := crc32.NewIEEE()
	out := io.MultiWriter(w, sum)
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(out, "part %d: %s\n", i, strings.Repeat(string(rune('a'+i-1)), 40*i))
		if fl != nil {
			fl.Flush()
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Header().Set("X-Body-Crc32", fmt.Sprintf("%08x", sum.Sum32()))
}

func handleWS(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
		http.Error(w, "websocket upgrade required", http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(key))
	if err := brw.Flush(); err != nil {
		return
	}
	for {
		op, payload, err := readFrame(brw.Reader)
		if err != nil {
			return
		}
		switch op {
		case 0x1, 0x2: // text, binary: echo
			writeFrame(conn, op, payload, false)
		case 0x9: // ping -> pong
			writeFrame(conn, 0xA, payload, false)
		case 0x8: // close: echo the status code and hang up
			writeFrame(conn, 0x8, payload, false)
			return
		}
	}
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// ---- WebSocket framing (RFC 6455) ------------------------------------------

func writeFrame(w io.Writer, op byte, payload []byte, mask bool) error {
	hdr := []byte{0x80 | op}
	mbit := byte(0)
	if mask {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, mbit|byte(n))
	case n < 1<<16:
		hdr = append(hdr, mbit|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, mbit|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	body := payload
	if mask {
		var k [4]byte
		rand.Read(k[:])
		hdr = append(hdr, k[:]...)
		body = make([]byte, len(payload))
		for i := range payload {
			body[i] = payload[i] ^ k[i%4]
		}
	}
	_, err := w.Write(append(hdr, body...))
	return err
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	op := h[0] & 0x0f
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, errors.New("frame too large")
	}
	var k [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, k[:]); err != nil {
			return 0, nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= k[i%4]
		}
	}
	return op, p, nil
}

// ---- clients ---------------------------------------------------------------

func wsClient(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var kb [16]byte
	rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapq-httpfixture\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		return fmt.Errorf("bad upgrade response: %s", resp.Status)
	}
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i)
	}
	msgs := []struct {
		op byte
		p  []byte
	}{
		{0x1, []byte("hello pcapq")},
		{0x1, []byte(strings.Repeat("websocket text frame ", 10))}, // 210 bytes: 16-bit length
		{0x2, bin},
		{0x9, []byte("ping")},
	}
	for _, m := range msgs {
		if err := writeFrame(conn, m.op, m.p, true); err != nil {
			return err
		}
		op, p, err := readFrame(br)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "ws: sent op=%d len=%d, got op=%d len=%d\n", m.op, len(m.p), op, len(p))
		time.Sleep(10 * time.Millisecond)
	}
	// Close with status 1000 and wait for the server's close.
	if err := writeFrame(conn, 0x8, []byte{0x03, 0xe8, 'b', 'y', 'e'}, true); err != nil {
		return err
	}
	op, _, err := readFrame(br)
	if err != nil {
		return err
	}
	if op != 0x8 {
		return fmt.Errorf("expected close frame, got op %d", op)
	}
	return nil
}

// pipeline writes every request in a single Write before reading anything;
// the last request asks the server to close so reading to EOF collects all
// responses.
func pipeline(addr, host string, paths []string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	for i, p := range paths {
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapq-httpfixture\r\n", p, host)
		if i == len(paths)-1 {
			b.WriteString("Connection: close\r\n")
		}
		b.WriteString("\r\n")
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	for _, p := range paths {
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			return fmt.Errorf("response for %s: %w", p, err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Fprintf(os.Stderr, "pipeline: %s -> %s (%d bytes)\n", p, resp.Status, n)
	}
	return nil
}

func request(b *strings.Builder, host, path string, last bool) {
	fmt.Fprintf(b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapq-httpfixture\r\n", path, host)
	if last {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
}

func readResponse(br *bufio.Reader, path, mode string) error {
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		return fmt.Errorf("response for %s: %w", path, err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(os.Stderr, "%s: %s -> %s (%d bytes)\n", mode, path, resp.Status, n)
	return nil
}

// pipelineEach writes each request in its own Write (Go sets TCP_NODELAY,
// so each is its own segment), 2 ms apart, then reads every response. With
// /slow first, all requests are on the wire before the first response.
func pipelineEach(addr, host string, paths []string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	for i, p := range paths {
		var b strings.Builder
		request(&b, host, p, i == len(paths)-1)
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return err
		}
		time.Sleep(2 * time.Millisecond)
	}
	br := bufio.NewReader(conn)
	for _, p := range paths {
		if err := readResponse(br, p, "pipeline-each"); err != nil {
			return err
		}
	}
	return nil
}

// sequential sends each request on one keep-alive connection only after
// the previous response was read.
func sequential(addr, host string, paths []string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(conn)
	for i, p := range paths {
		var b strings.Builder
		request(&b, host, p, i == len(paths)-1)
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return err
		}
		if err := readResponse(br, p, "sequential"); err != nil {
			return err
		}
	}
	return nil
}
