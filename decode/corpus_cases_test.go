package decode

import (
	"path/filepath"
	"testing"
)

// TestCorpusCases pins what the decoder makes of the corpus captures that
// exist to reproduce one problem each.
func TestCorpusCases(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		file  string
		frame int // 1-based
		warn  string
		check check
	}{
		{file: "tcpdump-heapoverflow-tcp_print.pcap", frame: 1, warn: KindBadTCPOptions, check: func(p *Packet) string {
			// Link type field 0x30000001 (FCS bits) is Ethernet; the
			// options are garbage but the header fields stay (tshark:
			// flags 0x0d30, tcp.len 12256).
			return want(p.HasTCP && p.SrcPort == 12336 && p.TCPFlags == 0x130 && p.PayloadLen == 12256, "header fields kept")
		}},
		{file: "tcpdump-ipv4_tcp_http_xml_tso.pcap", frame: 1, check: func(p *Packet) string {
			return want(p.IPTotalLen == 0 && p.PayloadLen == 1976 && len(p.Payload) == 1976, "TSO length from the frame (tcpdump: length 1976)")
		}},
		{file: "tcpdump-bigtcp-ipv4.pcap", frame: 1, check: func(p *Packet) string {
			return want(p.IPTotalLen == 0 && p.PayloadLen == 80000, "BIG TCP length 80000")
		}},
		{file: "zeek-tcp-http-with-padding.pcap", frame: 6, check: func(p *Packet) string {
			// 69-byte frame, IP length 53: a 2-byte trailer after 1 byte of payload.
			return want(p.HasTCP && p.PayloadLen == 1 && len(p.Payload) == 1 && p.CapLen == 69, "trailer is not payload")
		}},
		{file: "zeek-snap-tcp.pcap", frame: 1, check: func(p *Packet) string {
			return want(p.HasEth && p.HasTCP && p.EtherType == 0x0800, "802.3 + SNAP to IPv4")
		}},
		{file: "zeek-ipv6-http-atomic-frag.pcap", frame: 16, check: func(p *Packet) string {
			return want(p.IPVersion == 6 && p.IsFragment && p.FragOffset == 0 && !p.MoreFrags && p.HasIPID && p.HasTCP && p.PayloadLen == 15, "atomic fragment decoded (tshark: tcp.len 15)")
		}},
		{file: "tcpdump-nflog.pcap", frame: 1, check: func(p *Packet) string {
			return want(p.IPVersion == 4 && p.SrcPort == 53 && p.PayloadLen == 45, "NFLOG DNS answer (tcpdump: (45))")
		}},
		{file: "tcpdump-unsupported-link-type-160.pcap", frame: 1, warn: KindUnsupportedLinkType},
		{file: "zeek-trunc-hdr.pcap", frame: 1, warn: KindTruncatedHeader},
	}
	var p Packet
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			frames, err := readFrames(filepath.Join(dir, "pcaps", tt.file))
			if len(frames) < tt.frame {
				t.Fatalf("read %d frames (%v), want frame %d", len(frames), err, tt.frame)
			}
			f := frames[tt.frame-1]
			Decode(f.lt, f.data, f.origLen, &p)
			if p.Warn != tt.warn {
				t.Errorf("Warn = %q at %d, want %q", p.Warn, p.WarnOffset, tt.warn)
			}
			if tt.check != nil {
				if s := tt.check(&p); s != "" {
					t.Errorf("%s; got %+v", s, p)
				}
			}
			checkInvariants(t, f.data, &p)
		})
	}
}
