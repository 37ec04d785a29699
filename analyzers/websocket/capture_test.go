package websocket

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/streamtest"
	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/tcpsession"
)

var protoCapture = filepath.Join("..", "..", "testdata", "mkcapture-proto.pcap")

type recSink struct {
	rows  []*Row
	warns []string
}

func (s *recSink) Row(r *Row) { s.rows = append(s.rows, r) }
func (s *recSink) Warning(frame int64, kind, detail string) {
	s.warns = append(s.warns, kind+": "+detail)
}

// upgradeAdapter stands in for the HTTP analyzer's hand-over: it reads the
// first message head of each direction and, when the request asked for
// "Upgrade: websocket" and the response is a 101, feeds what follows the
// heads to a Conn.
type upgradeAdapter struct {
	flowID int64
	sink   *recSink
	head   [2][]byte
	done   [2]bool
	pend   [2][]byte
	c      *Conn
	no     bool
}

func (a *upgradeAdapter) Data(d tcpsession.Dir, b []byte, ts, frame int64) {
	i := int(d) - 1
	if a.no {
		return
	}
	if !a.done[i] {
		a.head[i] = append(a.head[i], b...)
		end := strings.Index(string(a.head[i]), "\r\n\r\n")
		if end < 0 {
			return
		}
		a.done[i] = true
		b = a.head[i][end+4:]
		if i == 1 {
			if !strings.HasPrefix(string(a.head[1]), "HTTP/1.1 101") || !strings.Contains(strings.ToLower(string(a.head[0])), "upgrade: websocket") {
				a.no = true
				return
			}
			a.c = NewConn(a.flowID, Options{KeepPayloads: true}, a.sink)
			if len(a.pend[0]) > 0 {
				a.c.Data(0, a.pend[0], ts, frame)
			}
		}
	}
	if a.c == nil {
		a.pend[i] = append(a.pend[i], b...)
		return
	}
	a.c.Data(i, b, ts, frame)
}
func (a *upgradeAdapter) Gap(d tcpsession.Dir, n, ts, frame int64) {
	if a.c != nil {
		a.c.Gap(int(d)-1, n, frame)
	}
}
func (a *upgradeAdapter) Close(ts int64) {
	if a.c != nil {
		a.c.Close(ts)
	}
}
func (a *upgradeAdapter) Service() string { return "" }

func captureRows(t *testing.T, path string) *recSink {
	s := &recSink{}
	streamtest.Run(t, path, func(f *tcpsession.FlowInfo) tcpsession.StreamHandler {
		return &upgradeAdapter{flowID: f.FlowID, sink: s}
	}, nil)
	sort.SliceStable(s.rows, func(i, j int) bool {
		if s.rows[i].FlowID != s.rows[j].FlowID {
			return s.rows[i].FlowID < s.rows[j].FlowID
		}
		return s.rows[i].LastFrame < s.rows[j].LastFrame
	})
	return s
}

func dir(orig bool) string {
	if orig {
		return "orig"
	}
	return "resp"
}

// TestAgainstEvents: the messages of both WebSocket sessions of the
// recorded capture, in order, are the "ws DIRECTION OPCODE LENGTH" lines
// mkcapture's client wrote (text, binary of 300 B and 70 kB, a 5000 B
// text, a text in three fragments, ping/pong, close), with the close codes
// and text previews the client sent.
func TestAgainstEvents(t *testing.T) {
	s := captureRows(t, protoCapture)
	if len(s.warns) != 0 {
		t.Errorf("warnings: %q", s.warns)
	}
	ev, err := os.ReadFile(filepath.Join("..", "..", "testdata", "mkcapture-proto.events"))
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, line := range strings.Split(string(ev), "\n") {
		if strings.HasPrefix(line, "ws ") {
			want = append(want, line)
		}
	}
	for _, r := range s.rows {
		got = append(got, "ws "+dir(r.Orig)+" "+strconv.Itoa(int(r.Opcode))+" "+strconv.FormatInt(r.PayloadLen, 10))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages\n got %q\nwant %q", got, want)
	}
	if len(want) < 20 {
		t.Errorf("only %d events", len(want))
	}
	for _, r := range s.rows {
		if r.Masked != r.Orig {
			t.Errorf("frame %d: masked %v from %s", r.LastFrame, r.Masked, dir(r.Orig))
		}
		switch {
		case r.Opcode == OpText && r.PayloadLen == 15:
			if r.Preview != "hello websocket" || !r.HasPreview {
				t.Errorf("frame %d: preview %q", r.LastFrame, r.Preview)
			}
		case r.Opcode == OpText && r.PayloadLen == 28:
			if r.Preview != "frag-one frag-two frag-three" || r.Fragments != 3 {
				t.Errorf("frame %d: fragmented message preview %q fragments %d", r.LastFrame, r.Preview, r.Fragments)
			}
		case r.Opcode == OpText && r.PayloadLen == 5000:
			if r.Preview != strings.Repeat("x", PreviewLen) || string(r.Payload) != strings.Repeat("x", 5000) {
				t.Errorf("frame %d: 5000-byte text: preview %q, payload of %d", r.LastFrame, r.Preview, len(r.Payload))
			}
		case r.Opcode == OpBinary:
			if r.HasPreview || int64(len(r.Payload)) != r.PayloadLen {
				t.Errorf("frame %d: binary preview %v payload %d", r.LastFrame, r.HasPreview, len(r.Payload))
			}
		case r.Opcode == OpClose:
			if !r.HasClose || r.CloseCode != 1000 || r.CloseReason != map[bool]string{true: "bye", false: ""}[r.Orig] {
				t.Errorf("frame %d: close %v %d %q", r.LastFrame, r.HasClose, r.CloseCode, r.CloseReason)
			}
		case r.Opcode == OpPing || r.Opcode == OpPong:
			if string(r.Payload) != "ping!" {
				t.Errorf("frame %d: %s payload %q", r.LastFrame, OpcodeName(r.Opcode), r.Payload)
			}
		}
	}
}

// TestAgainstTshark: tshark's websocket frames, joined into messages at
// their FIN bit, give each row's direction, opcode, payload length, masking
// and the frame completing it.
func TestAgainstTshark(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	out, err := exec.Command(tshark, "-n", "-r", protoCapture, "-Y", "websocket", "-T", "fields",
		"-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
		"-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "websocket.fin",
		"-e", "websocket.opcode", "-e", "websocket.payload_length", "-e", "websocket.payload_length_ext_16",
		"-e", "websocket.payload_length_ext_64", "-e", "websocket.mask").Output()
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		key    string
		op     int
		n      int64
		masked bool
		frames int
	}
	open := map[string]*msg{} // per stream and direction
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		frame, _ := strconv.ParseInt(f[0], 10, 64)
		orig := f[3] == "80" // the server listens on 80
		key := f[1] + " " + dir(orig)
		fins, ops := strings.Split(f[4], "|"), strings.Split(f[5], "|")
		lens, l16, l64 := strings.Split(f[6], "|"), strings.Split(f[7], "|"), strings.Split(f[8], "|")
		masks := strings.Split(f[9], "|")
		j16, j64 := 0, 0
		for i := range fins {
			n, _ := strconv.ParseInt(lens[i], 10, 64)
			switch n {
			case 126:
				n, _ = strconv.ParseInt(l16[j16], 10, 64)
				j16++
			case 127:
				n, _ = strconv.ParseInt(l64[j64], 10, 64)
				j64++
			}
			op, _ := strconv.Atoi(ops[i])
			if op >= 8 {
				want = append(want, key+" "+ops[i]+" "+strconv.FormatInt(n, 10)+" 1 "+masks[i]+" "+f[0])
				continue
			}
			m := open[key]
			if m == nil {
				m = &msg{key: key, op: op, masked: masks[i] == "1"}
				open[key] = m
			}
			m.n += n
			m.frames++
			if fins[i] == "1" {
				want = append(want, key+" "+strconv.Itoa(m.op)+" "+strconv.FormatInt(m.n, 10)+" "+strconv.Itoa(m.frames)+" "+map[bool]string{true: "1", false: "0"}[m.masked]+" "+strconv.FormatInt(frame, 10))
				delete(open, key)
			}
		}
	}
	s := captureRows(t, protoCapture)
	streamOf := map[int64]string{}
	var got []string
	for _, r := range s.rows {
		if _, ok := streamOf[r.FlowID]; !ok {
			streamOf[r.FlowID] = strconv.Itoa(len(streamOf))
		}
		masked := "0"
		if r.Masked {
			masked = "1"
		}
		got = append(got, "STREAM "+dir(r.Orig)+" "+strconv.Itoa(int(r.Opcode))+" "+strconv.FormatInt(r.PayloadLen, 10)+" "+strconv.Itoa(r.Fragments)+" "+masked+" "+strconv.FormatInt(r.LastFrame, 10))
	}
	// tshark numbers streams by tcp.stream; compare without the stream id
	// (rows are in flow order, tshark's lines in frame order).
	norm := func(v []string) []string {
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = s[strings.IndexByte(s, ' ')+1:]
		}
		sort.Slice(out, func(i, j int) bool {
			fi := strings.Fields(out[i])
			fj := strings.Fields(out[j])
			a, _ := strconv.Atoi(fi[len(fi)-1])
			b, _ := strconv.Atoi(fj[len(fj)-1])
			if a != b {
				return a < b
			}
			return out[i] < out[j]
		})
		return out
	}
	g, w := norm(got), norm(want)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("messages (dir opcode length fragments masked last_frame)\n got %q\nwant %q", g, w)
	}
	if len(w) < 20 {
		t.Errorf("only %d tshark messages", len(w))
	}
}
