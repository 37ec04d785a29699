package ingest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

func testCaptures() map[string][]byte {
	var recs []pcapRec
	for i := range 50 {
		recs = append(recs, pcapRec{Sec: uint32(i), Data: pkt(100+i, byte(i))})
	}
	g := &ngBuilder{}
	g.shb(false).idb(1, 0)
	for i := range 50 {
		g.epb(0, uint64(i), 200, pkt(100+i, byte(i)))
	}
	return map[string][]byte{
		"pcap":   buildPcap(true, pcapMicroBE, 2, 4, 65535, 1, recs...),
		"pcapng": g.b,
	}
}

// Compression is found by magic, whatever the file is called; offsets are
// in the uncompressed stream.
func TestOpenCompressed(t *testing.T) {
	dir := t.TempDir()
	for format, raw := range testCaptures() {
		want, err := readAll(t, mustReader(t, raw))
		if err != io.EOF || len(want) != 50 {
			t.Fatalf("%s: %d records, %v", format, len(want), err)
		}
		for _, tc := range []struct {
			name string
			data []byte
		}{
			{"plain", raw},
			{"gzip", gzipBytes(t, raw)},
			{"zstd", zstdBytes(t, raw)},
			{"gzip-concatenated", append(gzipBytes(t, raw[:100]), gzipBytes(t, raw[100:])...)},
		} {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				path := filepath.Join(dir, format+"-"+tc.name+".cap") // no telling suffix
				if err := os.WriteFile(path, tc.data, 0o644); err != nil {
					t.Fatal(err)
				}
				rd, c, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				wantFormat := format
				if tc.name != "plain" {
					wantFormat += "+" + strings.TrimSuffix(tc.name, "-concatenated")
				}
				if rd.Format() != wantFormat {
					t.Errorf("Format %q, want %q", rd.Format(), wantFormat)
				}
				bc, ok := rd.(ByteCounter)
				if !ok {
					t.Fatal("Reader does not implement ByteCounter")
				}
				if bc.Size() != int64(len(tc.data)) {
					t.Errorf("Size %d, want %d", bc.Size(), len(tc.data))
				}
				got, err := readAll(t, rd)
				if err != io.EOF || len(got) != len(want) {
					t.Fatalf("%d records, err %v", len(got), err)
				}
				for i := range got {
					if got[i].Offset != want[i].Offset || got[i].Ts != want[i].Ts || !bytes.Equal(got[i].Data, want[i].Data) {
						t.Fatalf("record %d differs", i)
					}
				}
				if bc.BytesRead() != int64(len(tc.data)) {
					t.Errorf("BytesRead %d at the end, want %d", bc.BytesRead(), len(tc.data))
				}
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
}

func TestOpenCompressedDamage(t *testing.T) {
	raw := testCaptures()["pcap"]
	for _, tc := range []struct {
		name     string
		data     []byte
		sentinel error
		detail   string
	}{
		{"gzip of html", gzipBytes(t, []byte("<html>")), ErrNotCapture, `after gzip decompression, found magic 3c 68 74 6d ("<htm")`},
		{"zstd of nothing", zstdBytes(t, nil), ErrNotCapture, "zstd stream is empty"},
		{"gzip of nothing", gzipBytes(t, nil), ErrNotCapture, "gzip stream is empty"},
		{"gzip cut short", gzipBytes(t, raw)[:200], ErrTruncated, ""},
		{"zstd cut short", zstdBytes(t, raw)[:200], ErrTruncated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader(bytes.NewReader(tc.data), "f")
			if err == nil {
				_, err = readAll(t, rd)
			}
			fe := wantFormatErr(t, err, tc.sentinel, -1)
			if !strings.Contains(fe.Detail, tc.detail) {
				t.Errorf("detail %q, want %q", fe.Detail, tc.detail)
			}
		})
	}
}

func TestOpenStdin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, gzipBytes(t, testCaptures()["pcapng"]), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	rd, c, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, rd)
	if err != io.EOF || len(got) != 50 {
		t.Fatalf("%d records, err %v", len(got), err)
	}
	c.Close() // must not close stdin
	if _, err := f.Stat(); err != nil {
		t.Errorf("stdin closed: %v", err)
	}
}

func TestOpenMissingFile(t *testing.T) {
	if _, _, err := Open(filepath.Join(t.TempDir(), "nope.pcap")); !os.IsNotExist(err) {
		t.Errorf("err %v, want not-exist", err)
	}
}
