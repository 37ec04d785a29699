package dns

import (
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/streamtest"
	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/tcpsession"
)

// tcpAdapter feeds a TCP stream to a Conn.
type tcpAdapter struct{ c *Conn }

func (a tcpAdapter) Data(d tcpsession.Dir, b []byte, ts, frame int64) {
	a.c.Stream(int(d)-1, b, ts, frame)
}
func (a tcpAdapter) Gap(d tcpsession.Dir, n, ts, frame int64) { a.c.Gap(int(d)-1, n, frame) }
func (a tcpAdapter) Close(ts int64)                           { a.c.Close(ts) }
func (a tcpAdapter) Service() string                          { return "" }

func isDNSPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }

// dnsRows runs the DNS analyzer over every UDP and TCP flow of a capture
// with a DNS port (the test harness decides by port; content detection is
// the pipeline's job).
func dnsRows(t *testing.T, path string) []*Row {
	t.Helper()
	s := &recSink{}
	udp := map[streamtest.UDPKey]*Conn{}
	var order []*Conn
	streamtest.Run(t, path, func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
		if !isDNSPort(f.RespP) && !isDNSPort(f.OrigP) {
			return nil
		}
		return tcpAdapter{NewConn(f.FlowID, f.CommunityID, "tcp", s)}
	}, func(d *streamtest.Datagram) {
		if !isDNSPort(d.Key.RespP) && !isDNSPort(d.Key.OrigP) {
			return
		}
		c := udp[d.Key]
		if c == nil {
			c = NewConn(d.Frame, "", "udp", s)
			udp[d.Key] = c
			order = append(order, c)
		}
		c.Datagram(d.Payload, d.Ts, d.Frame)
	})
	for _, c := range order {
		c.Close(0)
	}
	return s.rows
}

type tsharkDNS struct {
	frame, respTo int64
	resp          bool
	id            uint16
	query         string
	rcode         int
	answers       int
	auth, add     int
	addrs         []string // dns.a and dns.aaaa
}

func tsharkDNSMessages(t *testing.T, path string) []tsharkDNS {
	t.Helper()
	tshark := testenv.Tool(t, "tshark")
	out, err := exec.Command(tshark, "-n", "-r", path, "-Y", "(dns || mdns || llmnr) && !icmp && !icmpv6",
		"-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "frame.number", "-e", "dns.flags.response", "-e", "dns.id", "-e", "dns.qry.name", "-e", "dns.flags.rcode",
		"-e", "dns.response_to", "-e", "dns.count.answers", "-e", "dns.count.auth_rr", "-e", "dns.count.add_rr",
		"-e", "dns.a", "-e", "dns.aaaa").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var msgs []tsharkDNS
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < 11 {
			f = append(f, "")
		}
		if strings.Contains(f[2], ",") {
			t.Fatalf("frame %s: several DNS messages in one frame; this test wants one", f[0])
		}
		var m tsharkDNS
		m.frame, _ = strconv.ParseInt(f[0], 10, 64)
		m.resp = f[1] == "1" || f[1] == "True"
		id, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 16)
		if err != nil {
			t.Fatalf("frame %d: dns.id %q", m.frame, f[2])
		}
		m.id = uint16(id)
		m.query = strings.ToLower(strings.Split(f[3], ",")[0])
		m.rcode, _ = strconv.Atoi(f[4])
		m.respTo, _ = strconv.ParseInt(f[5], 10, 64)
		m.answers, _ = strconv.Atoi(f[6])
		m.auth, _ = strconv.Atoi(f[7])
		m.add, _ = strconv.Atoi(f[8])
		for _, a := range append(strings.Split(f[9], ","), strings.Split(f[10], ",")...) {
			if a != "" {
				m.addrs = append(m.addrs, a)
			}
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// TestDNSAgainstTshark: for every DNS response tshark dissects, our row has
// the same trans_id, query, rcode and the query frame tshark pairs it with
// (dns.response_to); every query tshark leaves unanswered is a row with
// missing = 'response'; no other rows. Where the response has no authority
// or additional records, the A/AAAA answers equal tshark's dns.a/dns.aaaa.
func TestDNSAgainstTshark(t *testing.T) {
	corpus := testcorpus.Dir(t)
	files := []string{filepath.Join("..", "..", "testdata", "mkcapture-proto.pcap")}
	for _, f := range []string{"tcpdump-dns_tcp.pcap", "zeek-wikipedia.pcap", "tcpdump-LINKTYPE_RAW_ipv4.pcap",
		"tcpdump-LINKTYPE_IPV4.pcap", "tcpdump-LINKTYPE_IPV6.pcap", "tcpdump-nflog.pcap",
		"zeek-pcapng-multi-interface.pcapng"} {
		files = append(files, filepath.Join(corpus, "pcaps", f))
	}
	total := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			msgs := tsharkDNSMessages(t, path)
			rows := dnsRows(t, path)
			byResp := map[int64]*Row{}
			byQuery := map[int64]*Row{}
			for _, r := range rows {
				if r.RespFrame != 0 {
					byResp[r.RespFrame] = r
				}
				if r.QueryFrame != 0 {
					byQuery[r.QueryFrame] = r
				}
			}
			answered := map[int64]bool{}
			want := 0
			for _, m := range msgs {
				if !m.resp {
					continue
				}
				want++
				answered[m.respTo] = true
				r := byResp[m.frame]
				if r == nil {
					t.Errorf("response frame %d (id %#x %s): no row", m.frame, m.id, m.query)
					continue
				}
				total++
				if r.TransID != m.id || r.Query != m.query || int(r.Rcode) != m.rcode || r.QueryFrame != m.respTo {
					t.Errorf("response frame %d: row id %#x query %q rcode %d query_frame %d; tshark %#x %q %d %d",
						m.frame, r.TransID, r.Query, r.Rcode, r.QueryFrame, m.id, m.query, m.rcode, m.respTo)
				}
				if m.auth == 0 && m.add == 0 {
					var ours []string
					for _, a := range r.Answers {
						if strings.Count(a, ".") == 3 && !strings.ContainsAny(a, " <") || strings.Contains(a, ":") && !strings.Contains(a, " ") {
							ours = append(ours, a)
						}
					}
					sort.Strings(ours)
					theirs := append([]string(nil), m.addrs...)
					sort.Strings(theirs)
					if strings.Join(ours, ",") != strings.Join(theirs, ",") {
						t.Errorf("response frame %d: addresses %v, tshark %v", m.frame, ours, theirs)
					}
					if len(r.Answers) > m.answers {
						t.Errorf("response frame %d: %d answers, tshark counts %d", m.frame, len(r.Answers), m.answers)
					}
				}
			}
			for _, m := range msgs {
				if m.resp || answered[m.frame] {
					continue
				}
				want++
				r := byQuery[m.frame]
				if r == nil || r.Missing != "response" || r.TransID != m.id || r.Query != m.query {
					t.Errorf("unanswered query frame %d (id %#x %s): row %+v", m.frame, m.id, m.query, r)
				}
			}
			if len(rows) != want {
				t.Errorf("%d rows, tshark has %d responses + unanswered queries", len(rows), want)
			}
		})
	}
	if total < 20 {
		t.Errorf("only %d responses compared over %d captures; the test captures should hold more", total, len(files))
	}
}
