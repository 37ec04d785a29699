package main

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// peerAllowed refuses a client of another user (root excepted): the
// capture may run with privileges its database's readers lack.
func peerAllowed(c *net.UnixConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("user %d may not query a capture run by user %d", cred.Uid, os.Getuid())
	}
	return nil
}
