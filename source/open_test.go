package source

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testenv"
)

func testCaptures() map[string][]byte {
	var recs []pcaptest.Rec
	for i := range 50 {
		recs = append(recs, pcaptest.Rec{Sec: uint32(i), Data: pcaptest.Pkt(100+i, byte(i))})
	}
	g := &pcaptest.NG{}
	g.SHB(false).IDB(1, 0)
	for i := range 50 {
		g.EPB(0, uint64(i), 200, pcaptest.Pkt(100+i, byte(i)))
	}
	return map[string][]byte{
		"pcap":   pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, recs...),
		"pcapng": g.B,
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
			{"gzip", pcaptest.Gzip(t, raw)},
			{"zstd", pcaptest.Zstd(t, raw)},
			{"gzip-concatenated", append(pcaptest.Gzip(t, raw[:100]), pcaptest.Gzip(t, raw[100:])...)},
		} {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				path := filepath.Join(dir, format+"-"+tc.name+".cap") // no telling suffix
				if err := os.WriteFile(path, tc.data, 0o644); err != nil {
					t.Fatal(err)
				}
				rd, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
				wantFormat := format
				if tc.name != "plain" {
					wantFormat += "+" + strings.TrimSuffix(tc.name, "-concatenated")
				}
				if rd.Format() != wantFormat {
					t.Errorf("Format %q, want %q", rd.Format(), wantFormat)
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
				if rd.BytesRead() != int64(len(tc.data)) {
					t.Errorf("BytesRead %d at the end, want %d", rd.BytesRead(), len(tc.data))
				}
				if err := rd.Close(); err != nil {
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
		{"gzip of html", pcaptest.Gzip(t, []byte("<html>")), ErrNotCapture, `after gzip decompression, found magic 3c 68 74 6d ("<htm")`},
		{"zstd of nothing", pcaptest.Zstd(t, nil), ErrNotCapture, "zstd stream is empty"},
		{"gzip of nothing", pcaptest.Gzip(t, nil), ErrNotCapture, "gzip stream is empty"},
		{"gzip cut short", pcaptest.Gzip(t, raw)[:200], ErrTruncated, ""},
		{"zstd cut short", pcaptest.Zstd(t, raw)[:200], ErrTruncated, ""},
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
	if err := os.WriteFile(path, pcaptest.Gzip(t, testCaptures()["pcapng"]), 0o644); err != nil {
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
	rd, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, rd)
	if err != io.EOF || len(got) != 50 {
		t.Fatalf("%d records, err %v", len(got), err)
	}
	rd.Close() // must not close stdin
	if _, err := f.Stat(); err != nil {
		t.Errorf("stdin closed: %v", err)
	}
}

func TestOpenMissingFile(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "nope.pcap")); !os.IsNotExist(err) {
		t.Errorf("err %v, want not-exist", err)
	}
}

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// Close closes the file Open opened, whether the capture was read to its
// end or not and whatever its compression; a second Close does nothing.
// A file that is no capture is closed by Open itself.
func TestOpenCloseReleasesFile(t *testing.T) {
	dir := t.TempDir()
	raw := testCaptures()["pcapng"]
	for name, data := range map[string][]byte{"plain": raw, "gzip": pcaptest.Gzip(t, raw), "zstd": pcaptest.Zstd(t, raw), "html": []byte("<html></html>")} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before := openFiles(t)
		rd, err := Open(path)
		if name == "html" {
			if !errors.Is(err, ErrNotCapture) {
				t.Errorf("%s: err %v, want ErrNotCapture", name, err)
			}
		} else {
			if err != nil {
				t.Fatal(err)
			}
			if openFiles(t) != before+1 {
				t.Errorf("%s: %d files open after Open, want %d", name, openFiles(t), before+1)
			}
			var rec Record
			if err := rd.Next(&rec); err != nil { // stop part way
				t.Fatal(err)
			}
			if err := rd.Close(); err != nil {
				t.Errorf("%s: Close: %v", name, err)
			}
			if err := rd.Close(); err != nil {
				t.Errorf("%s: second Close: %v", name, err)
			}
		}
		if after := openFiles(t); after != before {
			t.Errorf("%s: %d files open, %d before Open", name, after, before)
		}
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
	var recs []pcaptest.Rec
	for i := range 2000 {
		data := make([]byte, 200)
		for j := range data {
			data[j] = byte(rnd.Uint32()) // incompressible: stored blocks
		}
		recs = append(recs, pcaptest.Rec{Sec: uint32(1_500_000_000 + i), Data: data})
	}
	raw := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, recs...)
	stored := pcaptest.Gzip(t, raw)
	stored[len(stored)/2] ^= 0xff
	zcorrupt := pcaptest.Zstd(t, raw)
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
		data := pcaptest.Gzip(t, raw)
		if comp == "zstd" {
			data = pcaptest.Zstd(t, raw)
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
