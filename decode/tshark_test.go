package decode

import (
	"bytes"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

// tsharkField is one tshark field compared with the decoder's output.
// ours renders the Packet the way tshark prints the field ("" when absent);
// norm, when set, normalises tshark's text first.
type tsharkField struct {
	name string
	ours func(p *Packet) string
	norm func(s string) string
}

func itoa(n int) string { return strconv.Itoa(n) }

func v4(p *Packet, f func(p *Packet) string) string {
	if p.IPVersion != 4 {
		return ""
	}
	return f(p)
}

func v6(p *Packet, f func(p *Packet) string) string {
	if p.IPVersion != 6 {
		return ""
	}
	return f(p)
}

func onTCP(p *Packet, f func(p *Packet) string) string {
	if !p.HasTCP {
		return ""
	}
	return f(p)
}

func onProto(p *Packet, proto uint8, f func(p *Packet) string) string {
	if !p.HasPorts || p.IPProto != proto {
		return ""
	}
	return f(p)
}

func onICMP(p *Packet, version uint8, f func(p *Packet) string) string {
	if !p.HasICMP || p.IPVersion != version {
		return ""
	}
	return f(p)
}

// hexMasked parses tshark's hex text and keeps mask bits, as decimal.
func hexMasked(mask uint64) func(string) string {
	return func(s string) string {
		if s == "" {
			return ""
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			return "unparsable " + s
		}
		return strconv.FormatUint(n&mask, 10)
	}
}

// wscale applies RFC 7323's cap of 14 to tshark's raw shift count.
func wscale(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil || n <= maxTCPWScale {
		return s
	}
	return itoa(maxTCPWScale)
}

func present(s string) string {
	if s == "" {
		return ""
	}
	return "present"
}

var tsharkFields = []tsharkField{
	{name: "eth.src", ours: func(p *Packet) string {
		if !p.HasEth {
			return ""
		}
		return net.HardwareAddr(p.EthSrc[:]).String()
	}},
	{name: "eth.dst", ours: func(p *Packet) string {
		if !p.HasEth {
			return ""
		}
		return net.HardwareAddr(p.EthDst[:]).String()
	}},
	{name: "vlan.id", ours: func(p *Packet) string {
		if !p.HasVLAN {
			return ""
		}
		return itoa(int(p.VLAN))
	}},
	{name: "ieee8021ad.id", ours: func(p *Packet) string {
		if p.VLANTPID != etherTypeQinQ {
			return ""
		}
		return itoa(int(p.VLAN))
	}},
	{name: "arp.opcode", ours: func(p *Packet) string {
		if !p.HasARP {
			return ""
		}
		return itoa(int(p.ARPOp))
	}},
	{name: "arp.src.proto_ipv4", ours: func(p *Packet) string {
		if !p.ARPSender.IsValid() {
			return ""
		}
		return p.ARPSender.String()
	}},
	{name: "arp.dst.proto_ipv4", ours: func(p *Packet) string {
		if !p.ARPTarget.IsValid() {
			return ""
		}
		return p.ARPTarget.String()
	}},
	{name: "ip.src", ours: func(p *Packet) string { return v4(p, func(p *Packet) string { return p.SrcIP.String() }) }},
	{name: "ip.dst", ours: func(p *Packet) string { return v4(p, func(p *Packet) string { return p.DstIP.String() }) }},
	{name: "ip.ttl", ours: func(p *Packet) string { return v4(p, func(p *Packet) string { return itoa(int(p.TTL)) }) }},
	{name: "ip.proto", ours: func(p *Packet) string { return v4(p, func(p *Packet) string { return itoa(int(p.IPProto)) }) }},
	{name: "ip.len", ours: func(p *Packet) string { return v4(p, func(p *Packet) string { return itoa(p.IPTotalLen) }) }},
	{name: "ip.hdr_len", ours: func(p *Packet) string { return v4(p, func(p *Packet) string { return itoa(p.IPHeaderLen) }) }},
	{name: "ip.id", norm: hexMasked(0xFFFF), ours: func(p *Packet) string {
		return v4(p, func(p *Packet) string { return itoa(int(p.IPID)) })
	}},
	{name: "ip.flags.mf", ours: func(p *Packet) string {
		return v4(p, func(p *Packet) string {
			if p.MoreFrags {
				return "1"
			}
			return "0"
		})
	}},
	{name: "ipv6.src", ours: func(p *Packet) string { return v6(p, func(p *Packet) string { return p.SrcIP.String() }) }},
	{name: "ipv6.dst", ours: func(p *Packet) string { return v6(p, func(p *Packet) string { return p.DstIP.String() }) }},
	{name: "ipv6.hlim", ours: func(p *Packet) string { return v6(p, func(p *Packet) string { return itoa(int(p.TTL)) }) }},
	{name: "ipv6.plen", ours: func(p *Packet) string {
		return v6(p, func(p *Packet) string {
			if p.IPTotalLen == 0 {
				return "0"
			}
			return itoa(p.IPTotalLen - 40)
		})
	}},
	{name: "ipv6.fraghdr.ident", norm: hexMasked(0xFFFFFFFF), ours: func(p *Packet) string {
		return v6(p, func(p *Packet) string {
			if !p.HasIPID {
				return ""
			}
			return itoa(int(p.IPID))
		})
	}},
	// The ports are kept from a TCP header cut short (HasPorts without HasTCP).
	{name: "tcp.srcport", ours: func(p *Packet) string {
		return onProto(p, protoTCP, func(p *Packet) string { return itoa(int(p.SrcPort)) })
	}},
	{name: "tcp.dstport", ours: func(p *Packet) string {
		return onProto(p, protoTCP, func(p *Packet) string { return itoa(int(p.DstPort)) })
	}},
	{name: "tcp.seq_raw", ours: func(p *Packet) string { return onTCP(p, func(p *Packet) string { return itoa(int(p.Seq)) }) }},
	{name: "tcp.ack_raw", ours: func(p *Packet) string { return onTCP(p, func(p *Packet) string { return itoa(int(p.Ack)) }) }},
	// tshark's tcp.flags has 12 bits: 3 reserved, AE (our NS), then CWR..FIN.
	{name: "tcp.flags", norm: hexMasked(0x1FF), ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string { return itoa(int(p.TCPFlags)) })
	}},
	{name: "tcp.hdr_len", ours: func(p *Packet) string { return onTCP(p, func(p *Packet) string { return itoa(p.TCPHeaderLen) }) }},
	{name: "tcp.window_size_value", ours: func(p *Packet) string { return onTCP(p, func(p *Packet) string { return itoa(int(p.Win)) }) }},
	{name: "tcp.len", ours: func(p *Packet) string { return onTCP(p, func(p *Packet) string { return itoa(p.PayloadLen) }) }},
	{name: "tcp.options.mss_val", ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if p.MSS == 0 {
				return ""
			}
			return itoa(int(p.MSS))
		})
	}},
	{name: "tcp.options.wscale.shift", norm: wscale, ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if p.WScale < 0 {
				return ""
			}
			return itoa(int(p.WScale))
		})
	}},
	{name: "tcp.options.sack_perm", norm: present, ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if !p.SACKPerm {
				return ""
			}
			return "present"
		})
	}},
	{name: "tcp.options.sack_le", ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if p.NumSACK == 0 {
				return ""
			}
			return itoa(int(p.SACK[0][0]))
		})
	}},
	{name: "tcp.options.sack_re", ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if p.NumSACK == 0 {
				return ""
			}
			return itoa(int(p.SACK[0][1]))
		})
	}},
	{name: "tcp.options.timestamp.tsval", ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if !p.HasTS {
				return ""
			}
			return itoa(int(p.TSVal))
		})
	}},
	{name: "tcp.options.timestamp.tsecr", ours: func(p *Packet) string {
		return onTCP(p, func(p *Packet) string {
			if !p.HasTS {
				return ""
			}
			return itoa(int(p.TSEcr))
		})
	}},
	{name: "udp.srcport", ours: func(p *Packet) string {
		return onProto(p, protoUDP, func(p *Packet) string { return itoa(int(p.SrcPort)) })
	}},
	{name: "udp.dstport", ours: func(p *Packet) string {
		return onProto(p, protoUDP, func(p *Packet) string { return itoa(int(p.DstPort)) })
	}},
	{name: "udp.length", ours: func(p *Packet) string {
		return onProto(p, protoUDP, func(p *Packet) string { return itoa(p.PayloadLen + 8) })
	}},
	{name: "sctp.srcport", ours: func(p *Packet) string {
		return onProto(p, protoSCTP, func(p *Packet) string { return itoa(int(p.SrcPort)) })
	}},
	{name: "sctp.dstport", ours: func(p *Packet) string {
		return onProto(p, protoSCTP, func(p *Packet) string { return itoa(int(p.DstPort)) })
	}},
	{name: "icmp.type", ours: func(p *Packet) string { return onICMP(p, 4, func(p *Packet) string { return itoa(int(p.ICMPType)) }) }},
	{name: "icmp.code", ours: func(p *Packet) string { return onICMP(p, 4, func(p *Packet) string { return itoa(int(p.ICMPCode)) }) }},
	{name: "icmpv6.type", ours: func(p *Packet) string { return onICMP(p, 6, func(p *Packet) string { return itoa(int(p.ICMPType)) }) }},
	{name: "icmpv6.code", ours: func(p *Packet) string { return onICMP(p, 6, func(p *Packet) string { return itoa(int(p.ICMPCode)) }) }},
}

// tsharkDiff is a documented, legitimate difference between tshark and the
// decoder: applies says whether it explains a mismatch of one field.
type tsharkDiff struct {
	reason  string
	applies func(file string, p *Packet, field, ours, theirs string) bool
}

var tsharkDiffs = []tsharkDiff{
	{
		reason: "first fragment with more to come: tshark shows no tcp.len for a segment it has not reassembled; Packet.PayloadLen is the part of the segment in this fragment",
		applies: func(_ string, p *Packet, field, _, theirs string) bool {
			return field == "tcp.len" && p.firstFragment() && theirs == ""
		},
	},
	{
		reason: "TCP header shorter than 20 bytes in the frame: the decoder keeps the ports only (HasTCP false: Zeek ignores such a packet, and so does the flow tracker); tshark also shows seq, ack, flags, header length and window once 16 bytes are there",
		applies: func(_ string, p *Packet, field, ours, _ string) bool {
			return !p.HasTCP && p.HasPorts && p.IPProto == protoTCP && ours == "" && strings.HasPrefix(field, "tcp.")
		},
	},
	{
		reason: "TCP data offset below 5 (bad_TCP_header_len): tshark stops at the bogus header length; the decoder keeps the ack, flags and window of the 20 bytes it has",
		applies: func(_ string, p *Packet, field, _, theirs string) bool {
			return p.Warn == KindBadTCPHeaderLength && p.TCPHeaderLen < 20 && theirs == "" &&
				(field == "tcp.ack_raw" || field == "tcp.flags" || field == "tcp.window_size_value")
		},
	},
	{
		reason: "UDP length below 8 (bad_UDP_length) or not captured: tshark prints the header's value or nothing, Packet.PayloadLen falls back to the IP payload",
		applies: func(_ string, p *Packet, field, _, theirs string) bool {
			return field == "udp.length" && (p.Warn == KindBadUDPLength || p.Warn == KindTruncatedHeader && theirs == "")
		},
	},
	{
		reason: "802.1ad: tshark dissects a 0x88A8 S-tag as ieee8021ad.id (compared separately), so its first vlan.id is the inner 802.1Q C-tag; Packet.VLAN is the outer tag",
		applies: func(_ string, p *Packet, field, _, _ string) bool {
			return field == "vlan.id" && p.VLANTPID == etherTypeQinQ && p.VLANDepth > 1
		},
	},
	{
		reason: "TSO/BIG TCP: tshark shows ip.len derived from the frame when the header says 0; Packet.IPTotalLen keeps the header's 0 (the derived length is IPHeaderLen+IPPayloadLen)",
		applies: func(_ string, p *Packet, field, ours, theirs string) bool {
			return field == "ip.len" && ours == "0" && theirs == itoa(p.IPHeaderLen+p.IPPayloadLen)
		},
	},
}

// tsharkSkipFiles are captures tshark reads as a different file format
// than pcapgo does, so frames cannot be paired.
var tsharkSkipFiles = map[string]string{
	"sv-bug-6875-01.pcap": "damaged file: tshark's format heuristics read it as a pcap variant with longer record headers (frame 1 shifted by 8 bytes, frame 2 a 1-byte record); pcapgo reads classic pcap and stops at the 1.4 GB record",
}

// tsharkArgs turns IP reassembly off so that tshark, like the decoder,
// describes each frame on its own (a first fragment then shows its
// transport header) and prints only the first occurrence of each field
// (the outermost header when tunnels or ICMP errors repeat a field).
func tsharkArgs(file string) []string {
	args := []string{"-n", "-r", file,
		"-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
		"-o", "tcp.relative_sequence_numbers:FALSE",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=f",
		"-e", "frame.number"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f.name)
	}
	return args
}

// TestTshark decodes every capture of the external corpus and compares
// each frame field by field with tshark's dissection.
func TestTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping tshark runs over the corpus")
	}
	tshark := testenv.Tool(t, "tshark")
	compareTshark(t, tshark, corpusFiles(t))
}

// TestTsharkTestdata compares the package's own captures (testdata/, made
// by the generator in gencap_test.go) with tshark frame by frame; it needs
// no corpus.
func TestTsharkTestdata(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	files, _ := filepath.Glob("testdata/*.pcap")
	if len(files) == 0 {
		t.Fatal("no captures in testdata/")
	}
	compareTshark(t, tshark, files)
}

// compareTshark decodes every frame of files and compares it field by
// field with tshark; a difference fails the test unless a tsharkDiff
// explains it.
func compareTshark(t *testing.T, tshark string, files []string) {
	var frames, compared, agree, documented, fieldsCompared int
	diffCount := map[string]int{}
	warns := map[string]int{}
	var p Packet
	// tshark's runs are most of this test's time: run them NumCPU at a time
	// ahead of the comparison, which stays in file order.
	type tsharkRun struct {
		out    []byte
		err    error
		stderr bytes.Buffer
		done   chan struct{}
	}
	runs := make([]*tsharkRun, len(files))
	sem := make(chan struct{}, runtime.NumCPU())
	for i, path := range files {
		r := &tsharkRun{done: make(chan struct{})}
		runs[i] = r
		if _, skip := tsharkSkipFiles[filepath.Base(path)]; skip {
			close(r.done)
			continue
		}
		go func() {
			defer close(r.done)
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := exec.Command(tshark, tsharkArgs(path)...)
			cmd.Stderr = &r.stderr
			r.out, r.err = cmd.Output()
		}()
	}
	for i, path := range files {
		<-runs[i].done
		name := filepath.Base(path)
		if why, ok := tsharkSkipFiles[name]; ok {
			t.Logf("%s: not compared: %s", name, why)
			continue
		}
		fr, rerr := readFrames(path)
		out, terr, stderr := runs[i].out, runs[i].err, &runs[i].stderr
		// tshark exits non-zero on damaged files after printing the good
		// frames; only the frames matter here.
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(out) == 0 {
			lines = nil
		}
		if len(lines) != len(fr) {
			if strings.HasSuffix(name, ".pcapng") {
				t.Logf("%s: skipped, pcapgo.NgReader read %d frames (err %v), tshark %d", name, len(fr), rerr, len(lines))
				continue
			}
			t.Errorf("%s: read %d frames (err %v), tshark %d (err %v: %s)", name, len(fr), rerr, len(lines), terr, stderr.String())
			continue
		}
		compared++
		bad := 0
		for i, f := range fr {
			cols := strings.Split(lines[i], "\t")
			if len(cols) != len(tsharkFields)+1 || cols[0] != itoa(i+1) {
				t.Errorf("%s: frame %d: unexpected tshark line %q", name, i+1, lines[i])
				continue
			}
			Decode(f.lt, f.data, f.origLen, &p)
			frames++
			if p.Warn != "" {
				warns[name+": "+p.Warn]++
			}
			exact, explained := true, true
			for j, tf := range tsharkFields {
				theirs := cols[j+1]
				if tf.norm != nil {
					theirs = tf.norm(theirs)
				}
				ours := tf.ours(&p)
				fieldsCompared++
				if ours == theirs {
					continue
				}
				exact = false
				found := false
				for _, d := range tsharkDiffs {
					if d.applies(name, &p, tf.name, ours, theirs) {
						diffCount[d.reason]++
						found = true
						break
					}
				}
				if !found {
					explained = false
					if bad++; bad <= 5 {
						t.Errorf("%s: frame %d: %s: decode %q, tshark %q (warn %q at %d)", name, i+1, tf.name, ours, theirs, p.Warn, p.WarnOffset)
					}
				}
			}
			switch {
			case exact:
				agree++
			case explained:
				documented++
			}
		}
		if bad > 5 {
			t.Errorf("%s: %d more mismatching fields", name, bad-5)
		}
	}
	t.Logf("tshark conformance: %d frames in %d compared files, %d fields each (%d compared): %d frames agree on every field, %d differ only in documented ways",
		frames, compared, len(tsharkFields), fieldsCompared, agree, documented)
	ws := make([]string, 0, len(warns))
	for w := range warns {
		ws = append(ws, w)
	}
	sort.Strings(ws)
	for _, w := range ws {
		t.Logf("  decoder warning: %s (%d frames)", w, warns[w])
	}
	reasons := make([]string, 0, len(diffCount))
	for r := range diffCount {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t.Logf("  documented difference (%d fields): %s", diffCount[r], r)
	}
}
