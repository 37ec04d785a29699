//go:build pcapq_deps

// Package deps pins the module's dependencies before code uses them.
package deps

import (
	_ "github.com/alecthomas/kong"
	_ "github.com/apache/arrow-go/v18/arrow"
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/gopacket/gopacket/pcap"
	_ "github.com/gopacket/gopacket/pcapgo"
	_ "github.com/klauspost/compress/zstd"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
)
