package tls

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/testenv"
)

var (
	protoCapture = filepath.Join("..", "..", "testdata", "mkcapture-proto.pcap")
	// h2Capture is the start of the TLS 1.2 connection that selects h2 by
	// ALPN (scripts/testdata/record-tls12-h2.sh): record-proto.sh drops
	// that connection for its size, and TLS 1.3 encrypts the server's
	// ALPN choice.
	h2Capture = filepath.Join("..", "..", "testdata", "mkcapture-tls12-h2.pcap")
)

// TestRowsAgainstTshark: each connection's row of the recorded capture
// against tshark's dissection of its hellos and certificate (server_name,
// negotiated version, cipher, key share group, ALPN, the leaf
// certificate's SHA-256, DNS SANs, subject CN and validity), and against
// the events mkcapture wrote (every HTTPS request answered 200, so
// established; ALPN offered h2 exactly for --http2).
func TestRowsAgainstTshark(t *testing.T) {
	rows := rowsAgainstTshark(t, protoCapture)
	checkAgainstEvents(t, rows, filepath.Join("..", "..", "testdata", "mkcapture-proto.events"), 1)
}

// TestTLS12ALPNh2: the TLS 1.2 connection that negotiates h2 (curl
// --http2 --tls-max 1.2) has alpn "h2" in its row, as tshark reads the
// ServerHello and as curl reported (HTTP version 2 in the events file).
func TestTLS12ALPNh2(t *testing.T) {
	rows := rowsAgainstTshark(t, h2Capture)
	checkAgainstEvents(t, rows, filepath.Join("..", "..", "testdata", "mkcapture-tls12-h2.events"), 0)
	if len(rows) != 1 || rows[0].ALPN != "h2" || rows[0].Version != "TLSv12" || !slices.Contains(rows[0].ALPNOffered, "h2") {
		t.Fatalf("rows %+v: want one TLSv12 row with alpn h2", rows)
	}
}

// rowsAgainstTshark runs the analyzer on capture and checks each row
// against tshark's dissection of the same frames; it returns the rows.
func rowsAgainstTshark(t *testing.T, capture string) []*Row {
	t.Helper()
	tshark := testenv.Tool(t, "tshark")
	rows, _, s := runTLS(t, capture)
	if len(s.warns) != 0 {
		t.Errorf("warnings: %q", s.warns)
	}
	out, err := exec.Command(tshark, "-n", "-r", capture, "-Y", "tcp && (tls.handshake.type==1 || tls.handshake.type==2 || tls.handshake.type==11)",
		"-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
		"-e", "frame.number", "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name",
		"-e", "tls.handshake.version", "-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.ciphersuite",
		"-e", "tls.handshake.extensions_key_share_group", "-e", "tls.handshake.extensions_alpn_str",
		"-e", "tls.handshake.certificate", "-e", "x509ce.dNSName", "-e", "x509af.utcTime", "-e", "x509sat.uTF8String").Output()
	if err != nil {
		t.Fatal(err)
	}
	byFrame := map[int64][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		for len(f) < 12 {
			f = append(f, "")
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		byFrame[n] = f
	}
	cipherByName := map[string]uint16{}
	for k, v := range cipherNames {
		cipherByName[v] = k
	}
	groupByName := map[string]uint16{}
	for k, v := range curveNames {
		groupByName[v] = k
	}
	hexNum := func(s string) uint64 { // tshark writes "0x0303" or "29"
		v, _ := strconv.ParseUint(s, 0, 16)
		return v
	}
	for _, r := range rows {
		ch, sh := byFrame[r.ClientFrame], byFrame[r.ServerFrame]
		if ch == nil || sh == nil {
			t.Errorf("flow %d: tshark shows no hello in frames %d/%d", r.FlowID, r.ClientFrame, r.ServerFrame)
			continue
		}
		if r.ServerName != ch[2] {
			t.Errorf("flow %d: server_name %q, tshark %q", r.FlowID, r.ServerName, ch[2])
		}
		if strings.Join(r.ALPNOffered, "|") != ch[7] {
			t.Errorf("flow %d: alpn_offered %q, tshark %q", r.FlowID, r.ALPNOffered, ch[7])
		}
		ver := sh[4]
		if ver == "" {
			ver = sh[3]
		}
		if r.Version != VersionName(uint16(hexNum(ver))) {
			t.Errorf("flow %d: version %s, tshark %s", r.FlowID, r.Version, ver)
		}
		if uint64(cipherByName[r.Cipher]) != hexNum(sh[5]) || r.Cipher == "" {
			t.Errorf("flow %d: cipher %s, tshark %s", r.FlowID, r.Cipher, sh[5])
		}
		if r.ALPN != sh[7] {
			t.Errorf("flow %d: alpn %q, tshark %q", r.FlowID, r.ALPN, sh[7])
		}
		if sh[6] != "" && uint64(groupByName[r.Curve]) != hexNum(sh[6]) {
			t.Errorf("flow %d: curve %s, tshark key share group %s", r.FlowID, r.Curve, sh[6])
		}
		if r.Version == "TLSv12" {
			// The certificate is in the clear: find the frame tshark shows it in.
			var cert []string
			for f := r.ServerFrame; f < r.ServerFrame+5; f++ {
				if c := byFrame[f]; c != nil && strings.Contains("|"+c[1]+"|", "|11|") {
					cert = c
					break
				}
			}
			if cert == nil {
				t.Errorf("flow %d: tshark shows no certificate after frame %d", r.FlowID, r.ServerFrame)
				continue
			}
			der, _ := hex.DecodeString(strings.Split(cert[8], "|")[0])
			sum := sha256.Sum256(der)
			if !r.HasCert || r.CertSHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("flow %d: cert_sha256 %s, tshark's certificate hashes to %x", r.FlowID, r.CertSHA256, sum)
			}
			var dns []string
			for _, s := range r.CertSAN {
				if strings.Count(s, ".") != 3 || strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") {
					dns = append(dns, s)
				}
			}
			if strings.Join(dns, "|") != cert[9] {
				t.Errorf("flow %d: SAN DNS names %q, tshark %q", r.FlowID, dns, cert[9])
			}
			cn := strings.Split(cert[11], "|")
			if r.CertSubject != "CN="+cn[len(cn)-1] || r.CertIssuer != "CN="+cn[0] {
				t.Errorf("flow %d: subject %q issuer %q, tshark CNs %q", r.FlowID, r.CertSubject, r.CertIssuer, cert[11])
			}
			times := strings.Split(cert[10], "|")
			nb := time.Unix(r.CertNotBefore, 0).UTC().Format("2006-01-02 15:04:05 (UTC)")
			na := time.Unix(r.CertNotAfter, 0).UTC().Format("2006-01-02 15:04:05 (UTC)")
			if len(times) != 2 || nb != times[0] || na != times[1] {
				t.Errorf("flow %d: validity %s .. %s, tshark %q", r.FlowID, nb, na, times)
			}
		} else if r.HasCert {
			t.Errorf("flow %d: a certificate in %s, which encrypts it", r.FlowID, r.Version)
		}
	}
	return rows
}

// checkAgainstEvents checks rows against the events file mkcapture wrote,
// one "tls ARGS URL HTTP_VERSION STATUS" line per HTTPS request; dropped
// is how many connections the recording script left out (the third
// request's, the TLS 1.2 + h2 download).
func checkAgainstEvents(t *testing.T, rows []*Row, events string, dropped int) {
	t.Helper()
	ev, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []string
	for _, line := range strings.Split(string(ev), "\n") {
		if strings.HasPrefix(line, "tls ") {
			reqs = append(reqs, line)
		}
	}
	if len(rows) != len(reqs)-dropped {
		t.Fatalf("%d rows for %d HTTPS requests (%d dropped by the recording script)", len(rows), len(reqs), dropped)
	}
	for i, r := range rows {
		line := reqs[i]
		if dropped > 0 && i >= 3 {
			line = reqs[i+1]
		}
		f := strings.Fields(line)
		if !r.Established || f[len(f)-1] != "200" {
			t.Errorf("row %d (%s): established %v", i, line, r.Established)
		}
		if slices.Contains(r.ALPNOffered, "h2") != strings.Contains(line, "--http2") {
			t.Errorf("row %d (%s): alpn_offered %q", i, line, r.ALPNOffered)
		}
		wantVer := "TLSv13"
		if strings.Contains(line, "--tls-max 1.2") {
			wantVer = "TLSv12"
		}
		if r.Version != wantVer {
			t.Errorf("row %d (%s): version %s", i, line, r.Version)
		}
		// The server's ALPN choice is in the clear only up to TLS 1.2; curl
		// reports the HTTP version it spoke.
		wantALPN := ""
		if wantVer == "TLSv12" {
			wantALPN = map[string]string{"2": "h2", "1.1": "http/1.1"}[f[len(f)-2]]
		}
		if r.ALPN != wantALPN {
			t.Errorf("row %d (%s): alpn %q, want %q", i, line, r.ALPN, wantALPN)
		}
		if strings.Contains(line, "--ciphers ECDHE-RSA-AES128-SHA256") && r.Cipher != "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" {
			t.Errorf("row %d (%s): cipher %s", i, line, r.Cipher)
		}
		host := strings.TrimPrefix(f[len(f)-3], "https://")
		host = host[:strings.IndexByte(host, '/')]
		if strings.ContainsAny(host, "[0123456789") != (r.ServerName == "") {
			t.Errorf("row %d (%s): server_name %q (curl sends SNI for names, not addresses)", i, line, r.ServerName)
		}
	}
}
