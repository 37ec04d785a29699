package live

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/source"
)

const smallPcap = "../../testdata/mkcapture-small.pcap"

// The pcapng copy reads back with pcapq's reader (data, times, lengths,
// block offsets) and with tshark and capinfos.
func TestPcapngWriterRoundTrip(t *testing.T) {
	type pkt struct {
		ts      int64
		data    []byte
		origLen int
	}
	var pkts []pkt
	for i, n := range []int{60, 0, 1, 3, 4, 5, 1514, 9000, 77} {
		d := bytes.Repeat([]byte{byte(i + 1)}, n)
		pkts = append(pkts, pkt{ts: 1_700_000_000_123_456_789 + int64(i)*1_000_000_007, data: d, origLen: n + i})
	}
	var buf bytes.Buffer
	w, err := newPcapngWriter(&buf, 1, 262144, "veth0", "tcp port 80", "pcapq test")
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for _, p := range pkts {
		off, err := w.writePacket(p.ts, p.data, p.origLen)
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
	}
	if err := w.writeStats(pkts[len(pkts)-1].ts+1, pkts[0].ts, pkts[len(pkts)-1].ts, 12, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	r, err := source.NewReader(bytes.NewReader(buf.Bytes()), "copy.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var rec source.Record
	for i, p := range pkts {
		if err := r.Next(&rec); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if rec.Ts != p.ts || !bytes.Equal(rec.Data, p.data) || rec.OrigLen != p.origLen || rec.Offset != offs[i] || rec.LinkType != 1 {
			t.Errorf("packet %d: ts %d len %d/%d offset %d link %d, want ts %d len %d/%d offset %d link 1",
				i, rec.Ts, rec.CapLen, rec.OrigLen, rec.Offset, rec.LinkType, p.ts, len(p.data), p.origLen, offs[i])
		}
	}
	if err := r.Next(&rec); err != io.EOF {
		t.Errorf("after the packets: %v, want io.EOF", err)
	}
	if ws := r.Warnings(); len(ws) != 0 {
		t.Errorf("reader warnings: %v", ws)
	}
	if r.Format() != "pcapng" {
		t.Errorf("format %q", r.Format())
	}
	file := filepath.Join(t.TempDir(), "copy.pcapng")
	os.WriteFile(file, buf.Bytes(), 0o644)
	out, err := exec.Command(testenv.Tool(t, "tshark"), "-r", file, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len").Output()
	if err != nil {
		t.Fatalf("tshark: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(pkts) {
		t.Fatalf("tshark reads %d packets, want %d: %s", len(lines), len(pkts), out)
	}
	for i, l := range lines {
		f := strings.Fields(l)
		want := strconv.FormatInt(pkts[i].ts/1e9, 10) + "." + strconv.FormatInt(1e9+pkts[i].ts%1e9, 10)[1:]
		if len(f) != 3 || f[0] != want || f[1] != strconv.Itoa(pkts[i].origLen) || f[2] != strconv.Itoa(len(pkts[i].data)) {
			t.Errorf("tshark packet %d: %q, want %s %d %d", i, l, want, pkts[i].origLen, len(pkts[i].data))
		}
	}
	out, err = exec.Command(testenv.Tool(t, "tshark"), "-r", file, "-q", "-z", "io,stat,0").Output()
	if err != nil || !strings.Contains(string(out), "|      9 |") {
		t.Errorf("tshark io,stat: %v %s", err, out)
	}
}

// Filter keeps what tcpdump -r FILE EXPR keeps.
func TestFilterMatchesTcpdump(t *testing.T) {
	tcpdump := testenv.Tool(t, "tcpdump")
	for _, expr := range []string{"tcp port 80", "udp", "greater 1000", "tcp[tcpflags] & tcp-syn != 0", "not ip"} {
		out, err := exec.Command(tcpdump, "-nn", "-r", smallPcap, expr).Output()
		if err != nil {
			t.Fatalf("tcpdump %q: %v", expr, err)
		}
		want := strings.Count(string(out), "\n")
		r, err := source.Open(smallPcap)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := Filter(r, expr)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		var rec source.Record
		for fr.Next(&rec) == nil {
			got++
		}
		if fr.BytesRead() != r.BytesRead() || fr.BytesRead() == 0 {
			t.Errorf("%q: BytesRead %d, the file's reader %d", expr, fr.BytesRead(), r.BytesRead())
		}
		if err := fr.Close(); err != nil { // closes the file
			t.Errorf("%q: Close: %v", expr, err)
		}
		if got != want {
			t.Errorf("%q: %d packets, tcpdump %d", expr, got, want)
		}
		if rej := fr.(*filtered).Rejected(); int(rej)+got != 1865 {
			t.Errorf("%q: %d kept + %d rejected != 1865 (capinfos)", expr, got, rej)
		}
	}
	if _, err := Filter(nil, "tcp port"); err == nil || !strings.Contains(err.Error(), `filter "tcp port"`) {
		t.Errorf("bad filter: %v", err)
	}
}

func TestDevicesAndErrors(t *testing.T) {
	devs, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range devs {
		if d.Name == "lo" {
			found = true
			if !d.Loopback || !d.Up || !strings.Contains(d.Flags(), "LOOPBACK") || len(d.Addresses) == 0 || d.Addresses[0].String() != "127.0.0.1/8" {
				t.Errorf("lo: %+v flags %q", d, d.Flags())
			}
		}
	}
	if !found {
		t.Errorf("no lo among %d devices", len(devs))
	}
	_, err = Open(Options{Interface: "nosuch-if0"})
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "lo") {
		t.Errorf("Open of a missing device: %v", err)
	}
}

// After Stop, Next still returns the packets the kernel holds, then
// io.EOF; Stats agree with what Next returned. In both delivery modes, and
// with the Stop right after the last packet: a buffered capture's kernel
// hands over the block being filled up to pollInterval later, and nothing
// follows to push it out (eight trials: each Stop lands at another point
// of the kernel's block timer).
func TestStopDrainsBuffer(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "capturing on lo needs root")
	}
	for _, tc := range []struct {
		name      string
		immediate bool
		wait      time.Duration
		trials    int
	}{
		{"immediate", true, 100 * time.Millisecond, 1},
		{"immediate-at-once", true, 0, 2},
		{"buffered", false, 100 * time.Millisecond, 1},
		{"buffered-at-once", false, 0, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < tc.trials; i++ {
				stopDrainTrial(t, tc.immediate, tc.wait)
			}
		})
	}
}

func stopDrainTrial(t *testing.T, immediate bool, wait time.Duration) {
	const port = 47123
	src, err := Open(Options{Interface: "lo", Filter: "udp dst port 47123 and dst host 127.0.0.1", Immediate: immediate})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// A listener, so that no ICMP error makes a later write fail.
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetReadBuffer(1 << 20)
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	// In immediate mode libpcap gives the kernel fixed slots sized for
	// the interface's MTU: on lo (64 KiB) 32 MiB is about 500 slots, and
	// each packet takes two (lo shows it going out and coming in).
	const burst = 200
	for i := 0; i < burst; i++ {
		if _, err := c.Write([]byte("pcapq drain test")); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(wait)
	src.Stop()
	var rec source.Record
	n := 0
	var nbytes int64
	for {
		err := src.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		nbytes += int64(rec.CapLen)
	}
	if src.BytesRead() != nbytes || nbytes == 0 {
		t.Errorf("BytesRead %d, the packets returned hold %d bytes", src.BytesRead(), nbytes)
	}
	if n != burst {
		t.Errorf("after Stop, Next returned %d packets, want the %d sent before", n, burst)
	}
	if !src.Stopped() || src.Err() != nil {
		t.Errorf("stopped %v, err %v", src.Stopped(), src.Err())
	}
	src.Close() // a second Close (deferred) does nothing
	// On lo the kernel counts each packet twice (it passes the socket
	// going out and coming in; libpcap keeps one).
	if st := src.Stats(); st.Captured != burst || st.Received != 2*burst || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Interrupt (what the pipeline calls when its run fails) ends a capture
// that waits for packets, as Stop does.
func TestInterruptEndsIdleCapture(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "capturing on lo needs root")
	}
	var src source.Reader
	src, err := Open(Options{Interface: "lo", Filter: "udp dst port 47124 and dst host 127.0.0.9"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	done := make(chan error, 1)
	go func() {
		var rec source.Record
		done <- src.Next(&rec)
	}()
	select {
	case err := <-done:
		t.Fatalf("Next returned %v with no traffic", err)
	case <-time.After(300 * time.Millisecond):
	}
	src.Interrupt(context.Canceled)
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("Next after Interrupt: %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next still waits 2 s after Interrupt")
	}
	if !src.(*Source).Stopped() {
		t.Error("not Stopped after Interrupt")
	}
}

// The default capture reads a TPACKET_V3 ring (blocks, as tcpdump -w);
// Immediate a TPACKET_V2 one (libpcap's immediate mode). The ring's
// version is read from the socket, as libpcap reports it nowhere.
func TestDeliveryMode(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "capturing on lo needs root")
	}
	for _, tc := range []struct {
		immediate bool
		want      int
	}{{false, unix.TPACKET_V3}, {true, unix.TPACKET_V2}} {
		src, err := Open(Options{Interface: "lo", Filter: "udp dst port 47125", Immediate: tc.immediate})
		if err != nil {
			t.Fatal(err)
		}
		got, err := pcaptest.RingVersions(os.Getpid())
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("Immediate %v: packet socket ring versions %v, want [%d]", tc.immediate, got, tc.want)
		}
	}
}
