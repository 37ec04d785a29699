package ingest

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/schema"
)

// packetBuilder turns a decoded batch into the Arrow columns of the packets
// table, all but the two flow columns (flow_id, direction), which the
// collector adds once the shards have run. One per decode worker.
type packetBuilder struct {
	captureID int32

	capture                         *array.Int32Builder
	frame                           *array.Int64Builder
	ts                              *array.TimestampBuilder
	iface, linkType, capLen, origLn *array.Int32Builder
	offset                          *array.Int64Builder
	ethSrc, ethDst                  *array.StringBuilder
	vlan, etherType                 *array.Uint16Builder
	ipVersion                       *array.Uint8Builder
	srcIP, dstIP                    *array.StringBuilder
	ipProto, ttl                    *array.Uint8Builder
	ipID                            *array.Uint32Builder
	isFrag                          *array.BooleanBuilder
	srcPort, dstPort                *array.Uint16Builder
	flags                           *array.StringBuilder
	seq, ack                        *array.Uint32Builder
	win                             *array.Uint16Builder
	payloadLen                      *array.Int32Builder
	icmpType, icmpCode              *array.Uint8Builder

	all     []array.Builder
	scratch []byte
}

// packetFlowCols is the number of trailing packets columns the collector fills.
const packetFlowCols = 2

func newPacketBuilder(mem memory.Allocator, captureID int32) *packetBuilder {
	b := &packetBuilder{captureID: captureID, scratch: make([]byte, 0, 64)}
	t := schema.Packets
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
	b.ethSrc = add("eth_src").(*array.StringBuilder)
	b.ethDst = add("eth_dst").(*array.StringBuilder)
	b.vlan = add("vlan").(*array.Uint16Builder)
	b.etherType = add("ether_type").(*array.Uint16Builder)
	b.ipVersion = add("ip_version").(*array.Uint8Builder)
	b.srcIP = add("src_ip").(*array.StringBuilder)
	b.dstIP = add("dst_ip").(*array.StringBuilder)
	b.ipProto = add("ip_proto").(*array.Uint8Builder)
	b.ttl = add("ttl").(*array.Uint8Builder)
	b.ipID = add("ip_id").(*array.Uint32Builder)
	b.isFrag = add("is_fragment").(*array.BooleanBuilder)
	b.srcPort = add("src_port").(*array.Uint16Builder)
	b.dstPort = add("dst_port").(*array.Uint16Builder)
	b.flags = add("tcp_flags").(*array.StringBuilder)
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

const hexdigits = "0123456789abcdef"

func appendMAC(dst []byte, m *[6]byte) []byte {
	for i, x := range m {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, hexdigits[x>>4], hexdigits[x&0xf])
	}
	return dst
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
		b.ts.UnsafeAppend(arrow.Timestamp(m.ts))
		b.iface.UnsafeAppend(m.iface)
		b.linkType.UnsafeAppend(int32(m.linkType))
		b.capLen.UnsafeAppend(m.capLen)
		b.origLn.UnsafeAppend(m.origLen)
		b.offset.UnsafeAppend(m.offset)
		if p.HasEth {
			b.scratch = appendMAC(b.scratch[:0], &p.EthSrc)
			b.ethSrc.BinaryBuilder.Append(b.scratch)
			b.scratch = appendMAC(b.scratch[:0], &p.EthDst)
			b.ethDst.BinaryBuilder.Append(b.scratch)
		} else {
			b.ethSrc.AppendNull()
			b.ethDst.AppendNull()
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
			b.scratch = p.SrcIP.AppendTo(b.scratch[:0])
			b.srcIP.BinaryBuilder.Append(b.scratch)
			b.scratch = p.DstIP.AppendTo(b.scratch[:0])
			b.dstIP.BinaryBuilder.Append(b.scratch)
			b.ipProto.UnsafeAppend(p.IPProto)
			b.ttl.UnsafeAppend(p.TTL)
			b.isFrag.UnsafeAppend(p.IsFragment)
		} else {
			b.ipVersion.UnsafeAppendBoolToBitmap(false)
			b.srcIP.AppendNull()
			b.dstIP.AppendNull()
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
			b.flags.Append(decode.FlagsText(p.TCPFlags))
			b.seq.UnsafeAppend(p.Seq)
			b.ack.UnsafeAppend(p.Ack)
			b.win.UnsafeAppend(p.Win)
		} else {
			b.flags.AppendNull()
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
