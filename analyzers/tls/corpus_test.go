package tls

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pcapq/pcapq/internal/streamtest"
	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/tcpsession"
)

type recSink struct {
	rows  []*Row
	warns []string
}

func (s *recSink) Row(r *Row) { s.rows = append(s.rows, r) }
func (s *recSink) Warning(frame int64, kind, detail string) {
	s.warns = append(s.warns, kind+": "+detail)
}

// adapter feeds a TCP stream to a Conn. A stream that opens with an
// HTTP CONNECT request has its request and response heads skipped first,
// as the HTTP analyzer hands a tunnel over in the pipeline.
type adapter struct {
	c       *Conn
	started bool
	connect bool
	head    [2][]byte
	inHead  [2]bool
}

func (a *adapter) Data(d tcpsession.Dir, b []byte, ts, frame int64) {
	i := int(d) - 1
	if !a.started {
		a.started = true
		a.connect = i == 0 && strings.HasPrefix(string(b), "CONNECT ")
		a.inHead = [2]bool{a.connect, a.connect}
	}
	if a.inHead[i] {
		a.head[i] = append(a.head[i], b...)
		end := strings.Index(string(a.head[i]), "\r\n\r\n")
		if end < 0 {
			return
		}
		b = a.head[i][end+4:]
		a.inHead[i] = false
	}
	a.c.Data(i, b, ts, frame)
}
func (a *adapter) Gap(d tcpsession.Dir, n, ts, frame int64) { a.c.Gap(int(d)-1, n, frame) }
func (a *adapter) Close(ts int64)                           { a.c.Close(ts) }
func (a *adapter) Service() string                          { return "" }

// hello is one hello seen in a capture.
type hello struct {
	flow      string // "orig_h orig_p resp_h resp_p"
	frame     int64
	n         int // 1-based index of the ClientHello in its connection
	ja3, ja4  string
	ja4r, sni string
	ja3s      string
	version   uint16
	cipher    uint16
	isServer  bool
}

// runTLS runs every TCP connection of a capture through a Conn (no
// detection: every stream is tried; non-TLS streams stop at their first
// bytes) and returns the rows and every hello.
func runTLS(t *testing.T, path string) ([]*Row, []hello, *recSink) {
	t.Helper()
	s := &recSink{}
	var hellos []hello
	streamtest.Run(t, path, func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
		flow := fmt.Sprintf("%s %d %s %d", f.OrigH, f.OrigP, f.RespH, f.RespP)
		n := 0
		opts := Options{
			OnClientHello: func(h *ClientHello, frame int64) {
				n++
				hellos = append(hellos, hello{flow: flow, frame: frame, n: n, ja3: h.JA3(), ja4: h.JA4('t'), ja4r: h.JA4Raw('t'), sni: h.ServerName})
			},
			OnServerHello: func(h *ServerHello, frame int64) {
				hellos = append(hellos, hello{flow: flow, frame: frame, isServer: true, ja3s: h.JA3S(), version: h.Version, cipher: h.Cipher})
			},
		}
		return &adapter{c: NewConn(f.FlowID, f.CommunityID, opts, s)}
	}, nil)
	return s.rows, hellos, s
}

// notInReference lists ClientHellos we fingerprint that the reference's
// expected output leaves out, with the reason.
var notInReference = map[string]string{
	"ja4-https-connect.pcap 10.11.12.13 54723 10.9.8.7 8080 #1": "the ClientHello inside an HTTP CONNECT tunnel: " +
		"the reference lists only JA4H for this stream; tshark dissects it, and TestHellosAgainstTshark checks its JA3 and SNI",
}

// TestJA4AgainstReference: every ClientHello of the JA4 reference
// corpus (../shared/corpus/tls: FoxIO-LLC/ja4's captures and its Python
// implementation's expected output) gets the expected JA4 and JA4_r, and
// every JA4 the reference lists is found.
func TestJA4AgainstReference(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "tls")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		testenv.Missing(t, "TLS fingerprint corpus %s: %v", dir, err)
	}
	pcaps, err := filepath.Glob(filepath.Join(dir, "pcaps", "*"))
	if err != nil || len(pcaps) == 0 {
		t.Fatalf("no captures in %s/pcaps", dir)
	}
	checked := 0
	for _, p := range pcaps {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "expected", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var streams []map[string]any
			if err := json.Unmarshal(b, &streams); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{} // "flow #n" -> JA4 and JA4_r
			for _, s := range streams {
				flow := fmt.Sprintf("%v %v %v %v", s["src"], s["srcport"], s["dst"], s["dstport"])
				for k, v := range s {
					if n, ok := strings.CutPrefix(k, "JA4."); ok {
						want[flow+" #"+n] = fmt.Sprint(v) + " " + fmt.Sprint(s["JA4_r."+n])
					}
				}
			}
			_, hellos, _ := runTLS(t, p)
			got := map[string]string{}
			for _, h := range hellos {
				if !h.isServer {
					got[h.flow+" #"+strconv.Itoa(h.n)] = h.ja4 + " " + h.ja4r
				}
			}
			for k, w := range want {
				if g, ok := got[k]; !ok {
					t.Errorf("%s: no ClientHello; reference JA4 %s", k, w)
				} else if g != w {
					t.Errorf("%s:\n got %s\nwant %s", k, g, w)
				} else {
					checked++
				}
			}
			for k, g := range got {
				if _, ok := want[k]; !ok && notInReference[name+" "+k] == "" {
					t.Errorf("%s: ClientHello with JA4 %s that the reference does not list", k, g)
				}
			}
		})
	}
	if checked != 139 {
		t.Errorf("%d ClientHellos matched the reference; its expected output lists 139", checked)
	}
	t.Logf("%d JA4 fingerprints equal the reference", checked)
}

type tsharkHello struct {
	frame                 int64
	ja3, ja3s, sni        string
	version, cipher, sver string
}

func tsharkHellos(t *testing.T, path string, typ int) []tsharkHello {
	t.Helper()
	tshark := testenv.Tool(t, "tshark")
	args := []string{"-n", "-r", path, "-Y", "tcp && tls.handshake.type==" + strconv.Itoa(typ), "-T", "fields",
		"-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
		"-e", "frame.number", "-e", "tls.handshake.type", "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3s",
		"-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite",
		"-e", "tls.handshake.extensions.supported_version"}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var hs []tsharkHello
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < 8 {
			f = append(f, "")
		}
		frame, _ := strconv.ParseInt(f[0], 10, 64)
		types := strings.Split(f[1], "|")
		// one hello of the wanted type per frame here; its position among
		// the frame's handshake messages picks the per-message fields.
		idx := -1
		for i, ty := range types {
			if ty == strconv.Itoa(typ) {
				if idx >= 0 {
					t.Fatalf("frame %d: two hellos of type %d; this test wants one", frame, typ)
				}
				idx = i
			}
		}
		pick := func(s string) string {
			v := strings.Split(s, "|")
			if len(v) == len(types) {
				return v[idx]
			}
			return v[0]
		}
		hs = append(hs, tsharkHello{frame: frame, ja3: f[2], ja3s: f[3], sni: f[4], version: pick(f[5]), cipher: f[6], sver: f[7]})
	}
	return hs
}

// TestHellosAgainstTshark: server_name and ja3 of every ClientHello,
// ja3s, version and cipher of every ServerHello equal tshark's, on the
// JA4 corpus and on testdata/mkcapture-proto.pcap and
// mkcapture-tls12-h2.pcap.
func TestHellosAgainstTshark(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "tls", "pcaps")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	files = append(files, protoCapture, h2Capture)
	var nc, ns atomic.Int64
	t.Run("captures", func(t *testing.T) {
		for _, p := range files {
			t.Run(filepath.Base(p), func(t *testing.T) {
				t.Parallel()
				_, hellos, _ := runTLS(t, p)
				ours := map[int64]hello{}
				for _, h := range hellos {
					k := h.frame * 2
					if h.isServer {
						k++
					}
					if _, dup := ours[k]; dup {
						t.Fatalf("frame %d: two hellos of one kind", h.frame)
					}
					ours[k] = h
				}
				for _, w := range tsharkHellos(t, p, 1) {
					h, ok := ours[w.frame*2]
					if !ok {
						t.Errorf("ClientHello in frame %d (tshark ja3 %s): not parsed", w.frame, w.ja3)
						continue
					}
					nc.Add(1)
					if h.ja3 != w.ja3 || h.sni != w.sni {
						t.Errorf("ClientHello frame %d: ja3 %s sni %q; tshark %s %q", w.frame, h.ja3, h.sni, w.ja3, w.sni)
					}
					delete(ours, w.frame*2)
				}
				for _, w := range tsharkHellos(t, p, 2) {
					h, ok := ours[w.frame*2+1]
					if !ok {
						t.Errorf("ServerHello in frame %d: not parsed", w.frame)
						continue
					}
					ns.Add(1)
					cipher, _ := strconv.ParseUint(strings.TrimPrefix(w.cipher, "0x"), 16, 16)
					ver, _ := strconv.ParseUint(strings.TrimPrefix(w.version, "0x"), 16, 16)
					if h.ja3s != w.ja3s || uint64(h.cipher) != cipher || uint64(h.version) != ver {
						t.Errorf("ServerHello frame %d: ja3s %s cipher %#x version %#x; tshark %s %s %s", w.frame, h.ja3s, h.cipher, h.version, w.ja3s, w.cipher, w.version)
					}
					delete(ours, w.frame*2+1)
				}
				var extra []int64
				for k := range ours {
					extra = append(extra, k/2)
				}
				sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
				if len(extra) > 0 {
					t.Errorf("hellos in frames %v that tshark does not show", extra)
				}
			})
		}
	})
	if nc.Load() < 100 || ns.Load() < 10 {
		t.Errorf("compared %d ClientHellos and %d ServerHellos; expected more", nc.Load(), ns.Load())
	}
	t.Logf("%d ClientHellos and %d ServerHellos equal tshark's (the QUIC capture's hellos are not over TCP)", nc.Load(), ns.Load())
}
