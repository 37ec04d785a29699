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

	"github.com/pcapq/pcapq/internal/testenv"
)

// tsharkCaptures are compared with tshark. PCAPQ_TSHARK_PCAP adds a
// capture (e.g. a bigger one from /work/shared/tools/mkcapture).
func tsharkCaptures(t *testing.T) []string {
	caps, _ := filepath.Glob("testdata/mkcapture-*.pcap")
	if p := os.Getenv("PCAPQ_TSHARK_PCAP"); p != "" {
		caps = append(caps, p)
	}
	corpus := corpusDir(t)
	for _, n := range []string{"zeek-tcp-retransmit-fast009.pcap", "zeek-tcp-ssh-dups.pcap", "zeek-tcp-retransmit-timeout.pcapng", "zeek-http-m57-long-49583-80.pcap"} {
		caps = append(caps, filepath.Join(corpus, "pcaps", n))
	}
	return caps
}

const minRetransmissionF1 = 0.98

// TestTsharkRetransmissionF1 compares the frames we flag as
// retransmission|fast_retransmission|spurious_retransmission with tshark's
// tcp.analysis flags of the same names.
func TestTsharkRetransmissionF1(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	var tp, fp, fn int
	for _, path := range tsharkCaptures(t) {
		out, err := exec.Command(tshark, "-r", path, "-Y",
			"tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission",
			"-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", path, err)
		}
		want := map[int64]bool{}
		for _, l := range strings.Fields(string(out)) {
			n, _ := strconv.ParseInt(l, 10, 64)
			want[n] = true
		}
		sink, _ := runCapture(t, path, DefaultOptions())
		got := map[int64]string{}
		for _, e := range sink.events {
			switch e.Kind {
			case KindRetransmission, KindFastRetransmission, KindSpuriousRetransmission:
				got[e.Frame] = e.Kind
			}
		}
		var ctp, cfp, cfn int
		for f, k := range got {
			if want[f] {
				ctp++
			} else {
				cfp++
				t.Logf("%s: frame %d flagged %s, tshark does not", filepath.Base(path), f, k)
			}
		}
		for f := range want {
			if got[f] == "" {
				cfn++
				t.Logf("%s: frame %d flagged by tshark, not by us", filepath.Base(path), f)
			}
		}
		t.Logf("%s: tshark %d, ours %d, tp %d fp %d fn %d", filepath.Base(path), len(want), len(got), ctp, cfp, cfn)
		tp, fp, fn = tp+ctp, fp+cfp, fn+cfn
	}
	if tp+fp+fn == 0 {
		t.Fatal("no retransmissions in the captures: the test measured nothing")
	}
	f1 := 2 * float64(tp) / float64(2*tp+fp+fn)
	t.Logf("retransmission F1 = %.4f (tp %d fp %d fn %d)", f1, tp, fp, fn)
	if f1 < minRetransmissionF1 {
		t.Errorf("F1 %.4f below %.2f", f1, minRetransmissionF1)
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
	var convs, pktOK, byteOK int
	var totalPkts, ourPkts int64
	for _, path := range tsharkCaptures(t) {
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
