package metrics

import (
	"math"
	"sort"
)

// Value is one metric's value and the sample size behind it: the
// denominator of a rate, the number of timed transactions behind a
// percentile. V is NaN when the metric is undefined (no samples).
type Value struct {
	V float64
	N int64
}

// Defined reports whether the value exists.
func (v Value) Defined() bool { return !math.IsNaN(v.V) }

func undefined() Value { return Value{V: math.NaN()} }

// Metrics maps metric names to values.
type Metrics map[string]Value

// Get returns the named value, undefined when absent.
func (m Metrics) Get(name string) Value {
	if v, ok := m[name]; ok {
		return v
	}
	return undefined()
}

// Group is the metrics of one subject (an endpoint, a host, a server).
type Group struct {
	Metrics Metrics
	// Status counts responses by status code (endpoints and HTTP hosts).
	Status map[int]int64
}

// HostItem is a server host: an address contacted ("ip"), or a name
// (HTTP Host header "http", TLS server name "tls", DNS query name "dns").
type HostItem struct {
	Kind string
	Name string
}

func (h HostItem) String() string { return h.Kind + " " + h.Name }

// Capture is one capture a snapshot measured.
type Capture struct {
	ID        int32
	Path      string
	Packets   int64
	Bytes     int64
	DurationS float64
	Complete  bool
}

// Snapshot is every metric of a set of captures.
type Snapshot struct {
	// Source names what was measured (a file, a database and capture ids).
	Source   string
	Captures []Capture
	Global   Metrics
	// Endpoints, HTTPHosts and Servers hold the per-subject metrics;
	// Servers is keyed by server address (TCP connections whose SYN was
	// seen).
	Endpoints map[Endpoint]*Group
	HTTPHosts map[string]*Group
	Servers   map[string]*Group
	// Hosts and Ports are the servers contacted, with the number of flows
	// (or HTTP requests, for host names) seen.
	Hosts map[HostItem]int64
	Ports map[string]int64
	// TLSVersions are the TLS versions seen, when the database records them.
	TLSVersions map[string]int64
	// Notes say where a bound cut the data short.
	Notes []string
}

func newSnapshot() *Snapshot {
	return &Snapshot{
		Global:      Metrics{},
		Endpoints:   map[Endpoint]*Group{},
		HTTPHosts:   map[string]*Group{},
		Servers:     map[string]*Group{},
		Hosts:       map[HostItem]int64{},
		Ports:       map[string]int64{},
		TLSVersions: map[string]int64{},
	}
}

// sortedEndpoints returns the endpoints of s busiest first (ties by key).
func (s *Snapshot) sortedEndpoints() []Endpoint {
	eps := make([]Endpoint, 0, len(s.Endpoints))
	for e := range s.Endpoints {
		eps = append(eps, e)
	}
	sort.Slice(eps, func(i, j int) bool {
		a, b := s.Endpoints[eps[i]].Metrics.Get("http.requests").V, s.Endpoints[eps[j]].Metrics.Get("http.requests").V
		if a != b {
			return a > b
		}
		return eps[i].String() < eps[j].String()
	})
	return eps
}

func sortedKeys[K comparable](m map[K]int64, str func(K) string) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return str(ks[i]) < str(ks[j])
	})
	return ks
}
