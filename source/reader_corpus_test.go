package source

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/internal/testenv"
)

// corpusDir finds shared/corpus beside the repository root, or skips the
// test.
func corpusDir(t testing.TB) string { return testcorpus.Dir(t) }

// capinfosRow is what corpus/capinfos.tsv says about one capture.
type capinfosRow struct {
	file           string
	packets        int // capinfos_packets; -1 when capinfos gave none
	err            string
	rawscanRecords int
	rawscanLink    string // "linktype=1 snaplen=65535" for pcap
}

func readCapinfos(t testing.TB, dir string) []capinfosRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "capinfos.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var col map[string]int
	var rows []capinfosRow
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = map[string]int{}
			for i, name := range fields {
				col[name] = i
			}
			for _, c := range []string{"file", "capinfos_packets", "capinfos_error", "rawscan_records", "rawscan_linktype"} {
				if _, ok := col[c]; !ok {
					t.Fatalf("capinfos.tsv has no column %q", c)
				}
			}
			continue
		}
		atoi := func(s string) int {
			n, err := strconv.Atoi(s)
			if err != nil {
				return -1
			}
			return n
		}
		rows = append(rows, capinfosRow{
			file:           fields[col["file"]],
			packets:        atoi(fields[col["capinfos_packets"]]),
			err:            fields[col["capinfos_error"]],
			rawscanRecords: atoi(fields[col["rawscan_records"]]),
			rawscanLink:    fields[col["rawscan_linktype"]],
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// damaged lists the corpus files capinfos reports as damaged, with the
// sentinel our reader must stop with. For these the good records are the
// rawscan_records column: capinfos counts 2 packets in sv-bug-6875-01.pcap
// because Wireshark, when the second record is absurd, retries the file as
// one of the modified-pcap variants and reads a garbage frame; libpcap
// (tcpdump) and this reader stop after the one good record.
var damaged = map[string]error{
	"sv-bug-6875-01.pcap":         ErrRecordTooLong,
	"sv-http-mime-truncated.pcap": ErrTruncated,
}

// warned lists the corpus files that must produce a given warning.
var warned = map[string]string{
	"zeek-trunc-hdr.pcap":                 "caplen_exceeds_snaplen",
	"tcpdump-heapoverflow-tcp_print.pcap": "pcap_linktype_reserved_bits",
}

func readCorpusFile(t *testing.T, path string) (Reader, []Record, error) {
	t.Helper()
	rd, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rd.Close()
	recs, err := readAll(t, rd)
	return rd, recs, err
}

// TestCorpus reads every corpus capture and checks the record count against
// capinfos, the stopping error of damaged files, and that every record's
// Offset points at its bytes in the file.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	rows := readCapinfos(t, dir)
	if len(rows) == 0 {
		t.Fatal("capinfos.tsv lists no files")
	}
	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			path := filepath.Join(dir, "pcaps", row.file)
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rd, recs, err := readCorpusFile(t, path)
			want := row.packets
			if row.err != "-" {
				sentinel, ok := damaged[row.file]
				if !ok {
					t.Fatalf("capinfos reports damage (%s) but the test does not know this file: add it to damaged", row.err)
				}
				want = row.rawscanRecords
				wantFormatErr(t, err, sentinel, -1)
				t.Logf("stopped as expected: %v", err)
			} else if err != io.EOF {
				t.Errorf("err %v, want io.EOF", err)
			}
			if len(recs) != want {
				t.Errorf("%d records, want %d (capinfos %d)", len(recs), want, row.packets)
			}
			if kind, ok := warned[row.file]; ok && !hasWarning(rd.Warnings(), kind) {
				t.Errorf("warnings %v, want %s", rd.Warnings(), kind)
			}
			checkOffsets(t, rd.Format(), file, recs)
			// A tiny read buffer, where records span refills, reads the same.
			small, err := Options{BufferSize: 64}.NewReader(bytes.NewReader(file), "small")
			if err != nil {
				t.Fatal(err)
			}
			recs2, _ := readAll(t, small)
			if len(recs2) != len(recs) {
				t.Fatalf("64-byte buffer: %d records, want %d", len(recs2), len(recs))
			}
			for i := range recs {
				a, b := recs[i], recs2[i]
				if a.Ts != b.Ts || a.Offset != b.Offset || a.OrigLen != b.OrigLen || !bytes.Equal(a.Data, b.Data) {
					t.Fatalf("64-byte buffer: record %d differs", i)
				}
			}
			if rd.Format() != "pcapng" {
				// The independent record walk names the pcap link type.
				lt, _, _ := strings.Cut(strings.TrimPrefix(row.rawscanLink, "linktype="), " ")
				want, err := strconv.Atoi(lt)
				if err != nil {
					t.Fatalf("rawscan_linktype %q", row.rawscanLink)
				}
				for i, r := range recs {
					if r.LinkType != uint32(want) {
						t.Fatalf("record %d: link type %d, want %d", i, r.LinkType, want)
					}
				}
				if lts := rd.LinkTypes(); len(lts) != 1 || lts[0] != uint32(want) {
					t.Errorf("LinkTypes %v, want [%d]", lts, want)
				}
			}
		})
	}
}

// checkOffsets checks that each record's data sits in the file where its
// Offset says: after the 16-byte record header (pcap) or the fixed part of
// its block (pcapng).
func checkOffsets(t *testing.T, format string, file []byte, recs []Record) {
	t.Helper()
	for i, r := range recs {
		var start int64
		switch format {
		case "pcap", "pcap-ns":
			start = r.Offset + 16
		case "pcapng":
			// Block type in either byte order.
			switch typ := binary.LittleEndian.Uint32(file[r.Offset:]); typ {
			case pcapngEPB, pcapngPB, pcapngEPB << 24, pcapngPB << 24:
				start = r.Offset + 28
			case pcapngSPB, pcapngSPB << 24:
				start = r.Offset + 12
			default:
				t.Errorf("record %d: block type 0x%08x at offset %d", i, typ, r.Offset)
				continue
			}
		}
		end := start + int64(r.CapLen)
		if end > int64(len(file)) || !bytes.Equal(file[start:end], r.Data) {
			t.Errorf("record %d: data is not at offset %d+header in the file", i, r.Offset)
		}
	}
}

// tsharkRow is one packet as tshark prints it.
type tsharkRow struct {
	frame   int
	ts      int64 // ns; 0 when tshark prints none (SPB)
	caplen  int
	origlen int
	iface   int // -1 for pcap
	encap   int // Wireshark's WTAP_ENCAP, not the link type
}

// wtapToLinkType maps the Wireshark encapsulations met in the corpus pcapng
// files to link types.
var wtapToLinkType = map[int]uint32{1: 1, 15: 0}

var tsharkSem = make(chan struct{}, 2) // the machine is shared: at most 2 tsharks

func runTshark(t *testing.T, path string) ([]tsharkRow, string) {
	t.Helper()
	tsharkSem <- struct{}{}
	defer func() { <-tsharkSem }()
	cmd := exec.Command("tshark", "-n", "-r", path, "-T", "fields",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.cap_len",
		"-e", "frame.len", "-e", "frame.interface_id", "-e", "frame.encap_type")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 && !strings.Contains(stderr.String(), "appears to") {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	var rows []tsharkRow
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("tshark line %q", line)
		}
		row := tsharkRow{iface: -1, encap: -1}
		row.frame, _ = strconv.Atoi(f[0])
		row.ts = parseEpochNs(t, f[1])
		row.caplen, _ = strconv.Atoi(f[2])
		row.origlen, _ = strconv.Atoi(f[3])
		if f[4] != "" {
			row.iface, _ = strconv.Atoi(f[4])
		}
		if f[5] != "" {
			row.encap, _ = strconv.Atoi(f[5])
		}
		rows = append(rows, row)
	}
	var msg []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "Running as user") {
			msg = append(msg, l)
		}
	}
	return rows, strings.Join(msg, " ")
}

// parseEpochNs parses tshark's "1404148886.981015000" exactly.
func parseEpochNs(t *testing.T, s string) int64 {
	if s == "" {
		return 0
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad tshark time %q", s)
	}
	ns := a*1e9 + b
	if neg {
		ns = -ns
	}
	return ns
}

// TestCorpusTshark compares every record's timestamp, lengths, interface and
// (pcapng) link type with tshark's reading of the same file.
func TestCorpusTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark on every corpus file; skipped with -short")
	}
	testenv.Tool(t, "tshark")
	dir := corpusDir(t)
	rows := readCapinfos(t, dir)
	var mu sync.Mutex
	var differ []string
	t.Cleanup(func() {
		if len(differ) > 0 {
			t.Logf("record counts that differ from tshark (expected, damaged files):\n%s", strings.Join(differ, "\n"))
		}
	})
	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, "pcaps", row.file)
			rd, recs, _ := readCorpusFile(t, path)
			ts, stderr := runTshark(t, path)
			if rd.Format() == "pcapng" {
				// tshark also prints non-packet blocks (NRB, custom, ...)
				// as frames without an interface; drop them.
				pk := ts[:0]
				for _, r := range ts {
					if r.iface >= 0 {
						pk = append(pk, r)
					}
				}
				ts = pk
			}
			n := len(recs)
			if len(ts) != len(recs) {
				if _, ok := damaged[row.file]; !ok {
					t.Fatalf("%d records, tshark %d (%s)", len(recs), len(ts), stderr)
				}
				mu.Lock()
				differ = append(differ, row.file+": ours "+strconv.Itoa(len(recs))+", tshark "+strconv.Itoa(len(ts))+": "+stderr)
				mu.Unlock()
				n = min(n, len(ts))
			}
			for i := range n {
				r, w := recs[i], ts[i]
				iface := r.Iface
				if rd.Format() != "pcapng" {
					iface = -1
				}
				if r.Ts != w.ts || r.CapLen != w.caplen || r.OrigLen != w.origlen || iface != w.iface {
					t.Errorf("frame %d: ts %d cap %d len %d iface %d; tshark ts %d cap %d len %d iface %d",
						w.frame, r.Ts, r.CapLen, r.OrigLen, iface, w.ts, w.caplen, w.origlen, w.iface)
				}
				if rd.Format() == "pcapng" {
					lt, ok := wtapToLinkType[w.encap]
					if !ok {
						t.Errorf("frame %d: tshark encapsulation %d not in wtapToLinkType; add it", w.frame, w.encap)
					} else if lt != r.LinkType {
						t.Errorf("frame %d: link type %d, tshark encapsulation %d is link type %d", w.frame, r.LinkType, w.encap, lt)
					}
				}
			}
		})
	}
}
