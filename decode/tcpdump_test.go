package decode

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tcpdumpFlags renders TCP flags as tcpdump does: F S R P . U E W e (ACK is
// ".", CWR "W", AE/NS "e"), "none" when no flag is set.
func tcpdumpFlags(f uint16) string {
	const letters = "FSRP.UEWe"
	var b []byte
	for i := 0; i < len(letters); i++ {
		if f&(1<<i) != 0 {
			b = append(b, letters[i])
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

var (
	// A frame's first line: "    1  2020-06-10 09:21:03.720289 ..." (or
	// without the date for the nanosecond tests).
	tcpdumpFrameLine = regexp.MustCompile(`^\s*(\d+)\s+(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\.\d+ `)
	// "src.sport > dst.dport: Flags [S.], ... length N" (length may be cut
	// off by "[|tcp]"), or with -q "src.sport > dst.dport: tcp N".
	tcpdumpTCP  = regexp.MustCompile(`(\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\](?:.*?, length (\d+))?`)
	tcpdumpTCPq = regexp.MustCompile(`(\S+)\.(\d+) > (\S+)\.(\d+): tcp (\d+)`)
)

// TestTcpdumpGolden compares addresses, ports, TCP flags and TCP payload
// length with tcpdump's golden outputs (expected/tcpdump-*.out) for the
// frames where tcpdump prints a TCP summary.
func TestTcpdumpGolden(t *testing.T) {
	dir := corpusDir(t)
	outs, _ := filepath.Glob(filepath.Join(dir, "expected", "tcpdump-*.out"))
	if len(outs) == 0 {
		t.Fatal("no tcpdump golden outputs in the corpus")
	}
	var compared, agree int
	var p Packet
	for _, out := range outs {
		base := filepath.Base(out)
		// tcpdump-NAME.out or tcpdump-NAME.TEST.out for several tests per capture.
		stem := strings.TrimSuffix(base, ".out")
		pcap := filepath.Join(dir, "pcaps", stem+".pcap")
		if _, err := os.Stat(pcap); err != nil {
			i := strings.LastIndex(stem, ".")
			if i < 0 {
				continue // a pcapng capture: not read here
			}
			pcap = filepath.Join(dir, "pcaps", stem[:i]+".pcap")
			if _, err := os.Stat(pcap); err != nil {
				continue
			}
		}
		frames, _ := readFrames(pcap)
		text, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		// Group lines per frame.
		perFrame := map[int]string{}
		cur := 0
		for _, line := range strings.Split(string(text), "\n") {
			if m := tcpdumpFrameLine.FindStringSubmatch(line); m != nil {
				cur, _ = strconv.Atoi(m[1])
			}
			if cur > 0 {
				perFrame[cur] += line + " "
			}
		}
		for n, s := range perFrame {
			if n > len(frames) {
				t.Errorf("%s: frame %d beyond the %d frames read", base, n, len(frames))
				continue
			}
			var src, sport, dst, dport, flags, length string
			if m := tcpdumpTCP.FindStringSubmatch(s); m != nil {
				src, sport, dst, dport, flags, length = m[1], m[2], m[3], m[4], m[5], m[6]
			} else if m := tcpdumpTCPq.FindStringSubmatch(s); m != nil {
				src, sport, dst, dport, length = m[1], m[2], m[3], m[4], m[5]
			} else {
				continue
			}
			f := frames[n-1]
			Decode(f.lt, f.data, f.origLen, &p)
			compared++
			got := []string{p.SrcIP.String(), itoa(int(p.SrcPort)), p.DstIP.String(), itoa(int(p.DstPort)), tcpdumpFlags(p.TCPFlags), itoa(p.PayloadLen)}
			wantv := []string{src, sport, dst, dport, flags, length}
			ok := p.HasTCP
			for i := range got {
				if wantv[i] != "" && got[i] != wantv[i] {
					ok = false
				}
			}
			if !ok {
				t.Errorf("%s: frame %d: decode %v, tcpdump %v (warn %q)", base, n, got, wantv, p.Warn)
				continue
			}
			agree++
		}
	}
	t.Logf("tcpdump golden outputs: %d TCP frames compared (addresses, ports, flags, length), %d agree", compared, agree)
}
