package live

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"

	"github.com/pcapq/pcapq/source"
)

// filterSnaplen is the capture length filters are compiled for: the
// largest record a capture file may hold.
const filterSnaplen = source.MaxRecordLen

// Filter returns a Reader that yields the records of r that match the BPF
// expression expr, compiled by libpcap for each record's link type (as
// tcpdump -r FILE EXPR does). The records that pass are numbered from 1
// as frames, as in a file tcpdump -w would write; their file_offset is
// still their place in r's file. The expression is checked at once
// against Ethernet; a link type it cannot be compiled for stops reading
// with an error that names both. The other methods are r's: closing the
// filter closes r, BytesRead is r's progress.
func Filter(r source.Reader, expr string) (source.Reader, error) {
	if err := CheckFilter(expr); err != nil {
		return nil, err
	}
	return &filtered{Reader: r, expr: expr, progs: map[uint32]*pcap.BPF{}}, nil
}

type filtered struct {
	source.Reader
	expr  string
	progs map[uint32]*pcap.BPF
	// last caches the program of the last link type.
	lastLT   uint32
	last     *pcap.BPF
	rejected int64
}

func (f *filtered) prog(lt uint32) (*pcap.BPF, error) {
	if f.last != nil && lt == f.lastLT {
		return f.last, nil
	}
	p, ok := f.progs[lt]
	if !ok {
		var err error
		p, err = pcap.NewBPF(layers.LinkType(lt), filterSnaplen, f.expr)
		if err != nil {
			return nil, fmt.Errorf("filter %q for link type %s: %v", f.expr, source.LinkTypeName(lt), err)
		}
		f.progs[lt] = p
	}
	f.lastLT, f.last = lt, p
	return p, nil
}

// Next returns the next record that matches.
func (f *filtered) Next(r *source.Record) error {
	for {
		if err := f.Reader.Next(r); err != nil {
			return err
		}
		p, err := f.prog(r.LinkType)
		if err != nil {
			return err
		}
		if p.Matches(gopacket.CaptureInfo{CaptureLength: r.CapLen, Length: r.OrigLen}, r.Data) {
			return nil
		}
		f.rejected++
	}
}

// Rejected is how many records the filter left out so far.
func (f *filtered) Rejected() int64 { return f.rejected }

// CheckFilter compiles expr for Ethernet and returns libpcap's error, if
// any, so that a bad expression fails before anything is read.
func CheckFilter(expr string) error {
	if _, err := pcap.NewBPF(layers.LinkTypeEthernet, filterSnaplen, expr); err != nil {
		return fmt.Errorf("filter %q: %v", expr, err)
	}
	return nil
}
