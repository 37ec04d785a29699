// Package testcorpus is shared by the packages' tests: it finds the external
// capture corpus (../shared/corpus beside the repository) and walks the
// records of a capture. It reads captures with gopacket's pcapgo, not with
// package source, so that source's own tests can use it without an import
// cycle (and check the readers against another implementation).
package testcorpus

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/internal/testenv"
)

// Find walks up from the working directory to a shared/corpus folder
// holding capinfos.tsv.
func Find() (string, bool) { return testenv.FindCorpus() }

// Dir is Find for tests: it fails the test (skips only a local -short run)
// when the corpus is absent.
func Dir(t testing.TB) string { return testenv.Corpus(t) }

// ForEachPacket reads a pcap or pcapng file and calls fn for every record
// with its 1-based frame number. data is valid only during the call.
func ForEachPacket(t testing.TB, path string, fn func(frame, ts int64, lt decode.LinkType, data []byte, origLen int)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		t.Fatal(err)
	}
	frame := int64(0)
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				return
			}
			frame++
			lt := decode.LinkType(r.LinkType())
			if intf, err := r.Interface(ci.InterfaceIndex); err == nil {
				lt = decode.LinkType(intf.LinkType)
			}
			fn(frame, ci.Timestamp.UnixNano(), lt, data, ci.Length)
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	lt := decode.LinkType(r.LinkType())
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			return
		}
		frame++
		fn(frame, ci.Timestamp.UnixNano(), lt, data, ci.Length)
	}
}

// Seeds returns the bytes of the small corpus files with the given
// suffix, when the corpus is present (seeds only; the fuzz tests run without
// it).
func Seeds(suffix string, maxSize int64) [][]byte {
	dir, ok := Find()
	if !ok {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "pcaps", "*"+suffix))
	var out [][]byte
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() > maxSize {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
	}
	return out
}
