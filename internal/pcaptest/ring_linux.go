package pcaptest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// RingVersions returns the TPACKET version (unix.TPACKET_V1..V3) of the
// receive ring of every packet socket the process pid holds: what
// libpcap chose for its captures, which no API of libpcap reports. Each
// socket is looked at through a duplicate taken with pidfd_getfd (root,
// or a ptrace-capable caller, for another process).
func RingVersions(pid int) ([]int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pidfd)
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, n, 0)
		if err != nil {
			continue // closed meanwhile
		}
		v, err := unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION)
		unix.Close(fd)
		if err == nil { // other sockets have no PACKET_VERSION
			out = append(out, v)
		}
	}
	return out, nil
}
