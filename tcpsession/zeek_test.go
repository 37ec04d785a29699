package tcpsession

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// zeekBaselines maps each corpus capture with a conn.log baseline to it.
// tcp-retransmit-timeout has two baselines made with different Zeek
// timeouts; the one matching our 5-minute default is used.
var zeekBaselines = []struct{ capture, log string }{
	{"zeek-ftp-ipv6.pcap", "zeek-ftp-ipv6.conn.log"},
	{"zeek-http-get.pcap", "zeek-http-get.conn.log"},
	{"zeek-http-m57-long-49583-80.pcap", "zeek-http-m57-long-49583-80.conn.log.cut"},
	{"zeek-http-no-crlf.pcap", "zeek-http-no-crlf.conn.log"},
	{"zeek-http-post-large.pcap", "zeek-http-post-large.conn.log"},
	{"zeek-mixed-vlan-mpls.pcap", "zeek-mixed-vlan-mpls.conn.log"},
	{"zeek-pcapng-multi-interface.pcapng", "zeek-pcapng-multi-interface.conn.log"},
	{"zeek-q-in-q.pcap", "zeek-q-in-q.conn.log"},
	{"zeek-tcp-http-with-padding.pcap", "zeek-tcp-http-with-padding.conn.log"},
	{"zeek-tcp-miss-end-data.pcap", "zeek-tcp-miss-end-data.conn.log"},
	{"zeek-tcp-missing-syn.pcap", "zeek-tcp-missing-syn.conn.log"},
	{"zeek-tcp-retransmit-fast009.pcap", "zeek-tcp-retransmit-fast009.conn.log"},
	{"zeek-tcp-retransmit-timeout.pcapng", "zeek-tcp-retransmit-timeout.conn-limited.log"},
	{"zeek-wikipedia.pcap", "zeek-wikipedia.conn.log"},
}

// zeekFields are compared per connection.
var zeekFields = []string{"conn_state", "history", "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_ip_bytes", "resp_ip_bytes", "missed_bytes"}

// minZeekAgreement is the measured field agreement; the test fails below it.
const minZeekAgreement = 1.0 // measured: 505/505 fields over 58 connections

func flowField(f *Flow, name string) string {
	switch name {
	case "conn_state":
		return f.ConnState
	case "history":
		return f.History
	case "orig_pkts":
		return strconv.FormatInt(f.OrigPkts, 10)
	case "resp_pkts":
		return strconv.FormatInt(f.RespPkts, 10)
	case "orig_bytes":
		return strconv.FormatInt(f.OrigBytes, 10)
	case "resp_bytes":
		return strconv.FormatInt(f.RespBytes, 10)
	case "orig_ip_bytes":
		return strconv.FormatInt(f.OrigIPBytes, 10)
	case "resp_ip_bytes":
		return strconv.FormatInt(f.RespIPBytes, 10)
	case "missed_bytes":
		return strconv.FormatInt(f.MissedBytes, 10)
	}
	return ""
}

func TestZeekConnLog(t *testing.T) {
	corpus := corpusDir(t)
	var total, agree, conns, connsAll int
	for _, b := range zeekBaselines {
		pcap := filepath.Join(corpus, "pcaps", b.capture)
		if _, err := os.Stat(pcap); err != nil {
			t.Logf("%s: missing, skipped", b.capture)
			continue
		}
		want := readZeekLog(t, filepath.Join(corpus, "expected", b.log))
		sink, _ := runCapture(t, pcap, DefaultOptions())
		used := make([]bool, len(sink.flows))
		for _, z := range want {
			key := z["id.orig_h"] + " " + z["id.orig_p"] + " " + z["id.resp_h"] + " " + z["id.resp_p"]
			var got *Flow
			for i, f := range sink.flows {
				k := fmt.Sprintf("%s %d %s %d", f.OrigH, f.OrigP, f.RespH, f.RespP)
				if !used[i] && k == key && (z["proto"] == "" || z["proto"] == f.Proto) {
					got, used[i] = f, true
					break
				}
			}
			if got == nil {
				// try the reversed orientation to report a role mismatch
				t.Logf("DISAGREE %s %s: connection not found (or roles differ)", b.capture, key)
				for _, fld := range zeekFields {
					if _, ok := z[fld]; ok {
						total++
					}
				}
				connsAll++
				continue
			}
			connsAll++
			allOK := true
			for _, fld := range zeekFields {
				w, ok := z[fld]
				if !ok {
					continue
				}
				if (fld == "orig_bytes" || fld == "resp_bytes") && w == "-" {
					continue // Zeek logs sizes only when duration > 0
				}
				total++
				g := flowField(got, fld)
				if g == w {
					agree++
				} else {
					allOK = false
					t.Logf("DISAGREE %s %s %s: zeek=%s ours=%s", b.capture, key, fld, w, g)
				}
			}
			if allOK {
				conns++
			}
		}
	}
	if total == 0 {
		t.Fatal("no Zeek conn.log fields compared: the baselines are missing or none matched")
	}
	pct := float64(agree) / float64(total)
	t.Logf("Zeek conn.log agreement: %d/%d fields (%.1f%%), %d/%d connections fully equal", agree, total, 100*pct, conns, connsAll)
	if pct < minZeekAgreement {
		t.Errorf("agreement %.3f below the measured bar %.3f", pct, minZeekAgreement)
	}
}

// TestZeekDHCPRoles checks which end of a UDP flow is the originator
// against Zeek: testdata/gen-udp-dhcp-roles.pcap rebuilds the DHCP flows
// of Zeek's btest scripts/base/protocols/dhcp/dhcp-all-msg-types, and
// zeekDHCPConnLog holds the rows of its baseline
// (testing/btest/Baseline/scripts.base.protocols.dhcp.dhcp-all-msg-types/conn.log,
// zeek/zeek a13de64f; ts, uid, service, duration, local_* and tunnel
// columns left out). Zeek flips a flow whose first packet comes from a
// likely server port (67/udp) to a port that is not one (68/udp is
// registered as a DHCP client port), unless it goes to 255.255.255.255.
func TestZeekDHCPRoles(t *testing.T) {
	sink, _ := runCapture(t, "testdata/gen-udp-dhcp-roles.pcap", DefaultOptions())
	want := readZeekLog(t, "testdata/zeek-dhcp-all-msg-types.conn.log")
	if len(sink.flows) != len(want) {
		t.Errorf("%d flows, Zeek logs %d", len(sink.flows), len(want))
	}
	fields := []string{"conn_state", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "orig_bytes", "resp_bytes"}
	for _, z := range want {
		key := z["id.orig_h"] + " " + z["id.orig_p"] + " " + z["id.resp_h"] + " " + z["id.resp_p"]
		var got *Flow
		for _, f := range sink.flows {
			if fmt.Sprintf("%s %d %s %d", f.OrigH, f.OrigP, f.RespH, f.RespP) == key {
				got = f
			}
		}
		if got == nil {
			t.Errorf("Zeek's flow %s (%s, %s) not found: roles differ", key, z["conn_state"], z["history"])
			continue
		}
		for _, fld := range fields {
			if z[fld] == "-" {
				continue // Zeek logs sizes only when duration > 0
			}
			if g := flowField(got, fld); g != z[fld] {
				t.Errorf("%s %s: zeek %s, ours %s", key, fld, z[fld], g)
			}
		}
	}
}

// TestLikelyServerRoles checks the originator of flows whose first packet
// does not settle it (TCP without a SYN, any UDP) against Zeek's rules,
// read from its source (zeek/zeek a13de64f): TCPAnalyzer::WantConnection
// flips a SYN-less connection when the source port is a likely server port
// and the destination port is not, or both are and the source port is the
// smaller; UDPAnalyzer::WantConnection flips when only the source port is
// one; IPBasedAnalyzer::NewConn never flips toward 255.255.255.255. Likely
// server ports are those of zeekServerPorts: 8443/tcp, 23/tcp, 1900/udp
// and 4500/udp are not registered by any base script; 5223/tcp (ssl) and
// 2152/udp (GTPv1) are.
func TestLikelyServerRoles(t *testing.T) {
	tests := []struct {
		proto        uint8
		src, dst     string
		sport, dport uint16
		flipped      bool
	}{
		{protoTCP, "10.0.0.2", "10.0.0.1", 80, 40000, true},
		{protoTCP, "10.0.0.2", "10.0.0.1", 5223, 40000, true},
		{protoTCP, "10.0.0.2", "10.0.0.1", 8443, 40000, false},
		{protoTCP, "10.0.0.2", "10.0.0.1", 23, 40000, false},
		{protoTCP, "10.0.0.2", "10.0.0.1", 80, 8080, true},   // both likely: the smaller port is the server
		{protoTCP, "10.0.0.2", "10.0.0.1", 8080, 80, false},  // both likely, source port larger
		{protoTCP, "10.0.0.2", "10.0.0.1", 40000, 80, false}, // from the client
		{protoTCP, "10.0.0.2", "255.255.255.255", 80, 40000, false},
		{protoUDP, "10.0.0.2", "10.0.0.1", 123, 40000, true},
		{protoUDP, "10.0.0.2", "10.0.0.1", 2152, 40000, true},
		{protoUDP, "10.0.0.2", "10.0.0.1", 1900, 40000, false},
		{protoUDP, "10.0.0.2", "10.0.0.1", 4500, 40000, false},
		{protoUDP, "10.0.0.2", "10.0.0.1", 53, 5353, false}, // both likely: UDP never flips
		{protoUDP, "10.0.0.2", "10.0.0.1", 67, 68, true},
		{protoUDP, "10.0.0.2", "255.255.255.255", 67, 68, false},
	}
	for _, tt := range tests {
		sink := &recSink{}
		tr := NewTracker(DefaultOptions(), sink)
		p := pkt(tt.src, tt.dst, tt.sport, tt.dport, fA, 1000, 2000, "data")
		if tt.proto == protoUDP {
			p.IPProto, p.HasTCP, p.TCPFlags = protoUDP, false, 0
		}
		tr.Process(1, 1e18, p)
		tr.Close(1e18)
		if len(sink.flows) != 1 {
			t.Fatalf("%+v: %d flows", tt, len(sink.flows))
		}
		f := sink.flows[0]
		got := f.OrigP == tt.dport && f.OrigH.String() == tt.dst
		if got != tt.flipped || got != strings.HasPrefix(f.History, "^") {
			t.Errorf("%s %s:%d -> %s:%d: originator %s:%d, history %q; want flipped %v",
				protoName(tt.proto), tt.src, tt.sport, tt.dst, tt.dport, f.OrigH, f.OrigP, f.History, tt.flipped)
		}
	}
}
