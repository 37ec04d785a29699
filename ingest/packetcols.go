package ingest

import (
	"encoding/binary"
	"net/netip"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
)

// packetBuilder turns a decoded batch into the Arrow columns of the packets_data
// table, all but the two flow columns (flow_id, from_resp), which the
// collector adds once the shards have run. One per decode worker.
type packetBuilder struct {
	captureID int32

	capture                         *array.Int32Builder
	frame                           *array.Int64Builder
	ts                              *array.TimestampBuilder
	iface, linkType, capLen, origLn *array.Int32Builder
	offset                          *array.Int64Builder
	ethSrc, ethDst                  *array.Uint64Builder
	vlan, etherType                 *array.Uint16Builder
	ipVersion                       *array.Uint8Builder
	srcIP4, dstIP4                  *array.Uint32Builder
	srcIP6, dstIP6                  *array.StringBuilder
	ipProto, ttl                    *array.Uint8Builder
	ipID                            *array.Uint32Builder
	isFrag                          *array.BooleanBuilder
	srcPort, dstPort                *array.Uint16Builder
	flags                           *array.Uint16Builder
	seq, ack                        *array.Uint32Builder
	win                             *array.Uint16Builder
	payloadLen                      *array.Int32Builder
	icmpType, icmpCode              *array.Uint8Builder

	all     []array.Builder
	scratch []byte
}

// packetFlowCols is the number of trailing packets_data columns the
// collector fills (flow_id, from_resp).
const packetFlowCols = 2

func newPacketBuilder(mem memory.Allocator, captureID int32) *packetBuilder {
	b := &packetBuilder{captureID: captureID, scratch: make([]byte, 0, 64)}
	t := schema.PacketsData
	add := func(name string) array.Builder {
		c := t.Columns[t.Index(name)]
		bl := array.NewBuilder(mem, c.Type)
		if len(b.all) != t.Index(name) {
			panic("ingest: packet columns out of schema order at " + name)
		}
		b.all = append(b.all, bl)
		return bl
	}
	b.capture = add("capture_id").(*array.Int32Builder)
	b.frame = add("frame").(*array.Int64Builder)
	b.ts = add("ts").(*array.TimestampBuilder)
	b.iface = add("iface").(*array.Int32Builder)
	b.linkType = add("link_type").(*array.Int32Builder)
	b.capLen = add("cap_len").(*array.Int32Builder)
	b.origLn = add("orig_len").(*array.Int32Builder)
	b.offset = add("file_offset").(*array.Int64Builder)
	b.ethSrc = add("eth_src_int").(*array.Uint64Builder)
	b.ethDst = add("eth_dst_int").(*array.Uint64Builder)
	b.vlan = add("vlan").(*array.Uint16Builder)
	b.etherType = add("ether_type").(*array.Uint16Builder)
	b.ipVersion = add("ip_version").(*array.Uint8Builder)
	b.srcIP4 = add("src_ip4").(*array.Uint32Builder)
	b.srcIP6 = add("src_ip6").(*array.StringBuilder)
	b.dstIP4 = add("dst_ip4").(*array.Uint32Builder)
	b.dstIP6 = add("dst_ip6").(*array.StringBuilder)
	b.ipProto = add("ip_proto").(*array.Uint8Builder)
	b.ttl = add("ttl").(*array.Uint8Builder)
	b.ipID = add("ip_id").(*array.Uint32Builder)
	b.isFrag = add("is_fragment").(*array.BooleanBuilder)
	b.srcPort = add("src_port").(*array.Uint16Builder)
	b.dstPort = add("dst_port").(*array.Uint16Builder)
	b.flags = add("tcp_flags_bits").(*array.Uint16Builder)
	b.seq = add("tcp_seq").(*array.Uint32Builder)
	b.ack = add("tcp_ack").(*array.Uint32Builder)
	b.win = add("tcp_win").(*array.Uint16Builder)
	b.payloadLen = add("payload_len").(*array.Int32Builder)
	b.icmpType = add("icmp_type").(*array.Uint8Builder)
	b.icmpCode = add("icmp_code").(*array.Uint8Builder)
	if len(b.all)+packetFlowCols != len(t.Columns) {
		panic("ingest: packet builder does not cover the packets schema")
	}
	return b
}

func (b *packetBuilder) release() {
	for _, bl := range b.all {
		bl.Release()
	}
}

// macInt is a MAC address as a 48-bit number, first octet most significant
// (packets_data.eth_src_int; the packets view formats it).
func macInt(m *[6]byte) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}

// appendIP stores an IPv4 address as a number, anything else as text.
func (b *packetBuilder) appendIP(v4 *array.Uint32Builder, v6 *array.StringBuilder, a netip.Addr) {
	if a.Is4() {
		x := a.As4()
		v4.UnsafeAppend(binary.BigEndian.Uint32(x[:]))
		v6.AppendNull()
		return
	}
	v4.UnsafeAppendBoolToBitmap(false)
	b.scratch = a.AppendTo(b.scratch[:0])
	v6.BinaryBuilder.Append(b.scratch)
}

// build appends every packet of the batch and returns the finished columns.
func (b *packetBuilder) build(bt *batch) []arrow.Array {
	n := len(bt.meta)
	for _, bl := range b.all {
		bl.Reserve(n)
	}
	for i := 0; i < n; i++ {
		m := &bt.meta[i]
		p := &bt.pkts[i]
		b.capture.UnsafeAppend(b.captureID)
		b.frame.UnsafeAppend(bt.firstFrame + int64(i))
		if m.noTs {
			b.ts.UnsafeAppendBoolToBitmap(false)
		} else {
			b.ts.UnsafeAppend(arrow.Timestamp(m.ts))
		}
		b.iface.UnsafeAppend(m.iface)
		b.linkType.UnsafeAppend(int32(m.linkType))
		b.capLen.UnsafeAppend(m.capLen)
		b.origLn.UnsafeAppend(m.origLen)
		if m.offset >= 0 {
			b.offset.UnsafeAppend(m.offset)
		} else { // a live capture without a pcapng copy
			b.offset.UnsafeAppendBoolToBitmap(false)
		}
		if p.HasEth {
			b.ethSrc.UnsafeAppend(macInt(&p.EthSrc))
			b.ethDst.UnsafeAppend(macInt(&p.EthDst))
		} else {
			b.ethSrc.UnsafeAppendBoolToBitmap(false)
			b.ethDst.UnsafeAppendBoolToBitmap(false)
		}
		if p.HasVLAN {
			b.vlan.UnsafeAppend(p.VLAN)
		} else {
			b.vlan.UnsafeAppendBoolToBitmap(false)
		}
		if p.EtherType != 0 {
			b.etherType.UnsafeAppend(p.EtherType)
		} else {
			b.etherType.UnsafeAppendBoolToBitmap(false)
		}
		if p.IPVersion != 0 {
			b.ipVersion.UnsafeAppend(p.IPVersion)
			b.appendIP(b.srcIP4, b.srcIP6, p.SrcIP)
			b.appendIP(b.dstIP4, b.dstIP6, p.DstIP)
			b.ipProto.UnsafeAppend(p.IPProto)
			b.ttl.UnsafeAppend(p.TTL)
			b.isFrag.UnsafeAppend(p.IsFragment)
		} else {
			b.ipVersion.UnsafeAppendBoolToBitmap(false)
			b.srcIP4.UnsafeAppendBoolToBitmap(false)
			b.srcIP6.AppendNull()
			b.dstIP4.UnsafeAppendBoolToBitmap(false)
			b.dstIP6.AppendNull()
			b.ipProto.UnsafeAppendBoolToBitmap(false)
			b.ttl.UnsafeAppendBoolToBitmap(false)
			b.isFrag.UnsafeAppendBoolToBitmap(false)
		}
		if p.HasIPID {
			b.ipID.UnsafeAppend(p.IPID)
		} else {
			b.ipID.UnsafeAppendBoolToBitmap(false)
		}
		if p.HasPorts {
			b.srcPort.UnsafeAppend(p.SrcPort)
			b.dstPort.UnsafeAppend(p.DstPort)
			b.payloadLen.UnsafeAppend(int32(p.PayloadLen))
		} else {
			b.srcPort.UnsafeAppendBoolToBitmap(false)
			b.dstPort.UnsafeAppendBoolToBitmap(false)
			if p.HasICMP {
				b.payloadLen.UnsafeAppend(int32(p.PayloadLen))
			} else {
				b.payloadLen.UnsafeAppendBoolToBitmap(false)
			}
		}
		if p.HasTCP {
			b.flags.UnsafeAppend(p.TCPFlags)
			b.seq.UnsafeAppend(p.Seq)
			b.ack.UnsafeAppend(p.Ack)
			b.win.UnsafeAppend(p.Win)
		} else {
			b.flags.UnsafeAppendBoolToBitmap(false)
			b.seq.UnsafeAppendBoolToBitmap(false)
			b.ack.UnsafeAppendBoolToBitmap(false)
			b.win.UnsafeAppendBoolToBitmap(false)
		}
		if p.HasICMP {
			b.icmpType.UnsafeAppend(p.ICMPType)
			b.icmpCode.UnsafeAppend(p.ICMPCode)
		} else {
			b.icmpType.UnsafeAppendBoolToBitmap(false)
			b.icmpCode.UnsafeAppendBoolToBitmap(false)
		}
	}
	cols := make([]arrow.Array, len(b.all))
	for i, bl := range b.all {
		cols[i] = bl.NewArray()
	}
	return cols
}
