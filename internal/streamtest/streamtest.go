// Package streamtest runs a capture through decode and tcpsession for the
// analyzers' tests, without the ingest pipeline: reassembled TCP streams go
// to a tcpsession.StreamHandler the test makes, UDP datagrams to a
// callback with their flow's canonical key.
package streamtest

import (
	"net/netip"
	"testing"

	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/tcpsession"
)

// UDPKey names a UDP flow: the originator is the sender of its first
// datagram, as tcpsession and Zeek take it.
type UDPKey struct {
	OrigH, RespH netip.Addr
	OrigP, RespP uint16
}

// Datagram is one UDP payload with its flow and direction.
type Datagram struct {
	Key     UDPKey
	Orig    bool // sent by the flow's originator
	Frame   int64
	Ts      int64
	Payload []byte // valid only during the call
}

type nopSink struct{}

func (nopSink) Flow(*tcpsession.Flow)         {}
func (nopSink) Event(*tcpsession.Event)       {}
func (nopSink) Warning(int64, string, string) {}

// Run reads path and feeds its TCP streams to newStream (nil: none) and
// its UDP payloads to udp (nil: none). IP fragments are not reassembled.
func Run(t testing.TB, path string, newStream func(f *tcpsession.FlowInfo) tcpsession.StreamHandler, udp func(d *Datagram)) {
	t.Helper()
	opts := tcpsession.DefaultOptions()
	opts.NewStream = newStream
	tr := tcpsession.NewTracker(opts, nopSink{})
	flows := map[UDPKey]bool{}
	var p decode.Packet
	var last int64
	testcorpus.ForEachPacket(t, path, func(frame, ts int64, lt decode.LinkType, data []byte, origLen int) {
		decode.Decode(lt, data, origLen, &p)
		last = ts
		if newStream != nil {
			tr.Process(frame, ts, &p)
		}
		if udp == nil || p.IPProto != 17 || !p.HasPorts || p.IsFragment {
			return
		}
		k := UDPKey{p.SrcIP, p.DstIP, p.SrcPort, p.DstPort}
		rk := UDPKey{p.DstIP, p.SrcIP, p.DstPort, p.SrcPort}
		d := Datagram{Key: k, Orig: true, Frame: frame, Ts: ts, Payload: p.Payload}
		if flows[rk] {
			d.Key, d.Orig = rk, false
		} else {
			flows[k] = true
		}
		udp(&d)
	})
	if newStream != nil {
		tr.Close(last)
	}
}
