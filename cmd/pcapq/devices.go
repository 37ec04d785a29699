package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/source/live"
)

// DevicesCmd lists the interfaces libpcap can capture on.
type DevicesCmd struct{}

// Run prints one line per device: name, flags, addresses, description.
func (DevicesCmd) Run(g *Globals) error {
	devs, err := live.Devices()
	if err != nil {
		return fmt.Errorf("listing capture devices: %w", err)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tflags\taddresses\tdescription")
	for _, d := range devs {
		addrs := make([]string, len(d.Addresses))
		for i, a := range d.Addresses {
			addrs[i] = a.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", query.Escape(d.Name), d.Flags(), strings.Join(addrs, " "), query.Escape(d.Description))
	}
	return tw.Flush()
}
