package tcpsession

import (
	"bytes"
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Generated captures. Each scenario below writes one small pcap into
// testdata/ that reproduces TCP analysis cases the recorded captures lack
// (keep-alives, fast retransmissions after exactly two duplicate ACKs,
// window-full segments under window scaling, ...). The expectation is not
// written here: TestTsharkEventsPerKind runs tshark on the files and
// compares its tcp.analysis flags with our tcp_events frame by frame.
// TestGeneratedCaptures keeps the committed files equal to what the
// generator writes; regenerate them with
//
//	go test ./tcpsession -run TestGeneratedCaptures -update
var update = flag.Bool("update", false, "rewrite the generated captures in testdata/")

// genCaptures lists the generated files and their scenarios.
var genCaptures = []struct {
	file string
	gen  func(w *capWriter)
}{
	{"gen-tcp-keepalive.pcap", genKeepAlive},
	{"gen-tcp-fast-retransmission.pcap", genFastRetransmission},
	{"gen-tcp-window-full-wscale.pcap", genWindowFull},
	{"gen-udp-dhcp-roles.pcap", genDHCPRoles},
}

// capWriter collects Ethernet frames with their capture times.
type capWriter struct {
	ts   time.Time
	pkts []capPkt
	ipid uint16
}

type capPkt struct {
	ts   time.Time
	data []byte
}

func newCapWriter() *capWriter {
	return &capWriter{ts: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// bytes returns the capture as a classic pcap file (microseconds,
// Ethernet).
func (w *capWriter) bytes(t testing.TB) []byte {
	var buf bytes.Buffer
	pw := pcapgo.NewWriter(&buf)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range w.pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: len(p.data)}
		if err := pw.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// tcpConn is one generated TCP connection between a client and a server.
// Sequence and acknowledgment numbers given to seg are relative to the
// sender's and the receiver's initial sequence number (the SYN is 0, the
// first data byte 1), as tshark shows them.
type tcpConn struct {
	w          *capWriter
	cIP, sIP   netip.Addr
	cPort      uint16
	sPort      uint16
	cISN, sISN uint32
}

var (
	genMACClient = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	genMACServer = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

func (w *capWriter) conn(cPort, sPort uint16, cISN, sISN uint32) *tcpConn {
	return &tcpConn{w: w, cIP: netip.MustParseAddr("10.1.0.1"), sIP: netip.MustParseAddr("10.1.0.2"),
		cPort: cPort, sPort: sPort, cISN: cISN, sISN: sISN}
}

// TCP option helpers.
func optMSS(v uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{byte(v >> 8), byte(v)}}
}

func optWS(shift byte) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{shift}}
}

var optNOP = layers.TCPOption{OptionType: layers.TCPOptionKindNop}

// flag bits for seg (decode's Flag* values).
const (
	gF = 1 << iota
	gS
	gR
	gP
	gA
)

// seg writes one segment dt after the previous packet. fromClient picks
// the direction; seq and ack are relative (see tcpConn); n payload bytes
// (zeros) are sent.
func (c *tcpConn) seg(dt time.Duration, fromClient bool, flags uint8, seq, ack uint32, win uint16, n int, opts ...layers.TCPOption) {
	w := c.w
	w.ts = w.ts.Add(dt)
	srcMAC, dstMAC := genMACClient, genMACServer
	src, dst := c.cIP, c.sIP
	sport, dport := c.cPort, c.sPort
	seq, ack = seq+c.cISN, ack+c.sISN
	if !fromClient {
		srcMAC, dstMAC = dstMAC, srcMAC
		src, dst = dst, src
		sport, dport = dport, sport
		seq, ack = seq-c.cISN+c.sISN, ack-c.sISN+c.cISN
	}
	if flags&gA == 0 {
		ack = 0
	}
	w.ipid++
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: w.ipid, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ack,
		FIN: flags&gF != 0, SYN: flags&gS != 0, RST: flags&gR != 0, PSH: flags&gP != 0, ACK: flags&gA != 0,
		Window: win, Options: opts}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(make([]byte, n)))
	if err != nil {
		panic(err)
	}
	w.pkts = append(w.pkts, capPkt{ts: w.ts, data: append([]byte(nil), buf.Bytes()...)})
}

// handshake writes SYN, SYN-ACK and ACK, rtt apart in total (the
// handshake RTT tshark uses as its out-of-order threshold). cWS/sWS < 0
// leave the window scale option out.
func (c *tcpConn) handshake(gap, rtt time.Duration, cWS, sWS int, cWin uint16) {
	var co, so []layers.TCPOption
	co = append(co, optMSS(1460))
	so = append(so, optMSS(1460))
	if cWS >= 0 {
		co = append(co, optNOP, optWS(byte(cWS)))
	}
	if sWS >= 0 {
		so = append(so, optNOP, optWS(byte(sWS)))
	}
	c.seg(gap, true, gS, 0, 0, 64240, 0, co...)
	c.seg(rtt/2, false, gS|gA, 0, 1, 65160, 0, so...)
	c.seg(rtt/2, true, gA, 1, 1, cWin, 0)
}

// close writes a FIN exchange after client bytes cEnd and server bytes
// sEnd (relative sequence numbers of the next byte).
func (c *tcpConn) close(cEnd, sEnd uint32, win uint16) {
	c.seg(time.Millisecond, true, gF|gA, cEnd, sEnd, win, 0)
	c.seg(time.Millisecond, false, gF|gA, sEnd, cEnd+1, win, 0)
	c.seg(time.Millisecond, true, gA, cEnd+1, sEnd+1, win, 0)
}

const gms = time.Millisecond

// genKeepAlive: keep-alives as Linux (no data, seq = next-1) and Windows
// (one garbage byte at next-1) send them, from both sides, each answered
// by a keep-alive ACK (which is not a duplicate ACK); and segments that
// look like keep-alives but are not: two bytes at next-1 (new data, no
// flag at all) and a RST at next-1 (then one beyond next: no lost
// segment either).
func genKeepAlive(w *capWriter) {
	c := w.conn(40001, 80, 1000, 5000)
	c.handshake(0, 2*gms, 7, 7, 502)
	c.seg(gms, true, gP|gA, 1, 1, 502, 100)
	c.seg(gms, false, gA, 1, 101, 509, 0)
	c.seg(10*time.Second, true, gA, 100, 1, 502, 0)  // keep-alive
	c.seg(gms, false, gA, 1, 101, 509, 0)            // keep-alive ACK
	c.seg(10*time.Second, true, gA, 100, 1, 502, 1)  // keep-alive with one byte
	c.seg(gms, false, gA, 1, 101, 509, 0)            // keep-alive ACK
	c.seg(10*time.Second, false, gA, 0, 101, 509, 0) // server keep-alive: it sent no data, so seq = ISN
	c.seg(gms, true, gA, 101, 1, 502, 0)             // keep-alive ACK
	c.seg(gms, true, gP|gA, 100, 1, 502, 2)          // two bytes at next-1: new data
	c.seg(gms, false, gA, 1, 102, 509, 0)
	c.close(102, 1, 502)

	d := w.conn(40002, 80, 70000, 90000)
	d.handshake(gms, 2*gms, 7, 7, 502)
	d.seg(gms, true, gP|gA, 1, 1, 502, 50)
	d.seg(gms, false, gA, 1, 51, 509, 0)
	d.seg(10*time.Second, true, gA, 50, 1, 502, 0) // keep-alive
	d.seg(gms, false, gA, 1, 51, 509, 0)           // keep-alive ACK
	d.seg(gms, false, gA, 1, 51, 509, 0)           // duplicate ACK
	d.seg(gms, true, gR|gA, 50, 1, 0, 0)           // RST at next-1: not a keep-alive
	d.seg(gms, true, gR, 60, 0, 0, 0)              // RST beyond next: no lost segment
}

// genFastRetransmission: a sender-side capture of 1000-byte segments where
// the second segment is lost after the capture point, in five variants:
// retransmitted 0.5 ms after exactly two duplicate ACKs (fast), after one
// (retransmission), after two but 30 ms later (retransmission: tshark's
// 20 ms window), after three (fast), and a retransmission of another
// segment than the duplicate ACKs ask for (retransmission). A sixth
// connection, captured at the receiver, has a lost segment, an
// out-of-order segment and a spurious retransmission. The first
// connection's SYN is sent twice (a SYN retry, answered the second time).
func genFastRetransmission(w *capWriter) {
	c := w.conn(41000, 8080, 55555, 66666)
	c.seg(0, true, gS, 0, 0, 64240, 0, optMSS(1460), optNOP, optWS(7))
	c.seg(time.Second, true, gS, 0, 0, 64240, 0, optMSS(1460), optNOP, optWS(7)) // SYN retry
	c.seg(gms/2, false, gS|gA, 0, 1, 65160, 0, optMSS(1460), optNOP, optWS(7))
	c.seg(gms/2, true, gA, 1, 1, 502, 0)
	c.close(1, 1, 502)

	variants := []struct {
		dupAcks int
		wait    time.Duration
		rexmit  uint32 // relative seq retransmitted
	}{
		{2, gms / 2, 1001},
		{1, 2 * gms, 1001},
		{2, 30 * gms, 1001},
		{3, gms / 2, 1001},
		{2, gms / 2, 2001},
	}
	for i, v := range variants {
		c := w.conn(uint16(41001+i), 8080, uint32(100000*(i+1)), uint32(7000000*(i+1)))
		c.handshake(5*gms, gms, 7, 7, 502)
		segs := 2 + v.dupAcks
		for s := 0; s < segs; s++ {
			c.seg(gms/10, true, gP|gA, uint32(1+1000*s), 1, 502, 1000)
		}
		c.seg(gms, false, gA, 1, 1001, 509, 0)
		for d := 0; d < v.dupAcks; d++ {
			c.seg(gms/10, false, gA, 1, 1001, 509, 0)
		}
		c.seg(v.wait, true, gP|gA, v.rexmit, 1, 502, 1000)
		end := uint32(1 + 1000*segs)
		if v.rexmit != 1001 {
			c.seg(gms/2, true, gP|gA, 1001, 1, 502, 1000)
		}
		c.seg(gms, false, gA, 1, end, 509, 0)
		c.close(end, 1, 502)
	}

	// Receiver side: segment 2 arrives after segment 3 (lost segment,
	// then out-of-order within the 10 ms handshake RTT), and segment 1 is
	// sent again after everything was acknowledged (spurious).
	c = w.conn(41010, 8080, 123456789, 987654321)
	c.handshake(5*gms, 10*gms, 7, 7, 502)
	c.seg(gms, true, gP|gA, 1, 1, 502, 1000)
	c.seg(gms/10, true, gP|gA, 2001, 1, 502, 1000) // lost segment before it
	c.seg(gms, true, gP|gA, 1001, 1, 502, 1000)    // out-of-order
	c.seg(gms, false, gA, 1, 3001, 509, 0)
	c.seg(50*gms, true, gP|gA, 1, 1, 502, 1000) // spurious
	c.seg(gms, false, gA, 1, 3001, 509, 0)      // duplicate ACK
	c.close(3001, 1, 502)
}

// genWindowFull: window-full segments under window scaling. Connection 1
// scales by 2 (client) and 7 (server): the server opens a 10<<7 = 1280
// byte window and the client fills it exactly; a later 10-byte segment
// reaches the raw, unscaled edge (not window full); then a zero window,
// a zero-window probe and its answer, a reopened window filled exactly.
// Connection 2: the server offers no window scale, so neither side
// scales, and each side fills the other's 100-byte window; connection 4
// the same with only the server offering one, then the client overruns
// a 50-byte window (beyond the edge is not window full). Connection 3 starts
// without its handshake (scale unknown): tshark never flags window full
// there. A RST with window 0 is not a zero window.
func genWindowFull(w *capWriter) {
	c := w.conn(42001, 443, 11111, 22222)
	c.handshake(0, 2*gms, 2, 7, 16000)
	c.seg(gms, false, gA, 1, 1, 10, 0) // window 10<<7 = 1280
	c.seg(gms, true, gP|gA, 1, 1, 16000, 1000)
	c.seg(gms/10, true, gP|gA, 1001, 1, 16000, 280) // 1001+280 = 1+1280: full
	c.seg(gms, false, gA, 1, 1281, 10, 0)
	c.seg(gms, true, gP|gA, 1281, 1, 16000, 10) // reaches 1281+10, the unscaled edge
	c.seg(gms, false, gA, 1, 1291, 0, 0)        // zero window
	c.seg(gms, true, gA, 1291, 1, 16001, 0)     // an ACK is no zero-window probe
	c.seg(200*gms, true, gA, 1291, 1, 16000, 1) // zero-window probe
	c.seg(gms, false, gA, 1, 1291, 0, 0)        // still zero
	c.seg(100*gms, false, gA, 1, 1291, 20, 0)   // window update: 20<<7 = 2560
	c.seg(gms, true, gP|gA, 1291, 1, 16000, 1460)
	c.seg(gms/10, true, gP|gA, 2751, 1, 16000, 1100) // 2751+1100 = 1291+2560: full
	c.seg(gms, false, gA, 1, 3851, 300, 0)
	c.close(3851, 1, 16000)

	d := w.conn(42002, 443, 3333, 4444)
	d.handshake(gms, 2*gms, 7, -1, 100)
	d.seg(gms, false, gA, 1, 1, 100, 0)
	d.seg(gms, true, gP|gA, 1, 1, 100, 100)    // fills the unscaled 100-byte window
	d.seg(gms, false, gP|gA, 1, 101, 100, 100) // and the server the client's
	d.seg(gms, true, gA, 101, 101, 100, 0)
	d.seg(gms, true, gR|gA, 101, 101, 0, 0)

	f := w.conn(42004, 443, 7777, 8888)
	f.handshake(gms, 2*gms, -1, 7, 100) // only the server offers a scale
	f.seg(gms, false, gA, 1, 1, 100, 0)
	f.seg(gms, true, gP|gA, 1, 1, 100, 100)
	f.seg(gms, false, gP|gA, 1, 101, 50, 100)
	f.seg(gms, true, gP|gA, 101, 101, 100, 60) // 101+60 overruns 101+50: not full
	f.seg(gms, false, gA, 101, 161, 100, 0)
	f.close(161, 101, 100)

	e := w.conn(42003, 443, 5555, 6666)
	e.seg(10*gms, true, gP|gA, 1, 1, 500, 100)
	e.seg(gms, false, gA, 1, 101, 100, 0)
	e.seg(gms, true, gP|gA, 101, 1, 500, 100) // at the raw edge, scale unknown
	e.seg(gms, false, gA, 1, 201, 100, 0)
}

// udp writes one UDP datagram of n zero bytes dt after the previous packet.
func (w *capWriter) udp(dt time.Duration, src string, sport uint16, dst string, dport uint16, n int) {
	w.ts = w.ts.Add(dt)
	w.ipid++
	eth := &layers.Ethernet{SrcMAC: genMACClient, DstMAC: genMACServer, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: w.ipid, Protocol: layers.IPProtocolUDP,
		SrcIP: netip.MustParseAddr(src).AsSlice(), DstIP: netip.MustParseAddr(dst).AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := u.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, u, gopacket.Payload(make([]byte, n)))
	if err != nil {
		panic(err)
	}
	w.pkts = append(w.pkts, capPkt{ts: w.ts, data: append([]byte(nil), buf.Bytes()...)})
}

// genDHCPRoles: the DHCP flows of Zeek's btest
// scripts/base/protocols/dhcp/dhcp-all-msg-types (trace dhcp/dhcp.pcap),
// rebuilt with the same addresses, ports, sizes and first-to-last times
// (payloads are zeros): a client without an address broadcasting six
// requests from 68 to 67 over 5.099034 s, the server's broadcast offer
// from 67 to 255.255.255.255:68, and its unicast answers from 67 to two
// clients on 68. TestZeekDHCPRoles compares the flows with Zeek's
// conn.log baseline of that test.
func genDHCPRoles(w *capWriter) {
	const client, bcast, server = "0.0.0.0", "255.255.255.255", "128.2.6.152"
	w.udp(0, client, 68, bcast, 67, 260)
	w.udp(100*gms, server, 67, bcast, 68, 300)
	w.udp(900*gms, client, 68, bcast, 67, 260)
	w.udp(100*gms, server, 67, "128.2.6.97", 68, 367)
	w.udp(900*gms, client, 68, bcast, 67, 260)
	w.udp(time.Second, client, 68, bcast, 67, 260)
	w.udp(100*gms, server, 67, "128.2.6.189", 68, 367)
	w.udp(900*gms, client, 68, bcast, 67, 260)
	w.udp(1099034*time.Microsecond, client, 68, bcast, 67, 260) // 5.099034 s after the first
}

func genCapture(t testing.TB, gen func(w *capWriter)) []byte {
	w := newCapWriter()
	gen(w)
	return w.bytes(t)
}

// TestGeneratedCaptures checks that the committed captures are what the
// generator writes now (or rewrites them with -update).
func TestGeneratedCaptures(t *testing.T) {
	for _, g := range genCaptures {
		path := filepath.Join("testdata", g.file)
		b := genCapture(t, g.gen)
		if *update {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (regenerate: go test ./tcpsession -run TestGeneratedCaptures -update)", err)
		}
		if !bytes.Equal(old, b) {
			t.Errorf("%s differs from its generator (regenerate: go test ./tcpsession -run TestGeneratedCaptures -update)", path)
		}
	}
}
