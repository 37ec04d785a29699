package live

import (
	"net"
	"net/netip"
	"sort"

	"github.com/gopacket/gopacket/pcap"
)

// libpcap's pcap_if_t flags (pcap/pcap.h).
const (
	pcapIfLoopback = 0x1
	pcapIfUp       = 0x2
	pcapIfRunning  = 0x4
	pcapIfWireless = 0x8
)

// Device is one capture device as libpcap lists it (pcap_findalldevs).
type Device struct {
	Name        string
	Description string
	// Addresses are the device's IPv4 and IPv6 addresses with their prefix
	// length (the full length when libpcap gives no netmask).
	Addresses []netip.Prefix
	Up        bool
	Running   bool
	Loopback  bool
	Wireless  bool
}

// Devices lists the devices libpcap can capture on, in libpcap's order
// (it puts up, running, non-loopback devices with addresses first).
func Devices() ([]Device, error) {
	ifs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(ifs))
	for _, i := range ifs {
		d := Device{
			Name:        i.Name,
			Description: i.Description,
			Up:          i.Flags&pcapIfUp != 0,
			Running:     i.Flags&pcapIfRunning != 0,
			Loopback:    i.Flags&pcapIfLoopback != 0,
			Wireless:    i.Flags&pcapIfWireless != 0,
		}
		for _, a := range i.Addresses {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			bits := ip.BitLen()
			if a.Netmask != nil {
				if ones, total := net.IPMask(a.Netmask).Size(); total == bits || total == 32 && bits == 32 {
					bits = ones
				}
			}
			d.Addresses = append(d.Addresses, netip.PrefixFrom(ip, bits))
		}
		sort.SliceStable(d.Addresses, func(x, y int) bool {
			return d.Addresses[x].Addr().Is4() && !d.Addresses[y].Addr().Is4()
		})
		out = append(out, d)
	}
	return out, nil
}

// Flags words the device's flags as ip-link does: "UP,RUNNING,LOOPBACK".
func (d Device) Flags() string {
	s := ""
	add := func(on bool, name string) {
		if !on {
			return
		}
		if s != "" {
			s += ","
		}
		s += name
	}
	add(d.Up, "UP")
	add(d.Running, "RUNNING")
	add(d.Loopback, "LOOPBACK")
	add(d.Wireless, "WIRELESS")
	return s
}
