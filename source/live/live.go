package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/pcap"

	"github.com/pcapq/pcapq/source"
)

// Defaults of Options.
const (
	// DefaultSnaplen is libpcap's and tcpdump's default: whole packets.
	DefaultSnaplen = 262144
	// DefaultBufferSize is the kernel ring buffer. libpcap's own default
	// (2 MB) drops under load: 32 MiB holds about 0.25 s of a saturated
	// 1 Gbit/s link (benchmarks/RESULTS.md measures what it holds here).
	DefaultBufferSize = 32 << 20
	// pollInterval is how long Next waits for a packet before it looks at
	// Stop and Cut, flushes the pcapng file and polls the statistics.
	pollInterval = 100 * time.Millisecond
	// housekeeping is how often the statistics are polled and the pcapng
	// file flushed while packets arrive.
	housekeeping = time.Second
	// drainMax bounds how long Next goes on reading what the kernel
	// holds after Stop, under a load that does not pause.
	drainMax = 500 * time.Millisecond
)

// Options configure a live capture.
type Options struct {
	Interface  string
	Snaplen    int    // bytes kept of each packet; 0: DefaultSnaplen
	Promisc    bool   // promiscuous mode
	BufferSize int    // kernel buffer in bytes; 0: DefaultBufferSize
	Filter     string // BPF expression compiled by libpcap; "" captures all
	// Count ends the capture after this many packets (0: no limit).
	Count int64
	// Pcapng, when set, receives every captured packet as a pcapng
	// stream (section, interface, one Enhanced Packet Block per packet,
	// statistics at the end), flushed at least once a second.
	Pcapng io.Writer
	// Application names the writer in the pcapng section header.
	Application string
	// Immediate delivers each packet as it arrives (libpcap's immediate
	// mode). libpcap on Linux then uses a TPACKET_V2 ring of fixed slots
	// as large as the interface's largest frame and wakes the reader for
	// every few packets; without it (tcpdump's default when writing a
	// file) the ring is TPACKET_V3, packets packed into blocks handed
	// over when full or pollInterval after their first packet: far more
	// small packets fit and far fewer wake-ups are needed
	// (benchmarks/RESULTS.md), at the cost of up to pollInterval of
	// delay, well inside the 1 s commit interval.
	Immediate bool
}

// Stats are libpcap's counters for the capture (pcap_stats).
type Stats struct {
	Received  int64 // packets the kernel handed to the filter (ps_recv)
	Dropped   int64 // packets dropped because the buffer was full (ps_drop)
	IfDropped int64 // packets dropped by the interface or its driver (ps_ifdrop)
	Captured  int64 // packets returned by Next
}

// Errors a capture can end with. Each is wrapped in an error that names
// the interface and says what to do.
var (
	ErrPermission = errors.New("live: no permission to capture")
	ErrNoDevice   = errors.New("live: no such capture device")
	ErrDeviceGone = errors.New("live: capture device went away")
)

// Source is a live capture on one interface. It implements
// source.Reader: Next returns each captured packet (its Data valid until
// the next call) and io.EOF when the capture ends (Stop, Count, Cut or
// the interface going away: see Err); Interrupt is Stop.
//
// Next must be called from one goroutine; Stop, Interrupt, Cut, Stats and
// BytesRead may be called from any.
type Source struct {
	opts     Options
	h        *pcap.Handle
	linkType uint32
	nano     bool
	pw       *pcapngWriter

	stop     atomic.Bool // Stop was called: read what the kernel holds, then end
	ended    atomic.Bool // the capture has ended: Next returns io.EOF
	drainEnd time.Time   // when Stop's draining gives up
	cut      atomic.Bool
	captured atomic.Int64
	bytes    atomic.Int64 // bytes of the packets captured (BytesRead)
	err      error        // set by Next when the interface went away
	errMu    sync.Mutex

	stats     atomic.Pointer[Stats]
	lastHouse time.Time
	dirty     bool // packets written to pcapng since the last flush
	firstTs   int64
	lastTs    int64
	closed    bool
}

// Open starts capturing on opts.Interface. Errors say what to do: a
// missing device lists the devices there are (ErrNoDevice), missing
// privileges name the capabilities needed (ErrPermission).
func Open(opts Options) (*Source, error) {
	if opts.Snaplen <= 0 {
		opts.Snaplen = DefaultSnaplen
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultBufferSize
	}
	if err := checkDevice(opts.Interface); err != nil {
		return nil, err
	}
	if err := checkPermission(opts.Interface); err != nil {
		return nil, err
	}
	in, err := pcap.NewInactiveHandle(opts.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %v", opts.Interface, err)
	}
	defer in.CleanUp()
	for _, step := range []struct {
		what string
		err  error
	}{
		{"snaplen", in.SetSnapLen(opts.Snaplen)},
		{"promiscuous mode", in.SetPromisc(opts.Promisc)},
		{"buffer size", in.SetBufferSize(opts.BufferSize)},
		{"immediate mode", in.SetImmediateMode(opts.Immediate)},
		{"read timeout", in.SetTimeout(pollInterval)},
	} {
		if step.err != nil {
			return nil, fmt.Errorf("capture on %s: setting %s: %v", opts.Interface, step.what, step.err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, activateError(opts.Interface, err)
	}
	s := &Source{opts: opts, h: h, linkType: uint32(h.LinkType()), lastHouse: time.Now()}
	s.nano = h.Resolution().ToDuration() == time.Nanosecond
	s.stats.Store(&Stats{})
	if opts.Filter != "" {
		if err := h.SetBPFFilter(opts.Filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("filter %q: %v", opts.Filter, err)
		}
	}
	if opts.Pcapng != nil {
		s.pw, err = newPcapngWriter(opts.Pcapng, s.linkType, opts.Snaplen, opts.Interface, opts.Filter, opts.Application)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("writing pcapng: %w", err)
		}
	}
	return s, nil
}

// checkDevice fails with the list of devices when name is not one.
func checkDevice(name string) error {
	devs, err := Devices()
	if err != nil {
		return nil // libpcap will say what is wrong
	}
	var names []string
	for _, d := range devs {
		if d.Name == name {
			return nil
		}
		names = append(names, d.Name)
	}
	if _, err := net.InterfaceByName(name); err == nil {
		return nil
	}
	return fmt.Errorf("%w: %q; the devices are: %s (pcapq devices lists them with addresses)", ErrNoDevice, name, strings.Join(names, ", "))
}

// PermissionHelp says how to get the privileges a capture needs.
func PermissionHelp() string {
	exe, err := os.Executable()
	if err != nil {
		exe = "pcapq"
	}
	return "capturing needs the CAP_NET_RAW and CAP_NET_ADMIN capabilities: run pcapq as root, " +
		"or give the binary these capabilities once with: sudo setcap cap_net_raw,cap_net_admin+eip " + exe
}

// checkPermission opens and closes the packet socket libpcap will need,
// so that missing privileges give a message that says what to do rather
// than libpcap's text.
func checkPermission(iface string) error {
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
	if err == nil {
		syscall.Close(fd)
		return nil
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w on %s: %s", ErrPermission, iface, PermissionHelp())
	}
	return nil
}

// activateError words pcap_activate's errors. gopacket's error type is
// not exported: its texts are matched.
func activateError(iface string, err error) error {
	switch msg := err.Error(); {
	case msg == "Permission Denied" || strings.Contains(msg, "ermission"):
		return fmt.Errorf("%w on %s: %s", ErrPermission, iface, PermissionHelp())
	case msg == "No Such Device":
		return checkDevice(iface)
	case msg == "Interface Not Up":
		return fmt.Errorf("capture on %s: the interface is down (ip link set %s up)", iface, iface)
	}
	return fmt.Errorf("capture on %s: %v", iface, err)
}

// Next returns the next captured packet (source.Reader). It waits for
// one; every pollInterval it looks whether the capture should end.
func (s *Source) Next(r *source.Record) error {
	for {
		if s.ended.Load() {
			return io.EOF
		}
		if s.stop.Load() {
			// Stopped: the packets already in the kernel's buffer are
			// read too (as long as they keep coming, for at most
			// drainMax), so that what was captured before the stop is
			// in the tables.
			now := time.Now()
			if s.drainEnd.IsZero() {
				s.drainEnd = now.Add(drainMax)
			}
			if now.After(s.drainEnd) {
				s.ended.Store(true)
				return io.EOF
			}
		}
		if s.cut.Swap(false) {
			s.housekeep(time.Now(), true)
			return io.EOF
		}
		if s.opts.Count > 0 && s.captured.Load() >= s.opts.Count {
			s.ended.Store(true)
			return io.EOF
		}
		data, ci, err := s.h.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, pcap.NextErrorTimeoutExpired) {
				s.housekeep(time.Now(), true)
				// Drained: nothing came for pollInterval. (Buffered, a
				// timeout is the kernel's block timer finding the block
				// being filled empty: one with packets is handed over
				// at that timer instead, so none is left behind.)
				if s.stop.Load() {
					s.ended.Store(true)
					return io.EOF
				}
				continue
			}
			if !errors.Is(err, io.EOF) {
				s.errMu.Lock()
				s.err = fmt.Errorf("capture on %s ended: %v (%w)", s.opts.Interface, describeReadError(s.h, err), ErrDeviceGone)
				s.errMu.Unlock()
			}
			s.ended.Store(true)
			return io.EOF
		}
		ts := ci.Timestamp.UnixNano()
		r.Ts = ts
		r.CapLen = len(data)
		r.OrigLen = ci.Length
		r.Iface = 0
		r.LinkType = s.linkType
		r.Data = data
		r.Offset = -1
		if s.pw != nil {
			off, err := s.pw.writePacket(ts, data, ci.Length)
			if err != nil {
				s.errMu.Lock()
				s.err = fmt.Errorf("writing pcapng: %w", err)
				s.errMu.Unlock()
				s.ended.Store(true)
				return io.EOF
			}
			r.Offset = off
			s.dirty = true
		}
		if s.captured.Load() == 0 {
			s.firstTs = ts
		}
		s.lastTs = ts
		s.captured.Add(1)
		s.bytes.Add(int64(len(data)))
		if ts-s.lastHouse.UnixNano() >= int64(housekeeping) {
			s.housekeep(time.Now(), false)
		}
		return nil
	}
}

// housekeep polls the statistics and flushes the pcapng stream, at most
// once per housekeeping interval unless force.
func (s *Source) housekeep(now time.Time, force bool) {
	if !force && now.Sub(s.lastHouse) < housekeeping {
		return
	}
	s.lastHouse = now
	if st, err := s.h.Stats(); err == nil {
		s.stats.Store(&Stats{
			Received: int64(st.PacketsReceived), Dropped: int64(st.PacketsDropped),
			IfDropped: int64(st.PacketsIfDropped), Captured: s.captured.Load(),
		})
	}
	if s.pw != nil && s.dirty {
		s.pw.flush()
		s.dirty = false
	}
}

// describeReadError words the read error libpcap reports when a device
// disappears ("The interface disappeared", "The interface went down").
func describeReadError(h *pcap.Handle, err error) string {
	if e := h.Error(); e != nil && e.Error() != "" {
		return e.Error()
	}
	return err.Error()
}

// Format is "live" (source.Reader).
func (s *Source) Format() string { return "live" }

// LinkTypes is the device's link type (source.Reader).
func (s *Source) LinkTypes() []uint32 { return []uint32{s.linkType} }

// Warnings is empty: drops are counted in Stats (source.Reader).
func (s *Source) Warnings() []source.Warning { return nil }

// BytesRead is the bytes of the packets captured so far (their cap_len),
// for progress (source.Reader).
func (s *Source) BytesRead() int64 { return s.bytes.Load() }

// Interrupt stops the capture, as Stop does (source.Reader): the pipeline
// calls it when its run is cancelled or fails. The error is not kept: Err
// reports errors of the capture itself.
func (s *Source) Interrupt(error) { s.Stop() }

// Nanosecond reports whether timestamps have nanosecond resolution (else
// microseconds: the kernel or libpcap did not offer nanoseconds).
func (s *Source) Nanosecond() bool { return s.nano }

// Interface is the device captured on.
func (s *Source) Interface() string { return s.opts.Interface }

// Filter is the BPF expression applied ("" for none).
func (s *Source) Filter() string { return s.opts.Filter }

// Stop ends the capture: Next returns the packets the kernel already
// holds (while they come without a pause of pollInterval, for at most
// drainMax), then io.EOF.
func (s *Source) Stop() { s.stop.Store(true) }

// Stopped reports whether the capture is ending or has ended (Stop, Count
// or an error): the next io.EOF from Next is the last.
func (s *Source) Stopped() bool { return s.stop.Load() || s.ended.Load() }

// Cut makes Next return io.EOF once, at the next packet boundary, without
// ending the capture: the next call to Next goes on capturing. Rotation
// uses it to end one pipeline run and start the next.
func (s *Source) Cut() { s.cut.Store(true) }

// Err is the error that ended the capture (the device went away, the
// pcapng file could not be written), or nil.
func (s *Source) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Stats returns the counters as last polled (at most a second old while
// Next runs; exact after Close).
func (s *Source) Stats() Stats {
	st := *s.stats.Load()
	st.Captured = s.captured.Load()
	return st
}

// Close polls the statistics a last time, ends the pcapng stream with an
// Interface Statistics Block, flushes it and closes the capture
// (source.Reader). Call it once Next is no longer running; later calls do
// nothing.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.housekeep(time.Now(), true)
	var err error
	if s.pw != nil {
		st := s.Stats()
		if e := s.pw.writeStats(time.Now().UnixNano(), s.firstTs, s.lastTs,
			uint64(st.Received), uint64(st.IfDropped), uint64(st.Dropped)); e != nil {
			err = e
		}
		if e := s.pw.flush(); e != nil && err == nil {
			err = e
		}
	}
	s.h.Close()
	return err
}

var _ source.Reader = (*Source)(nil)
