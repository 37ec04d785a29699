//go:build !linux

package main

import "net"

// peerAllowed relies on the socket's mode (0600) where SO_PEERCRED is missing.
func peerAllowed(*net.UnixConn) error { return nil }
