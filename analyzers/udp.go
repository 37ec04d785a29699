package analyzers

import (
	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/tcpsession"
)

// UDP runs the UDP analyzers of one shard: a Datagram handler per flow
// whose ports a UDP analyzer wants, made at the flow's first such packet,
// closed when the flow ends.
type UDP struct {
	set   *Set
	env   *Env
	flows map[int64]Datagram
}

// NewUDP returns the UDP state of one shard; nil when no analyzer reads
// UDP.
func (s *Set) NewUDP(env *Env) *UDP {
	if len(s.udp) == 0 {
		return nil
	}
	return &UDP{set: s, env: env, flows: map[int64]Datagram{}}
}

// Wants reports whether a UDP packet between these ports goes to an
// analyzer: two bitmap lookups, so flows no analyzer reads cost nothing
// more per packet.
func (u *UDP) Wants(sport, dport uint16) bool {
	p := &u.set.udpPorts
	return p[sport/64]&(1<<(sport%64)) != 0 || p[dport/64]&(1<<(dport%64)) != 0
}

// Packet hands the payload of p, a datagram of flow flowID in direction
// dir (as tcpsession.Tracker.Process returned them), to the flow's
// handler, made on first use by the first analyzer whose ports match.
func (u *UDP) Packet(flowID int64, dir tcpsession.Dir, p *decode.Packet, ts, frame int64) {
	h, ok := u.flows[flowID]
	if !ok {
		f := &FlowInfo{FlowID: flowID, OrigH: p.SrcIP, OrigP: p.SrcPort, RespH: p.DstIP, RespP: p.DstPort}
		if dir == tcpsession.DirResp {
			f.OrigH, f.OrigP, f.RespH, f.RespP = p.DstIP, p.DstPort, p.SrcIP, p.SrcPort
		}
		f.CommunityID = tcpsession.CommunityID(0, f.OrigH, f.RespH, 17, f.OrigP, f.RespP, true)
		for _, a := range u.set.udp {
			if hasPort(a.UDPPorts, f.OrigP) || hasPort(a.UDPPorts, f.RespP) {
				h = a.NewDatagram(f, u.env)
				break
			}
		}
		u.flows[flowID] = h
	}
	if h != nil {
		h.Datagram(dir, p.Payload, ts, frame)
	}
}

func hasPort(ps []uint16, p uint16) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// End closes flow flowID's handler, if it has one, and returns the
// service it recognised ("" when none).
func (u *UDP) End(flowID int64, ts int64) string {
	h, ok := u.flows[flowID]
	if !ok {
		return ""
	}
	delete(u.flows, flowID)
	if h == nil {
		return ""
	}
	s := h.Service()
	h.Close(ts)
	return s
}
