package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"
)

// helloBuilder writes handshake messages and records by hand.
type hb struct{ b []byte }

func (h *hb) u8(v uint8) *hb   { h.b = append(h.b, v); return h }
func (h *hb) u16(v uint16) *hb { h.b = binary.BigEndian.AppendUint16(h.b, v); return h }
func (h *hb) raw(b []byte) *hb { h.b = append(h.b, b...); return h }
func (h *hb) vec8(b []byte) *hb {
	return h.u8(uint8(len(b))).raw(b)
}
func (h *hb) vec16(b []byte) *hb { return h.u16(uint16(len(b))).raw(b) }

func ext(typ uint16, data []byte) []byte {
	return (&hb{}).u16(typ).vec16(data).b
}

func u16list(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

// clientHello builds a ClientHello body with GREASE values sprinkled in.
func clientHello(sni string, alpn []string, sessionID []byte) []byte {
	var exts []byte
	exts = append(exts, ext(0x0a0a, nil)...) // GREASE extension
	if sni != "" {
		name := (&hb{}).u8(0).vec16([]byte(sni)).b
		exts = append(exts, ext(extServerName, (&hb{}).vec16(name).b)...)
	}
	exts = append(exts, ext(extSupportedGroups, (&hb{}).vec16(u16list(0x2a2a, 29, 23)).b)...)
	exts = append(exts, ext(extECPointFormats, (&hb{}).vec8([]byte{0}).b)...)
	if alpn != nil {
		var l []byte
		for _, p := range alpn {
			l = append(l, byte(len(p)))
			l = append(l, p...)
		}
		exts = append(exts, ext(extALPN, (&hb{}).vec16(l).b)...)
	}
	exts = append(exts, ext(extSignatureAlgorithms, (&hb{}).vec16(u16list(0x0403, 0x0804)).b)...)
	exts = append(exts, ext(extSupportedVersions, (&hb{}).vec8(u16list(0x3a3a, 0x0304, 0x0303)).b)...)
	h := (&hb{}).u16(0x0303).raw(make([]byte, 32)).vec8(sessionID).vec16(u16list(0x1a1a, 0x1301, 0xc02f, 0x002f)).vec8([]byte{0}).vec16(exts)
	return h.b
}

func serverHello(cipher uint16, sessionID []byte, tls13 bool, alpn string) []byte {
	var exts []byte
	if tls13 {
		exts = append(exts, ext(extSupportedVersions, u16list(0x0304))...)
		exts = append(exts, ext(extKeyShare, (&hb{}).u16(29).vec16(make([]byte, 32)).b)...)
	}
	if alpn != "" {
		exts = append(exts, ext(extALPN, (&hb{}).vec16((&hb{}).vec8([]byte(alpn)).b).b)...)
	}
	return (&hb{}).u16(0x0303).raw(make([]byte, 32)).vec8(sessionID).u16(cipher).u8(0).vec16(exts).b
}

func handshakeMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func record(typ uint8, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func TestFingerprintsGREASE(t *testing.T) {
	ch, err := ParseClientHello(clientHello("Example.test", []string{"h2", "http/1.1"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	// JA3: GREASE left out of ciphers, extensions and groups.
	if got, want := ch.JA3String(), "771,4865-49199-47,0-10-11-16-13-43,29-23,0"; got != want {
		t.Errorf("JA3 string %q, want %q", got, want)
	}
	// JA4: version from supported_versions (GREASE ignored), SNI present,
	// 3 ciphers, 6 extensions, ALPN h2; sorted lists, SNI and ALPN out of
	// the extension list, signature algorithms in order.
	if got, want := ch.JA4Raw('t'), "t13d0306h2_002f,1301,c02f_000a,000b,000d,002b_0403,0804"; got != want {
		t.Errorf("JA4_r %q, want %q", got, want)
	}
	if !strings.HasPrefix(ch.JA4('t'), "t13d0306h2_") || len(ch.JA4('t')) != len("t13d0306h2_")+12+1+12 {
		t.Errorf("JA4 %q", ch.JA4('t'))
	}
	for _, tc := range []struct {
		alpn []string
		want string
	}{
		{nil, "00"}, {[]string{""}, "00"}, {[]string{"h"}, "hh"}, {[]string{"http/1.1"}, "h1"},
		{[]string{"\xab\xcd"}, "99"}, {[]string{"0\xab"}, "3b"}, {[]string{"\x0a\x0a", "h2"}, "h2"},
	} {
		ch, _ := ParseClientHello(clientHello("", tc.alpn, nil))
		if got := ch.JA4('t')[8:10]; got != tc.want {
			t.Errorf("ALPN %q: JA4 ALPN part %q, want %q", tc.alpn, got, tc.want)
		}
		if ch.JA4('t')[3] != 'i' {
			t.Errorf("no SNI: %q", ch.JA4('t'))
		}
	}
}

type conv struct {
	c *Conn
	s *recSink
}

func newConv() *conv {
	s := &recSink{}
	return &conv{NewConn(1, "1:x", Options{}, s), s}
}

func (v *conv) feed(d int, b []byte, chunk int) {
	for len(b) > 0 {
		n := min(chunk, len(b))
		v.c.Data(d, b[:n], 100, 7)
		b = b[n:]
	}
}

// A ClientHello split over two records, fed one byte at a time, gives the
// same row as in one piece.
func TestSplitHelloAndEstablished(t *testing.T) {
	msg := handshakeMsg(hsClientHello, clientHello("split.test", []string{"h2"}, []byte{1, 2, 3}))
	whole := record(recHandshake, msg)
	split := append(record(recHandshake, msg[:10]), record(recHandshake, msg[10:])...)
	var rows []Row
	for _, in := range [][]byte{whole, split} {
		v := newConv()
		v.feed(0, in, 1)
		v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, serverHello(0xc02f, []byte{1, 2, 3}, false, "h2"))), 3)
		v.feed(0, record(recChangeCipherSpec, []byte{1}), 100)
		v.feed(0, record(recHandshake, make([]byte, 40)), 100) // encrypted Finished
		if v.c.row.Established {
			t.Fatal("established before the server's ChangeCipherSpec")
		}
		v.feed(1, record(recChangeCipherSpec, []byte{1}), 100)
		v.feed(1, record(recHandshake, make([]byte, 40)), 100)
		if !v.c.Done() {
			t.Error("not done after establishment")
		}
		v.c.Close(200)
		if len(v.s.rows) != 1 {
			t.Fatalf("%d rows", len(v.s.rows))
		}
		rows = append(rows, *v.s.rows[0])
	}
	a, b := rows[0], rows[1]
	if a.ServerName != "split.test" || a.JA4 != b.JA4 || a.JA3 != b.JA3 || a.ServerName != b.ServerName {
		t.Errorf("whole %+v\nsplit %+v", a, b)
	}
	if !a.Established || !a.Resumed || a.ALPN != "h2" || a.Version != "TLSv12" || a.Cipher != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" {
		t.Errorf("row %+v", a)
	}
}

func TestTLS13HelloRetryAndAlert(t *testing.T) {
	v := newConv()
	n := 0
	v.c.opts.OnClientHello = func(*ClientHello, int64) { n++ }
	v.feed(0, record(recHandshake, handshakeMsg(hsClientHello, clientHello("a.test", nil, nil))), 1000)
	hrr := serverHello(0x1301, nil, true, "")
	copy(hrr[2:], helloRetryRandom)
	v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, hrr)), 1000)
	v.feed(1, record(recChangeCipherSpec, []byte{1}), 1000)
	// middlebox CCS, then the second ClientHello in the clear
	v.feed(0, record(recChangeCipherSpec, []byte{1}), 1000)
	v.feed(0, record(recHandshake, handshakeMsg(hsClientHello, clientHello("a.test", nil, nil))), 1000)
	if n != 2 {
		t.Errorf("%d ClientHellos seen, want 2 (the second after a TLS 1.3 ChangeCipherSpec)", n)
	}
	v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, serverHello(0x1302, nil, true, ""))), 1000)
	v.feed(1, record(recApplicationData, make([]byte, 30)), 1000) // encrypted extensions etc.
	v.feed(0, record(recAlert, []byte{2, 40}), 1000)              // handshake_failure in the clear
	v.c.Close(1)
	r := v.s.rows[0]
	if r.Established || r.LastAlert != "handshake_failure" || r.Version != "TLSv13" || r.Cipher != "TLS_AES_256_GCM_SHA384" || r.Curve != "x25519" {
		t.Errorf("row %+v", r)
	}
}

func TestHostileRecords(t *testing.T) {
	// A record longer than TLS allows.
	v := newConv()
	v.feed(0, []byte{22, 3, 3, 0xff, 0xff}, 100)
	if len(v.s.warns) != 1 || !strings.HasPrefix(v.s.warns[0], WarnRecordTooLong) {
		t.Errorf("warnings %q", v.s.warns)
	}
	// A handshake message claiming 16 MB: refused at its header, nothing buffered.
	v = newConv()
	v.feed(0, record(recHandshake, []byte{hsClientHello, 0xff, 0xff, 0xff, 1, 2, 3}), 100)
	for i := 0; i < 100; i++ {
		v.feed(0, record(recHandshake, make([]byte, 16000)), 16000)
	}
	if len(v.s.warns) != 1 || !strings.HasPrefix(v.s.warns[0], WarnHandshakeTooBig) || cap(v.c.half[0].hs) > 0 {
		t.Errorf("warnings %q, buffered %d", v.s.warns, cap(v.c.half[0].hs))
	}
	// Not TLS: no row, no warning (detection decides elsewhere).
	v = newConv()
	v.feed(0, []byte("GET / HTTP/1.1\r\n\r\n"), 100)
	v.c.Close(1)
	if len(v.s.rows) != 0 || len(v.s.warns) != 0 || v.c.Seen() {
		t.Errorf("HTTP as TLS: rows %d warnings %q", len(v.s.rows), v.s.warns)
	}
	// A gap stops the direction with one warning.
	v = newConv()
	v.c.Gap(1, 10, 5)
	v.c.Gap(1, 10, 6)
	v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, serverHello(0x1301, nil, true, ""))), 100)
	if len(v.s.warns) != 1 || v.c.shSeen {
		t.Errorf("after gap: warnings %q, ServerHello parsed %v", v.s.warns, v.c.shSeen)
	}
}

func TestDetect(t *testing.T) {
	ch := record(recHandshake, handshakeMsg(hsClientHello, clientHello("x", nil, nil)))
	for i := 0; i < 6; i++ {
		if got := Detect(ch[:i], true); got != NeedMore {
			t.Errorf("%d bytes: %v", i, got)
		}
	}
	if Detect(ch, true) != Yes || Detect(ch, false) != No {
		t.Error("ClientHello: Yes from the originator only")
	}
	for _, b := range []string{"GET / HTTP/1.1", "\x16\x03\x05\x00\x10\x01", "\x16\x03\x01\xff\xff\x01", "\x17\x03\x03\x00\x10"} {
		if Detect([]byte(b), true) != No {
			t.Errorf("%q detected as TLS", b)
		}
	}
}

func TestIsGREASE(t *testing.T) {
	n := 0
	for v := 0; v < 1<<16; v++ {
		if isGREASE(uint16(v)) {
			n++
			if v&0xff != v>>8 || v&0x0f != 0x0a {
				t.Errorf("%#04x taken as GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, RFC 8701 has 16", n)
	}
}

// No signature_algorithms: the JA4 c part is the extension list alone,
// without the underscore (JA4 spec).
func TestJA4NoSignatureAlgorithms(t *testing.T) {
	exts := ext(extSupportedGroups, (&hb{}).vec16(u16list(29)).b)
	body := (&hb{}).u16(0x0303).raw(make([]byte, 32)).vec8(nil).vec16(u16list(0x002f)).vec8([]byte{0}).vec16(exts).b
	ch, err := ParseClientHello(body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ch.JA4Raw('t'), "t12i010100_002f_000a"; got != want {
		t.Errorf("JA4_r %q, want %q", got, want)
	}
	// No extensions at all: zeros.
	body = (&hb{}).u16(0x0301).raw(make([]byte, 32)).vec8(nil).vec16(u16list(0x002f)).vec8([]byte{0}).b
	ch, _ = ParseClientHello(body)
	if got := ch.JA4('t'); got != "t10i010000_"+sha12("002f")+"_000000000000" {
		t.Errorf("JA4 %q", got)
	}
}

// Empty session ids on both sides are no resumption.
func TestNotResumedWithoutSessionID(t *testing.T) {
	v := newConv()
	v.feed(0, record(recHandshake, handshakeMsg(hsClientHello, clientHello("a.test", nil, nil))), 1000)
	v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, serverHello(0xc02f, nil, false, ""))), 1000)
	v.c.Close(1)
	if v.s.rows[0].Resumed {
		t.Error("resumed without a session id")
	}
}

// Only the leaf (first) certificate of a chain fills the row.
func TestCertificateLeaf(t *testing.T) {
	leaf, ca := testCert(t, "leaf.test", []string{"leaf.test", "www.leaf.test"}), testCert(t, "Some CA", nil)
	var list []byte
	for _, der := range [][]byte{leaf, ca} {
		list = append(list, byte(len(der)>>16), byte(len(der)>>8), byte(len(der)))
		list = append(list, der...)
	}
	body := append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
	v := newConv()
	v.feed(0, record(recHandshake, handshakeMsg(hsClientHello, clientHello("leaf.test", nil, nil))), 1000)
	v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, serverHello(0xc02f, nil, false, ""))), 1000)
	v.feed(1, record(recHandshake, handshakeMsg(hsCertificate, body)), 1000)
	v.c.Close(1)
	r := v.s.rows[0]
	sum := sha256.Sum256(leaf)
	if r.CertSubject != "CN=leaf.test" || strings.Join(r.CertSAN, ",") != "leaf.test,www.leaf.test" || r.CertSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("row %+v", r)
	}
	// A certificate crypto/x509 cannot parse: warned, hash kept.
	v = newConv()
	v.feed(1, record(recHandshake, handshakeMsg(hsServerHello, serverHello(0xc02f, nil, false, ""))), 1000)
	v.feed(1, record(recHandshake, handshakeMsg(hsCertificate, []byte{0, 0, 5, 0, 0, 2, 0x30, 0})), 1000)
	v.c.Close(1)
	if len(v.s.warns) != 1 || !strings.HasPrefix(v.s.warns[0], WarnBadCertificate) || v.s.rows[0].CertSHA256 == "" || v.s.rows[0].CertSubject != "" {
		t.Errorf("bad certificate: warnings %q row %+v", v.s.warns, v.s.rows[0])
	}
}

func testCert(t *testing.T, cn string, dns []string) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1800000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
