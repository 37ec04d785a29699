package decode

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/pcapq/pcapq/internal/testenv"
)

// frame is one record read from a capture file for tests.
type frame struct {
	lt      LinkType
	data    []byte
	origLen int
}

// findCorpus looks for the external capture corpus (shared/corpus) by
// walking up from the package directory.
func findCorpus() (string, bool) { return testenv.FindCorpus() }

// corpusDir returns the external capture corpus, or fails the test (skips
// only a local -short run) when it is absent.
func corpusDir(t testing.TB) string { return testenv.Corpus(t) }

// corpusFiles lists the corpus captures (.pcap and .pcapng).
func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "pcaps", "*.pcap*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("external corpus has no captures")
	}
	return files
}

// maxRecord is the largest record the test readers take, tshark's limit
// (WTAP_MAX_PACKET_SIZE_STANDARD): larger records are damaged files.
const maxRecord = 262144

// readFrames reads every record of a pcap or pcapng file with gopacket's
// pcapgo readers. It returns the frames read before the first error and
// that error (io.EOF is not an error).
func readFrames(path string) ([]frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []frame
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, err
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				return out, err
			}
			intf, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				return out, err
			}
			out = append(out, frame{LinkType(intf.LinkType), data, ci.Length})
		}
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		if strings.HasPrefix(err.Error(), "Unknown minor version") {
			// pcapgo takes only format 2.4 (sv-nfs3-01.pcap is 2.1).
			return readOldPcap(path)
		}
		return nil, err
	}
	// Some writers record more than the snap length they declare
	// (zeek-trunc-hdr.pcap); tshark reads those up to its own limit.
	r.SetSnaplen(maxRecord)
	lt := LinkType(r.LinkType())
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, frame{lt, data, ci.Length})
	}
}

// readOldPcap reads a classic pcap file of format version 2.0 to 2.3,
// which pcapgo rejects. Before 2.3 the record header stored the original
// length before the captured length; libpcap swaps them back (sf-pcap.c),
// and 2.3 files are swapped when caplen > len.
func readOldPcap(path string) ([]frame, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, io.ErrUnexpectedEOF
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, errors.New("not a pcap file")
	}
	minor := bo.Uint16(b[6:])
	lt := LinkType(bo.Uint32(b[20:]))
	var out []frame
	for off := 24; off < len(b); {
		if len(b)-off < 16 {
			return out, io.ErrUnexpectedEOF
		}
		capLen, origLen := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		if minor < 3 || (minor == 3 && capLen > origLen) {
			capLen, origLen = origLen, capLen
		}
		off += 16
		if capLen > maxRecord || capLen > len(b)-off {
			return out, io.ErrUnexpectedEOF
		}
		out = append(out, frame{lt, b[off : off+capLen], origLen})
		off += capLen
	}
	return out, nil
}
