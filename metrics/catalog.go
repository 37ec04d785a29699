package metrics

import "sort"

// Unit is the unit of a metric's value.
type Unit int

// Units. Rates are in percent (0-100), latencies in milliseconds.
const (
	Count Unit = iota
	Percent
	Millis
	Seconds
	PerSecond
	Bytes
)

func (u Unit) String() string {
	switch u {
	case Percent:
		return "%"
	case Millis:
		return "ms"
	case Seconds:
		return "s"
	case PerSecond:
		return "/s"
	case Bytes:
		return "bytes"
	}
	return ""
}

// Level says which subjects carry a metric.
type Level uint8

// Levels: the whole capture, each HTTP endpoint, each HTTP host name,
// each server address (TCP), and the comparison of two captures (the
// new_ and gone_ counts, which only pcapq diff has).
const (
	Global Level = 1 << iota
	PerEndpoint
	PerHTTPHost
	PerServer
	DiffOnly
)

// Def describes one metric.
type Def struct {
	Name   string
	Unit   Unit
	Levels Level
	// MinSamples is the sample size (N of Value) both captures need before
	// a diff rule on the metric is evaluated: a percentile of 3 requests or
	// a rate over 10 packets moves by chance.
	MinSamples int64
	Help       string
}

// Protocols of the volume.<proto>.* metrics.
var Protocols = []string{"tcp", "udp", "icmp", "icmp6", "other", "non-ip"}

// ConnStates are Zeek's TCP conn_state values (tcp.conn_state.<state>).
var ConnStates = []string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}

var pcts = []struct {
	name string
	q    float64
	min  int64
}{{"p50", 0.5, 20}, {"p90", 0.9, 50}, {"p99", 0.99, 200}}

// Catalog lists every metric, in report order.
var Catalog = buildCatalog()

var byName = func() map[string]*Def {
	m := map[string]*Def{}
	for i := range Catalog {
		m[Catalog[i].Name] = &Catalog[i]
	}
	return m
}()

// Lookup returns the metric named name.
func Lookup(name string) (*Def, bool) {
	d, ok := byName[name]
	return d, ok
}

// Names lists the metric names, sorted.
func Names() []string {
	var n []string
	for _, d := range Catalog {
		n = append(n, d.Name)
	}
	sort.Strings(n)
	return n
}

func buildCatalog() []Def {
	var c []Def
	add := func(name string, u Unit, l Level, min int64, help string) {
		c = append(c, Def{Name: name, Unit: u, Levels: l, MinSamples: min, Help: help})
	}
	add("capture.duration_s", Seconds, Global, 0, "sum over the captures of last minus first packet time")
	add("volume.packets", Count, Global, 0, "packets")
	add("volume.bytes", Bytes, Global, 0, "bytes on the wire (orig_len)")
	add("volume.flows", Count, Global, 0, "flows (TCP connections, UDP and ICMP flows)")
	add("volume.packets_per_s", PerSecond, Global, 0, "packets per second of capture")
	add("volume.bytes_per_s", PerSecond, Global, 0, "bytes on the wire per second of capture")
	add("volume.flows_per_s", PerSecond, Global, 0, "flows per second of capture")
	for _, p := range Protocols {
		add("volume."+p+".packets_per_s", PerSecond, Global, 0, p+" packets per second of capture")
		add("volume."+p+".bytes_per_s", PerSecond, Global, 0, p+" bytes on the wire per second of capture")
		if p != "non-ip" {
			add("volume."+p+".flows_per_s", PerSecond, Global, 0, p+" flows per second of capture")
		}
	}
	tcp := Global | PerServer
	add("tcp.connections", Count, tcp, 0, "TCP connections")
	// Episodes are rare events: 5000 packets make one more or less move
	// the rate by 0.02 points.
	add("tcp.retransmit_rate", Percent, tcp, 5000, "retransmission episodes per TCP packet: a segment flagged as retransmitted, or packets lost before the capture point (IPv4 ID gaps), with no other one in the same direction of the connection in the 10 ms before")
	add("tcp.flagged_retransmit_rate", Percent, tcp, 1000, "segments the capture flags as retransmitted (flows.retransmits: tshark's retransmission, fast and spurious retransmission) per TCP packet")
	add("tcp.upstream_loss_rate", Percent, tcp, 1000, "TCP packets lost before the capture point, from gaps in the IPv4 identification of senders that number each connection's packets (Linux), per TCP packet sent")
	// Connection-level rates need 100 connections: a load generator that
	// resets its few connections when it stops moves the rate of 32
	// connections by 9-25 points (measured on mkcapture recordings).
	add("tcp.reset_rate", Percent, tcp, 100, "TCP connections with a RST from either side (history R or r), REJ included")
	for _, p := range pcts {
		add("tcp."+p.name+"_handshake_rtt_ms", Millis, tcp, p.min, p.name+" of the handshake RTT (SYN to the ACK of the SYN-ACK)")
	}
	for _, s := range ConnStates {
		add("tcp.conn_state."+s, Percent, tcp, 100, "TCP connections in Zeek conn_state "+s)
	}
	http := Global | PerEndpoint | PerHTTPHost
	add("http.requests", Count, http, 0, "HTTP requests (transactions whose request was seen)")
	add("http.requests_per_s", PerSecond, http, 0, "HTTP requests per second of capture")
	for _, cl := range []string{"2xx", "3xx", "4xx", "5xx"} {
		add("http."+cl+"_rate", Percent, http, 20, "answered requests with a "+cl+" status")
	}
	add("http.unanswered_rate", Percent, http, 20, "requests without a response")
	add("http.error_rate", Percent, http, 20, "transactions with a parse or decoding error (http.error)")
	for _, p := range pcts {
		add("http."+p.name+"_ttfb_ms", Millis, http, p.min, p.name+" of time to first byte (http.ttfb_ms)")
	}
	for _, p := range pcts {
		add("http."+p.name+"_duration_ms", Millis, http, p.min, p.name+" of request start to response end (http.duration_ms)")
	}
	add("http.resp_bytes", Bytes, http, 0, "response body bytes (decoded)")
	add("http.mean_resp_bytes", Bytes, http, 20, "mean response body bytes")
	add("hosts", Count, Global, 0, "server hosts: addresses contacted and names (HTTP Host, TLS server name, DNS query name where recorded)")
	add("ports", Count, Global, 0, "server ports contacted (tcp/N, udp/N)")
	add("endpoints", Count, Global, 0, "HTTP endpoints (method, host, path template)")
	for _, s := range []string{"hosts", "ports", "endpoints"} {
		add("new_"+s, Count, DiffOnly, 0, s+" in NEW that BASE does not have (allowlisted ones excepted)")
		add("gone_"+s, Count, DiffOnly, 0, s+" in BASE that NEW does not have")
	}
	return c
}
