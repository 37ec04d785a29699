// Package live is pcapq's libpcap door (cgo, through gopacket's pcap
// package): the live capture source of
// source -> decode -> tcpsession -> analyzers -> schema (Arrow) -> query (DuckDB),
// and BPF filtering of capture files. It depends on package source only,
// not on the pipeline.
//
// Open starts a capture on an interface and returns a Source, a
// source.Reader the pipeline does not tell apart from a file reader: Next
// returns each packet with its capture time (nanoseconds when the kernel
// gives them), and io.EOF when the capture ends (Stop, Options.Count, or
// the device going away, reported by Err). Interrupt, which the pipeline
// calls when its run fails, is Stop; BytesRead counts the bytes captured;
// Close ends the capture (and its pcapng file). Captures use a 32 MiB kernel
// buffer (libpcap's 2 MB default drops under load) filled as tcpdump -w
// fills it: libpcap's TPACKET_V3 ring, packets packed into blocks that
// reach pcapq when full or 0.1 s after their first packet, well within
// the pipeline's 1 s commit. Options.Immediate is libpcap's immediate
// mode (each packet handed over as it arrives), which on Linux means a
// TPACKET_V2 ring of slots as large as the largest frame, a wake-up every
// few packets, and about half the rate of small packets held without
// drops on this machine (benchmarks/RESULTS.md). After Stop, Next
// returns what the kernel holds (the block being filled comes at the
// kernel's next block timer, before any timeout). The BPF expression is
// compiled by libpcap and run in the kernel. Cut ends one pipeline run
// without ending the capture (rotation). Stats returns libpcap's counters
// (received, dropped by the kernel, dropped by the interface), polled by
// the reading goroutine once a second because pcap_stats must not race
// with pcap_next_ex.
//
// With Options.Pcapng set, every packet is also written as pcapng (one
// section, one interface with nanosecond timestamps and the filter, an
// Enhanced Packet Block per packet, an Interface Statistics Block with the
// counters at the end), flushed at least once a second; each packet's
// Record.Offset is its block's offset in that file (-1 without it), as
// ingesting the file gives.
//
// Errors say what to do: a device that does not exist lists those that do
// (ErrNoDevice); missing privileges name the capabilities (CAP_NET_RAW and
// CAP_NET_ADMIN) and the setcap command (ErrPermission); a device removed
// during a capture ends it (ErrDeviceGone) and the packets read before are
// kept.
//
// Filter wraps any source.Reader (a capture file) with a BPF expression
// compiled by libpcap for each record's link type, as tcpdump -r FILE EXPR
// filters (the other methods are the wrapped Reader's: closing the filter
// closes the file); Devices lists the interfaces libpcap can capture on, with
// addresses and flags (pcap_findalldevs).
package live
