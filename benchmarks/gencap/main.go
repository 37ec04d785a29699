// Command gencap writes synthetic classic pcap captures (Ethernet, IPv4,
// TCP) that stress pcapq's TCP layer: many short connections, a huge
// out-of-order backlog, SYN floods, RST storms, overlapping retransmissions
// with different content, sequence-number wraparound and extreme window
// scaling. Output is deterministic for a given -seed and size knobs, and
// timestamps never decrease, so idle timeouts in capture time apply.
//
//	go run ./benchmarks/gencap -scenario shortflows -n 1000000 -o short.pcap
//
// Every scenario prints one line to standard error saying what it wrote
// and what a correct reader should find (the expectations memory.sh checks).
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	scenario := flag.String("scenario", "", "shortflows, ooo, ooo-reverse, synflood, rststorm, overlap, wrap or wscale")
	out := flag.String("o", "", "output pcap file")
	seed := flag.Uint64("seed", 1, "random seed (output is deterministic for a seed)")
	n := flag.Int("n", 0, "count: connections (shortflows, rststorm, overlap, wscale) or SYNs (synflood); 0 = scenario default")
	bytes := flag.Int64("bytes", 0, "payload bytes of the big stream (ooo, wrap); 0 = scenario default")
	seg := flag.Int("seg", 1400, "payload bytes per data segment (ooo, wrap)")
	rsts := flag.Int("rsts", 0, "RSTs injected (rststorm); 0 = 100 per connection")
	flag.Parse()
	if *out == "" || *scenario == "" {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	w := newWriter(f, *seed)
	def := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	def64 := func(v, d int64) int64 {
		if v > 0 {
			return v
		}
		return d
	}
	var summary string
	switch *scenario {
	case "shortflows":
		summary = shortflows(w, def(*n, 1_000_000))
	case "ooo":
		summary = ooo(w, def64(*bytes, 1<<30), *seg, false)
	case "ooo-reverse":
		summary = ooo(w, def64(*bytes, 1<<30), *seg, true)
	case "synflood":
		summary = synflood(w, def(*n, 1_000_000))
	case "rststorm":
		c := def(*n, 1000)
		summary = rststorm(w, c, def(*rsts, 100*c))
	case "overlap":
		summary = overlap(w, def(*n, 1000))
	case "wrap":
		summary = wrap(w, def64(*bytes, 256<<20), *seg)
	case "wscale":
		summary = wscale(w, def(*n, 100))
	default:
		fmt.Fprintf(os.Stderr, "gencap: unknown scenario %q\n", *scenario)
		os.Exit(2)
	}
	if err := w.close(); err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gencap: %s: %d packets, %s\n", *scenario, w.pkts, summary)
}

// TCP flags.
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

// writer writes a classic pcap (microsecond timestamps, LINKTYPE_ETHERNET).
type writer struct {
	f    *os.File
	bw   *bufio.Writer
	rnd  *rand.Rand
	buf  []byte
	ts   int64 // ns, never decreases
	pkts int64
	err  error
}

func newWriter(f *os.File, seed uint64) *writer {
	w := &writer{f: f, bw: bufio.NewWriterSize(f, 1<<20), rnd: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(h[20:], 1)     // Ethernet
	w.write(h[:])
	return w
}

func (w *writer) write(b []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(b)
	}
}

func (w *writer) close() error {
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	return w.err
}

// advance moves the capture clock forward by dt nanoseconds.
func (w *writer) advance(dt int64) { w.ts += dt }

// tcp is one endpoint pair as seen from the sender of a packet.
type tcp struct {
	src, dst     uint32 // IPv4 addresses
	sport, dport uint16
}

func (t tcp) rev() tcp { return tcp{t.dst, t.src, t.dport, t.sport} }

// packet writes one Ethernet/IPv4/TCP frame at the current clock.
func (w *writer) packet(t tcp, flags uint8, seq, ack uint32, win uint16, opts, payload []byte) {
	optLen := (len(opts) + 3) &^ 3
	thl := 20 + optLen
	ipLen := 20 + thl + len(payload)
	frameLen := 14 + ipLen
	need := 16 + frameLen
	if cap(w.buf) < need {
		w.buf = make([]byte, need)
	}
	b := w.buf[:need]
	clear(b[:16+14+20+thl])
	le, be := binary.LittleEndian, binary.BigEndian
	le.PutUint32(b[0:], uint32(w.ts/1e9))
	le.PutUint32(b[4:], uint32(w.ts%1e9/1e3))
	le.PutUint32(b[8:], uint32(frameLen))
	le.PutUint32(b[12:], uint32(frameLen))
	e := b[16:]
	copy(e[0:6], []byte{0x02, 0, 0, 0, 0, 0x02})
	copy(e[6:12], []byte{0x02, 0, 0, 0, 0, 0x01})
	if t.src < t.dst { // distinct MACs per direction, stable per pair
		e[5], e[11] = 0x01, 0x02
	}
	be.PutUint16(e[12:], 0x0800)
	ip := e[14:]
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(ipLen))
	be.PutUint16(ip[4:], uint16(w.pkts))
	ip[6] = 0x40 // DF
	ip[8] = 64
	ip[9] = 6
	be.PutUint32(ip[12:], t.src)
	be.PutUint32(ip[16:], t.dst)
	be.PutUint16(ip[10:], ^fold(sum(ip[:20], 0)))
	th := ip[20:]
	be.PutUint16(th[0:], t.sport)
	be.PutUint16(th[2:], t.dport)
	be.PutUint32(th[4:], seq)
	be.PutUint32(th[8:], ack)
	th[12] = byte(thl/4) << 4
	th[13] = flags
	be.PutUint16(th[14:], win)
	copy(th[20:], opts)
	for i := 20 + len(opts); i < thl; i++ {
		th[i] = 1 // NOP padding
	}
	copy(th[thl:], payload)
	// TCP checksum over the pseudo-header and the segment.
	s := sum(ip[12:20], 0) + 6 + uint32(thl+len(payload))
	s = sum(th[:thl+len(payload)], s)
	be.PutUint16(th[16:], ^fold(s))
	w.write(b)
	w.pkts++
}

func sum(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func ipv4(a, b, c, d byte) uint32 { return uint32(a)<<24 | uint32(b)<<16 | uint32(c)<<8 | uint32(d) }

// pattern returns n payload bytes for stream offset off of a stream with
// the given salt (so two copies of the same range can differ).
func pattern(dst []byte, off int64, salt byte) []byte {
	for i := range dst {
		o := off + int64(i)
		dst[i] = byte(o) ^ byte(o>>8)*7 ^ salt
	}
	return dst
}

// conn is one TCP connection being written: client c, server s.
type conn struct {
	c          tcp // client -> server
	cseq, sseq uint32
}

func (k *conn) handshake(w *writer, dt int64, synOpts, synAckOpts []byte) {
	w.packet(k.c, fSYN, k.cseq, 0, 64240, synOpts, nil)
	w.advance(dt)
	w.packet(k.c.rev(), fSYN|fACK, k.sseq, k.cseq+1, 65160, synAckOpts, nil)
	w.advance(dt)
	k.cseq++
	k.sseq++
	w.packet(k.c, fACK, k.cseq, k.sseq, 502, nil, nil)
	w.advance(dt)
}

var (
	request  = []byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
	response = []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
)

// shortflows: n connections with distinct client addresses and ports,
// each SYN, SYN-ACK, ACK, request, ACK, response, FIN+ACK, FIN+ACK, ACK
// (Zeek history ShADadFf, conn_state SF). Connections run 64 at a time,
// interleaved packet by packet, 10 us apart.
func shortflows(w *writer, n int) string {
	const group = 64
	const dt = 10_000
	ks := make([]conn, group)
	for g := 0; g < n; g += group {
		m := min(group, n-g)
		for j := 0; j < m; j++ {
			i := uint32(g + j)
			ks[j] = conn{
				c:    tcp{src: ipv4(10, byte(i>>16), byte(i>>8), byte(i)), dst: ipv4(172, 16, byte(i%251), 1), sport: uint16(1024 + i%60000), dport: 80},
				cseq: w.rnd.Uint32(), sseq: w.rnd.Uint32(),
			}
		}
		for step := 0; step < 9; step++ {
			for j := 0; j < m; j++ {
				k := &ks[j]
				c, s := k.c, k.c.rev()
				switch step {
				case 0:
					w.packet(c, fSYN, k.cseq, 0, 64240, nil, nil)
				case 1:
					w.packet(s, fSYN|fACK, k.sseq, k.cseq+1, 65160, nil, nil)
				case 2:
					k.cseq++
					k.sseq++
					w.packet(c, fACK, k.cseq, k.sseq, 502, nil, nil)
				case 3:
					w.packet(c, fPSH|fACK, k.cseq, k.sseq, 502, nil, request)
					k.cseq += uint32(len(request))
				case 4:
					w.packet(s, fACK, k.sseq, k.cseq, 509, nil, nil)
				case 5:
					w.packet(s, fPSH|fACK, k.sseq, k.cseq, 509, nil, response)
					k.sseq += uint32(len(response))
				case 6:
					w.packet(c, fFIN|fACK, k.cseq, k.sseq, 502, nil, nil)
					k.cseq++
				case 7:
					w.packet(s, fFIN|fACK, k.sseq, k.cseq, 509, nil, nil)
					k.sseq++
				case 8:
					w.packet(c, fACK, k.cseq, k.sseq, 502, nil, nil)
				}
				w.advance(dt)
			}
		}
	}
	return fmt.Sprintf("expect %d tcp flows, all conn_state SF, history ShADadFf, %d http rows", n, n)
}

// ooo: one connection whose client sends total payload bytes in seg-byte
// segments out of order: either the first segment withheld until the end
// (hole) or every segment in reverse order. The server acks nothing until
// all was sent, so a reader must buffer everything or give up (capped).
func ooo(w *writer, total int64, seg int, reverse bool) string {
	k := conn{c: tcp{src: ipv4(10, 9, 0, 1), dst: ipv4(10, 9, 0, 2), sport: 40000, dport: 8080}, cseq: w.rnd.Uint32(), sseq: w.rnd.Uint32()}
	k.handshake(w, 100_000, nil, nil)
	nseg := (total + int64(seg) - 1) / int64(seg)
	buf := make([]byte, seg)
	send := func(i int64) {
		off := i * int64(seg)
		l := min(int64(seg), total-off)
		w.packet(k.c, fACK, k.cseq+uint32(off), k.sseq, 502, nil, pattern(buf[:l], off, 0))
		w.advance(1_000) // ~10 Gb/s of 1400-byte segments
	}
	if reverse {
		for i := nseg - 1; i >= 0; i-- {
			send(i)
		}
	} else {
		for i := int64(1); i < nseg; i++ {
			send(i)
		}
		send(0)
	}
	k.cseq += uint32(total)
	w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 65535, nil, nil)
	w.advance(100_000)
	k.close(w, 100_000)
	mode := "first segment last"
	if reverse {
		mode = "reverse order"
	}
	return fmt.Sprintf("1 connection, %d payload bytes in %d segments, %s; expect orig_bytes %d", total, nseg, mode, total)
}

// close exchanges FIN+ACK both ways and a final ACK.
func (k *conn) close(w *writer, dt int64) {
	w.packet(k.c, fFIN|fACK, k.cseq, k.sseq, 502, nil, nil)
	w.advance(dt)
	k.cseq++
	w.packet(k.c.rev(), fFIN|fACK, k.sseq, k.cseq, 509, nil, nil)
	w.advance(dt)
	k.sseq++
	w.packet(k.c, fACK, k.cseq, k.sseq, 502, nil, nil)
	w.advance(dt)
}

// synflood: n SYNs from random sources (1.0.0.0-223.255.255.255, random
// ports and ISNs) to 192.0.2.80:80, never answered, 100 000 per second.
func synflood(w *writer, n int) string {
	dst := ipv4(192, 0, 2, 80)
	mss := []byte{2, 4, 0x05, 0xb4}
	for i := 0; i < n; i++ {
		src := uint32(1+w.rnd.IntN(223))<<24 | w.rnd.Uint32()&0xffffff
		if src == dst {
			src++
		}
		w.packet(tcp{src: src, dst: dst, sport: uint16(1024 + w.rnd.IntN(64512)), dport: 80}, fSYN, w.rnd.Uint32(), 0, 64240, mss, nil)
		w.advance(10_000)
	}
	return fmt.Sprintf("expect %d tcp flows, all conn_state S0, history S", n)
}

// rststorm: n live connections exchanging data; rsts RSTs with random
// sequence numbers (spoofed from either side, half with ACK set) are
// injected among them; the connections then exchange more data and close.
func rststorm(w *writer, n, rsts int) string {
	ks := make([]conn, n)
	for i := range ks {
		ks[i] = conn{c: tcp{src: ipv4(10, 20, byte(i>>8), byte(i)), dst: ipv4(10, 30, 0, 1), sport: uint16(20000 + i), dport: 443}, cseq: w.rnd.Uint32(), sseq: w.rnd.Uint32()}
		ks[i].handshake(w, 1_000, nil, nil)
	}
	buf := make([]byte, 200)
	data := func(k *conn, off int64) {
		w.packet(k.c, fPSH|fACK, k.cseq, k.sseq, 502, nil, pattern(buf, off, 1))
		w.advance(1_000)
		k.cseq += uint32(len(buf))
		w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 509, nil, nil)
		w.advance(1_000)
	}
	for i := range ks {
		data(&ks[i], 0)
	}
	for r := 0; r < rsts; r++ {
		k := &ks[w.rnd.IntN(n)]
		t := k.c
		if w.rnd.IntN(2) == 1 {
			t = t.rev()
		}
		flags := uint8(fRST)
		ack := uint32(0)
		if r%2 == 1 {
			flags |= fACK
			ack = w.rnd.Uint32()
		}
		w.packet(t, flags, w.rnd.Uint32(), ack, 0, nil, nil)
		w.advance(1_000)
	}
	for i := range ks {
		data(&ks[i], 200)
		ks[i].close(w, 1_000)
	}
	return fmt.Sprintf("%d connections, %d RSTs with random seqs; expect %d rst events", n, rsts, rsts)
}

// overlap: n connections (client and server each send). In even ones the
// client sends bytes 100-299 and then 200-399 with different content for
// 200-299 while 0-99 is still missing (an overlap inside the out-of-order
// buffer), then 0-99. In odd ones the client sends 0-199 in order and
// retransmits 100-299 with different content for 100-199 before any ack
// (an overlap with data already delivered but not acknowledged).
func overlap(w *writer, n int) string {
	a, b := make([]byte, 400), make([]byte, 400)
	for i := 0; i < n; i++ {
		k := conn{c: tcp{src: ipv4(10, 40, byte(i>>8), byte(i)), dst: ipv4(10, 50, 0, 1), sport: uint16(30000 + i), dport: 8000}, cseq: w.rnd.Uint32(), sseq: w.rnd.Uint32()}
		k.handshake(w, 1_000, nil, nil)
		first := pattern(a, 0, 0)
		second := pattern(b, 0, 0x55) // differs from first everywhere
		send := func(lo, hi int, src []byte) {
			w.packet(k.c, fPSH|fACK, k.cseq+uint32(lo), k.sseq, 502, nil, src[lo:hi])
			w.advance(1_000)
		}
		if i%2 == 0 {
			send(100, 300, first)
			send(200, 400, second)
			send(0, 100, first)
		} else {
			send(0, 200, first)
			send(100, 300, second)
			send(300, 400, first)
		}
		k.cseq += 400
		w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 509, nil, nil)
		w.advance(1_000)
		k.close(w, 1_000)
	}
	return fmt.Sprintf("%d connections with conflicting overlaps (%d in the out-of-order buffer, %d with delivered unacked data); expect rexmit_inconsistency warnings", n, (n+1)/2, n/2)
}

// wrap: one connection whose client ISN is 2^32 - total/2, so the
// sequence number wraps past 2^32 in the middle of total payload bytes.
// Around the wrap two segments are swapped (out of order across the wrap)
// and one is retransmitted; the server acks every 16 segments.
func wrap(w *writer, total int64, seg int) string {
	isn := uint32(1<<32 - total/2)
	k := conn{c: tcp{src: ipv4(10, 60, 0, 1), dst: ipv4(10, 60, 0, 2), sport: 41000, dport: 9000}, cseq: isn, sseq: w.rnd.Uint32()}
	k.handshake(w, 100_000, nil, nil)
	nseg := (total + int64(seg) - 1) / int64(seg)
	buf := make([]byte, seg)
	wrapSeg := (int64(1<<32) - int64(k.cseq)) / int64(seg) // segment holding the wrap
	send := func(i int64) {
		off := i * int64(seg)
		l := min(int64(seg), total-off)
		w.packet(k.c, fACK, k.cseq+uint32(off), k.sseq, 502, nil, pattern(buf[:l], off, 0))
		w.advance(1_000)
	}
	for i := int64(0); i < nseg; i++ {
		switch i {
		case wrapSeg:
			send(i + 1)
			send(i)
			send(i) // retransmission, same content
			i++
		default:
			send(i)
		}
		if i%16 == 15 {
			end := min((i+1)*int64(seg), total)
			w.packet(k.c.rev(), fACK, k.sseq, k.cseq+uint32(end), 65535, nil, nil)
			w.advance(1_000)
		}
	}
	k.cseq += uint32(total)
	w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 65535, nil, nil)
	w.advance(1_000)
	w.packet(k.c.rev(), fPSH|fACK, k.sseq, k.cseq, 65535, nil, response)
	w.advance(1_000)
	k.sseq += uint32(len(response))
	k.close(w, 100_000)
	return fmt.Sprintf("1 connection, client ISN %#x, %d payload bytes wrapping at segment %d; expect orig_bytes %d, resp_bytes %d, missed_bytes 0", isn, total, wrapSeg, total, len(response))
}

// wscale: n connections, alternating window-scale options 14 / 14 and
// 255 / 255 (invalid: RFC 7323 says treat as 14), each with a zero-window
// episode: the server advertises window 0, the client sends two 1-byte
// zero-window probes, the server reopens the window, data continues.
func wscale(w *writer, n int) string {
	buf := make([]byte, 1000)
	for i := 0; i < n; i++ {
		k := conn{c: tcp{src: ipv4(10, 70, byte(i>>8), byte(i)), dst: ipv4(10, 80, 0, 1), sport: uint16(50000 + i), dport: 8080}, cseq: w.rnd.Uint32(), sseq: w.rnd.Uint32()}
		sc := byte(14)
		if i%2 == 1 {
			sc = 255
		}
		opt := []byte{2, 4, 0x05, 0xb4, 1, 3, 3, sc}
		k.handshake(w, 1_000, opt, opt)
		var off int64
		data := func() {
			w.packet(k.c, fPSH|fACK, k.cseq, k.sseq, 1, nil, pattern(buf, off, 2))
			w.advance(1_000)
			k.cseq += uint32(len(buf))
			off += int64(len(buf))
		}
		data()
		data()
		w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 0, nil, nil) // zero window
		w.advance(1_000)
		for p := 0; p < 2; p++ { // zero-window probes (1 byte, not acked)
			w.packet(k.c, fACK, k.cseq, k.sseq, 1, nil, pattern(buf[:1], off, 2))
			w.advance(200_000)
			w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 0, nil, nil)
			w.advance(1_000)
		}
		w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 4, nil, nil) // window update (4 << 14)
		w.advance(1_000)
		data()
		w.packet(k.c.rev(), fACK, k.sseq, k.cseq, 4, nil, nil)
		w.advance(1_000)
		k.close(w, 1_000)
	}
	return fmt.Sprintf("%d connections, window scale 14 and 255 with zero windows and probes; expect zero_window and zero_window_probe events, %d flows SF, orig_bytes 3000 each", n, n)
}
