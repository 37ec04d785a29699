package tcpsession

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/internal/testenv"
)

// tsharkGroups are the captures compared with tshark, in three groups:
// the package's own testdata (recorded and generated; always present), the
// repository's recorded captures (../testdata, real traffic with drops),
// and corpus captures made for TCP analysis (skipped when the corpus is
// absent). PCAPQ_TSHARK_PCAP adds a capture to the first group (e.g. a
// bigger one from /work/shared/tools/mkcapture).
var tsharkGroups = []struct {
	name  string
	files func(t *testing.T) []string
}{
	{"testdata", func(t *testing.T) []string {
		caps, _ := filepath.Glob("testdata/*.pcap")
		if p := os.Getenv("PCAPQ_TSHARK_PCAP"); p != "" {
			caps = append(caps, p)
		}
		return caps
	}},
	{"recorded", func(t *testing.T) []string {
		caps, _ := filepath.Glob("../testdata/mkcapture-*.pcap")
		return caps
	}},
	{"corpus", func(t *testing.T) []string {
		dir := testcorpus.Dir(t)
		var caps []string
		for _, n := range []string{
			"zeek-tcp-retransmit-fast009.pcap", "zeek-tcp-ssh-dups.pcap", "zeek-tcp-retransmit-timeout.pcapng",
			"zeek-http-m57-long-49583-80.pcap", "zeek-tcp-miss-end-data.pcap", "zeek-tcp-missing-syn.pcap",
			"sv-tcp-rst-unacked-stream-10.pcap", "zeek-tcp-fin-retransmission.pcap",
		} {
			caps = append(caps, filepath.Join(dir, "pcaps", n))
		}
		return caps
	}},
}

// tsharkFlagFields are the tshark fields read per frame; tsharkKinds says
// which frames tshark flags with each tcp_events kind.
var tsharkFlagFields = []string{
	"tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
	"tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "tcp.analysis.duplicate_ack",
	"tcp.analysis.zero_window", "tcp.analysis.zero_window_probe", "tcp.analysis.window_full",
	"tcp.analysis.keep_alive", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset",
}

// tsharkKinds maps every tcp_events kind to the tshark fields that flag
// the same frames. tshark also sets tcp.analysis.retransmission on fast
// and spurious retransmissions; our kinds are exclusive, in tshark's
// precedence. syn_retry is tshark's retransmission of a SYN (without ACK);
// rst is every segment with RST set.
var tsharkKinds = []struct {
	kind string
	is   func(f map[string]bool) bool
}{
	{KindRetransmission, func(f map[string]bool) bool {
		return f["tcp.analysis.retransmission"] && !f["tcp.analysis.fast_retransmission"] && !f["tcp.analysis.spurious_retransmission"]
	}},
	{KindFastRetransmission, func(f map[string]bool) bool { return f["tcp.analysis.fast_retransmission"] }},
	{KindSpuriousRetransmission, func(f map[string]bool) bool { return f["tcp.analysis.spurious_retransmission"] }},
	{KindOutOfOrder, func(f map[string]bool) bool { return f["tcp.analysis.out_of_order"] }},
	{KindLostSegment, func(f map[string]bool) bool { return f["tcp.analysis.lost_segment"] }},
	{KindDupAck, func(f map[string]bool) bool { return f["tcp.analysis.duplicate_ack"] }},
	{KindZeroWindow, func(f map[string]bool) bool { return f["tcp.analysis.zero_window"] }},
	{KindZeroWindowProbe, func(f map[string]bool) bool { return f["tcp.analysis.zero_window_probe"] }},
	{KindWindowFull, func(f map[string]bool) bool { return f["tcp.analysis.window_full"] }},
	{KindKeepAlive, func(f map[string]bool) bool { return f["tcp.analysis.keep_alive"] }},
	{KindSYNRetry, func(f map[string]bool) bool {
		return f["tcp.analysis.retransmission"] && f["tcp.flags.syn"] && !f["tcp.flags.ack"]
	}},
	{KindRST, func(f map[string]bool) bool { return f["tcp.flags.reset"] }},
}

// tsharkFlags runs tshark once on path and returns, per kind, the frames
// tshark flags with it.
func tsharkFlags(t *testing.T, tshark, path string) map[string]map[int64]bool {
	t.Helper()
	args := []string{"-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=/t", "-e", "frame.number"}
	for _, f := range tsharkFlagFields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	want := map[string]map[int64]bool{}
	for _, k := range tsharkKinds {
		want[k.kind] = map[int64]bool{}
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue // no TCP at all
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 1+len(tsharkFlagFields) {
			t.Fatalf("tshark %s: unexpected line %q", path, line)
		}
		frame, err := strconv.ParseInt(cols[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark %s: unexpected line %q", path, line)
		}
		set := map[string]bool{}
		for i, f := range tsharkFlagFields {
			// FT_NONE fields print "1" per occurrence; booleans "1" or "0".
			v := cols[i+1]
			set[f] = v != "" && v != "0" && !strings.HasPrefix(v, "0,")
		}
		for _, k := range tsharkKinds {
			if k.is(set) {
				want[k.kind][frame] = true
			}
		}
	}
	return want
}

type kindCount struct{ tshark, ours, tp, fp, fn int }

func (c kindCount) f1() float64 {
	if c.tp+c.fp+c.fn == 0 {
		return 1
	}
	return 2 * float64(c.tp) / float64(2*c.tp+c.fp+c.fn)
}

// TestTsharkEventsPerKind compares every tcp_events kind, frame by frame,
// with tshark's tcp.analysis flags of the same meaning, and asserts
// F1 = 1.000 for each kind separately (no frame flagged by one side only).
// On the package's own testdata every kind must also occur at least once,
// so that no kind passes for want of a sample.
func TestTsharkEventsPerKind(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	for _, g := range tsharkGroups {
		t.Run(g.name, func(t *testing.T) {
			files := g.files(t)
			if len(files) == 0 {
				t.Fatalf("no captures in group %s", g.name)
			}
			total := map[string]*kindCount{}
			for _, k := range tsharkKinds {
				total[k.kind] = &kindCount{}
			}
			for _, path := range files {
				want := tsharkFlags(t, tshark, path)
				sink, _ := runCapture(t, path, DefaultOptions())
				got := map[string]map[int64]bool{}
				for _, e := range sink.events {
					if got[e.Kind] == nil {
						got[e.Kind] = map[int64]bool{}
					}
					got[e.Kind][e.Frame] = true
				}
				for _, k := range tsharkKinds {
					c := total[k.kind]
					c.tshark += len(want[k.kind])
					c.ours += len(got[k.kind])
					for f := range got[k.kind] {
						if want[k.kind][f] {
							c.tp++
						} else {
							c.fp++
							t.Errorf("%s frame %d: %s, tshark does not flag it so", filepath.Base(path), f, k.kind)
						}
					}
					for f := range want[k.kind] {
						if !got[k.kind][f] {
							c.fn++
							t.Errorf("%s frame %d: tshark flags %s, we do not", filepath.Base(path), f, k.kind)
						}
					}
				}
				for kind := range got {
					if total[kind] == nil {
						t.Errorf("%s: kind %s has no tshark counterpart in tsharkKinds", filepath.Base(path), kind)
					}
				}
			}
			var report []string
			for _, k := range tsharkKinds {
				c := total[k.kind]
				report = append(report, fmt.Sprintf("%-24s tshark %4d  ours %4d  tp %4d fp %d fn %d  F1 %.3f", k.kind, c.tshark, c.ours, c.tp, c.fp, c.fn, c.f1()))
				if c.fp+c.fn > 0 {
					t.Errorf("%s: F1 %.3f, want 1.000 (fp %d, fn %d)", k.kind, c.f1(), c.fp, c.fn)
				}
				if g.name == "testdata" && c.tp == 0 {
					t.Errorf("%s: no sample in testdata: the comparison proves nothing for this kind", k.kind)
				}
			}
			t.Logf("tcp_events vs tshark, %d captures (%s):\n  %s", len(files), g.name, strings.Join(report, "\n  "))
		})
	}
}

// parseConvBytes reads tshark's rounded byte counts ("10 MB", "235 kB",
// "512 bytes").
func parseConvBytes(num, unit string) (v, tol float64) {
	v, _ = strconv.ParseFloat(num, 64)
	tol = 1
	switch unit {
	case "kB":
		tol = 1e3
	case "MB":
		tol = 1e6
	case "GB":
		tol = 1e9
	}
	return v * tol, tol
}

// TestTsharkConversations compares per-connection packets (exactly) and
// frame bytes (within tshark's display rounding) with tshark -z conv,tcp.
// tshark does not split reused ports, so our flows are summed by 5-tuple.
func TestTsharkConversations(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	for _, g := range tsharkGroups {
		t.Run(g.name, func(t *testing.T) { tsharkConversations(t, tshark, g.files(t)) })
	}
}

func tsharkConversations(t *testing.T, tshark string, files []string) {
	var convs, pktOK, byteOK int
	var totalPkts, ourPkts int64
	for _, path := range files {
		out, err := exec.Command(tshark, "-r", path, "-q", "-z", "conv,tcp").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", path, err)
		}
		sink, _ := runCapture(t, path, DefaultOptions())
		type agg struct {
			pk [2]int64
			by [2]int64
		}
		ours := map[string]*agg{}
		linkHdr := int64(14) // Ethernet captures only (checked below)
		for _, f := range sink.flows {
			if f.Proto != "tcp" {
				continue
			}
			a := fmt.Sprintf("%s:%d", f.OrigH, f.OrigP)
			b := fmt.Sprintf("%s:%d", f.RespH, f.RespP)
			for _, k := range []struct {
				key  string
				flip bool
			}{{a + " " + b, false}, {b + " " + a, true}} {
				g := ours[k.key]
				if g == nil {
					g = &agg{}
					ours[k.key] = g
				}
				o, r := 0, 1
				if k.flip {
					o, r = 1, 0
				}
				g.pk[o] += f.OrigPkts
				g.pk[r] += f.RespPkts
				g.by[o] += f.OrigIPBytes + linkHdr*f.OrigPkts
				g.by[r] += f.RespIPBytes + linkHdr*f.RespPkts
			}
		}
		for _, line := range strings.Split(string(out), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 11 || fs[1] != "<->" {
				continue
			}
			// A <-> B  framesBA bytesBA unit framesAB bytesAB unit ...
			g := ours[fs[0]+" "+fs[2]]
			convs++
			ba, _ := strconv.ParseInt(fs[3], 10, 64)
			ab, _ := strconv.ParseInt(fs[6], 10, 64)
			totalPkts += ab + ba
			if g == nil {
				t.Logf("%s: conversation %s <-> %s not found", filepath.Base(path), fs[0], fs[2])
				continue
			}
			ourPkts += g.pk[0] + g.pk[1]
			if g.pk[0] == ab && g.pk[1] == ba {
				pktOK++
			} else {
				t.Logf("%s: %s <-> %s packets tshark %d/%d ours %d/%d", filepath.Base(path), fs[0], fs[2], ab, ba, g.pk[0], g.pk[1])
			}
			// tshark prints at most 4 digits and a unit: allow one unit.
			okb := func(num, unit string, got int64) bool {
				want, tol := parseConvBytes(num, unit)
				if tol == 1 {
					tol = 0
				}
				return math.Abs(float64(got)-want) <= tol
			}
			bAB, _ := parseConvBytes(fs[7], fs[8])
			bBA, _ := parseConvBytes(fs[4], fs[5])
			if okb(fs[7], fs[8], g.by[0]) && okb(fs[4], fs[5], g.by[1]) {
				byteOK++
			} else {
				t.Logf("%s: %s <-> %s bytes tshark %v/%v ours %d/%d", filepath.Base(path), fs[0], fs[2], bAB, bBA, g.by[0], g.by[1])
			}
		}
	}
	t.Logf("conv,tcp: %d conversations, packets equal %d, bytes within rounding %d; total packets tshark %d ours %d",
		convs, pktOK, byteOK, totalPkts, ourPkts)
	if convs > 0 && pktOK < convs {
		t.Errorf("packet counts differ for %d of %d conversations", convs-pktOK, convs)
	}
}

// TestTsharkLastFrame compares every TCP and UDP flow's last frame with
// the last frame tshark shows for the same address and port pair (flows
// that reuse a pair are merged: the pair's last frame). Frames inside
// tunnels and ICMP errors (both a TCP and a UDP header, or an ICMP one)
// are left out. The corpus group is not run (tshark takes seconds on it
// and its TCP/UDP flows are those the other groups have).
func TestTsharkLastFrame(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	fields := []string{"frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
		"udp.srcport", "udp.dstport", "icmp.type", "icmpv6.type"}
	pairKey := func(proto, a, pa, b, pb string) string {
		x, y := a+"/"+pa, b+"/"+pb
		if x > y {
			x, y = y, x
		}
		return proto + " " + x + " " + y
	}
	for _, g := range tsharkGroups[:2] {
		t.Run(g.name, func(t *testing.T) {
			var flows, agree int
			for _, path := range g.files(t) {
				args := []string{"-n", "-r", path, "-Y", "tcp || udp", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"}
				for _, f := range fields {
					args = append(args, "-e", f)
				}
				out, err := exec.Command(tshark, args...).Output()
				if err != nil {
					t.Fatalf("tshark %s: %v", path, err)
				}
				want := map[string]int64{}
				for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
					c := strings.Split(line, "\t")
					if len(c) != len(fields) {
						continue
					}
					src, dst := c[1]+c[3], c[2]+c[4]
					tcp, udp := c[5] != "", c[7] != ""
					if tcp == udp || c[9] != "" || c[10] != "" || src == "" {
						continue
					}
					k := pairKey("tcp", src, c[5], dst, c[6])
					if udp {
						k = pairKey("udp", src, c[7], dst, c[8])
					}
					n, _ := strconv.ParseInt(c[0], 10, 64)
					want[k] = max(want[k], n)
				}
				sink, _ := runCapture(t, path, DefaultOptions())
				got := map[string]int64{}
				for _, f := range sink.flows {
					if f.Proto != "tcp" && f.Proto != "udp" {
						continue
					}
					k := pairKey(f.Proto, f.OrigH.String(), strconv.Itoa(int(f.OrigP)), f.RespH.String(), strconv.Itoa(int(f.RespP)))
					got[k] = max(got[k], f.LastFrame)
				}
				for k, n := range got {
					flows++
					if want[k] == n {
						agree++
					} else {
						t.Errorf("%s %s: last frame %d, tshark %d", filepath.Base(path), k, n, want[k])
					}
				}
			}
			t.Logf("last frame of %d TCP/UDP address and port pairs: %d equal to tshark's", flows, agree)
			if flows == 0 {
				t.Error("no TCP or UDP flow compared")
			}
		})
	}
}
