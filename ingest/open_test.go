package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/zstd"
	"github.com/pcapq/pcapq/internal/testenv"
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

// Compressed data the decompressor rejects is damage: the records before
// it are kept and reading stops with ErrCorrupt (it failed the run
// before; found by FuzzPipeline). A gzip stream whose one flipped byte
// only the final CRC catches gives every record first, as capinfos reads
// it ("An error occurred after reading 2000 packets ... bad CRC"; checked
// when capinfos is installed).
func TestOpenCorruptCompressed(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var recs []pcapRec
	for i := range 2000 {
		data := make([]byte, 200)
		for j := range data {
			data[j] = byte(rnd.Uint32()) // incompressible: stored blocks
		}
		recs = append(recs, pcapRec{Sec: uint32(1_500_000_000 + i), Data: data})
	}
	raw := buildPcap(true, pcapMicroBE, 2, 4, 65535, 1, recs...)
	stored := gzipBytes(t, raw)
	stored[len(stored)/2] ^= 0xff
	zcorrupt := zstdBytes(t, raw)
	zcorrupt[len(zcorrupt)/2] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
		keep int // -1: some, not all
	}{
		{"gzip crc", stored, 2000},
		{"zstd", zcorrupt, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, mustReader(t, tc.data))
			fe := wantFormatErr(t, err, ErrCorrupt, -1)
			if fe.File != "test" || !strings.Contains(fe.Detail, "corrupt") {
				t.Errorf("error %v", err)
			}
			if tc.keep >= 0 && len(got) != tc.keep || tc.keep < 0 && len(got) == 0 {
				t.Errorf("kept %d records, want %d", len(got), tc.keep)
			}
			if tc.name != "gzip crc" {
				return
			}
			testenv.Tool(t, "capinfos")
			path := filepath.Join(t.TempDir(), "corrupt.pcap.gz")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ := exec.Command("capinfos", "-c", path).CombinedOutput()
			if !strings.Contains(string(out), "error occurred after reading 2000 packets") {
				t.Errorf("capinfos: %s", out)
			}
		})
	}
}

// An error of the source itself (the disk, the pipe) under a decompressor
// is no damage: it is returned as it is, naming the file and offset, and
// fails the run.
func TestOpenSourceErrorUnderDecompressor(t *testing.T) {
	fire := errors.New("disk on fire")
	for _, comp := range []string{"gzip", "zstd"} {
		raw := testCaptures()["pcap"]
		data := gzipBytes(t, raw)
		if comp == "zstd" {
			data = zstdBytes(t, raw)
		}
		src := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(fire))
		rd, err := NewReader(src, "f")
		if err == nil {
			_, err = readAll(t, rd)
		}
		var fe *FormatError
		if !errors.Is(err, fire) || errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "f: offset ") {
			t.Errorf("%s: error %v, want the source's error, not damage", comp, err)
		}
	}
}
