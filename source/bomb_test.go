package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
)

// The pipeline's tests of decompression bombs are in ingest/bomb_test.go.

// Under the bound: a small stream expands without limit within its first
// MiB (a short capture of zeros is read whole), and a real capture of
// some MiB, compressed, is read whole.
func TestDecompressionUnderBound(t *testing.T) {
	zeros := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1)
	zeros = append(zeros, make([]byte, 512<<10)...) // 32768 records of 0 bytes
	real, err := os.ReadFile("../testdata/mkcapture-small.pcap")
	if err != nil {
		t.Fatal(err)
	}
	want, err := readAll(t, mustReader(t, real))
	if err != io.EOF {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		records int
	}{
		{"zstd zeros", pcaptest.Zstd(t, zeros), 32768},
		{"gzip zeros", pcaptest.Gzip(t, zeros), 32768},
		{"zstd capture", pcaptest.Zstd(t, real), len(want)},
		{"gzip capture", pcaptest.Gzip(t, real), len(want)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, mustReader(t, tc.data))
			if err != io.EOF || len(got) != tc.records {
				t.Errorf("%d records, err %v; want %d (%d compressed bytes)", len(got), err, tc.records, len(tc.data))
			}
		})
	}
}

// An interrupted reader stops with the interruption, not as damage, plain
// or compressed.
func TestReaderInterrupt(t *testing.T) {
	raw := testCaptures()["pcapng"]
	for name, data := range map[string][]byte{"plain": raw, "gzip": pcaptest.Gzip(t, raw), "zstd": pcaptest.Zstd(t, raw)} {
		rd, err := Options{BufferSize: 64}.NewReader(bytes.NewReader(data), "f") // small buffer: reads go to the stream
		if err != nil {
			t.Fatal(err)
		}
		rd.Interrupt(context.Canceled)
		_, err = readAll(t, rd)
		var fe *FormatError
		if !errors.Is(err, context.Canceled) || errors.As(err, &fe) {
			t.Errorf("%s: error %v, want the interruption, not damage", name, err)
		}
	}
}
