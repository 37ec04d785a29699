package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Extension types used here.
const (
	extServerName          = 0x0000
	extSupportedGroups     = 0x000a
	extECPointFormats      = 0x000b
	extSignatureAlgorithms = 0x000d
	extALPN                = 0x0010
	extSessionTicket       = 0x0023
	extPreSharedKey        = 0x0029
	extSupportedVersions   = 0x002b
	extKeyShare            = 0x0033
)

// Bounds on what one hello keeps (the message itself is bounded by
// MaxHandshakeMessage; these bound the row).
const (
	maxALPN      = 32  // ALPN protocols kept
	maxALPNLen   = 255 // bytes of one protocol (its 1-byte length)
	maxSNILen    = 255 // bytes of the server name kept
	maxListItems = 1024
)

// ErrMalformedHello is returned for a hello whose lengths do not add up.
var ErrMalformedHello = errors.New("tls: malformed hello")

// ClientHello holds the fields of a ClientHello that the row and the
// fingerprints need. Lists keep the wire order, GREASE values included.
type ClientHello struct {
	Version        uint16 // legacy_version
	SessionID      []byte
	Ciphers        []uint16
	Extensions     []uint16
	Groups         []uint16 // supported_groups
	PointFormats   []uint8
	SigAlgs        []uint16 // signature_algorithms
	Versions       []uint16 // supported_versions
	ServerName     string   // first host_name of server_name
	HasServerName  bool     // the server_name extension is present
	ALPN           []string // offered protocols, in order
	TicketNonEmpty bool     // session_ticket extension with data
	HasPSK         bool     // pre_shared_key extension
}

// ServerHello holds the fields of a ServerHello.
type ServerHello struct {
	Version     uint16 // legacy_version
	Random      []byte
	SessionID   []byte
	Cipher      uint16
	Extensions  []uint16
	Selected    uint16 // supported_versions, 0 if absent
	KeyShare    uint16 // key_share group, 0 if absent
	HasKeyShare bool
	ALPN        string // selected protocol
	HasPSK      bool
}

// helloRetryRandom is the Random of a HelloRetryRequest (RFC 8446 4.1.3).
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// IsHelloRetry reports whether s is a HelloRetryRequest.
func (s *ServerHello) IsHelloRetry() bool { return string(s.Random) == string(helloRetryRandom) }

// reader reads big-endian fields and length-prefixed vectors, remembering
// the first overrun.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) || n < 0 {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }

// u16s reads a list of 16-bit values (an odd length is malformed).
func u16s(b []byte, dst []uint16) ([]uint16, bool) {
	if len(b)%2 != 0 {
		return dst, false
	}
	for i := 0; i+1 < len(b) && len(dst) < maxListItems; i += 2 {
		dst = append(dst, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return dst, true
}

// ParseClientHello parses the body of a ClientHello handshake message
// (after its 4-byte header).
func ParseClientHello(body []byte) (*ClientHello, error) {
	r := &reader{b: body}
	h := &ClientHello{Version: r.u16()}
	r.bytes(32) // random
	h.SessionID = r.vec8()
	var ok bool
	if h.Ciphers, ok = u16s(r.vec16(), nil); !ok {
		return nil, ErrMalformedHello
	}
	r.vec8() // compression methods
	if r.bad {
		return nil, ErrMalformedHello
	}
	if len(r.b) == 0 {
		return h, nil // no extensions (SSLv3 style)
	}
	exts := &reader{b: r.vec16()}
	if r.bad {
		return nil, ErrMalformedHello
	}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		data := exts.vec16()
		if exts.bad {
			break
		}
		if len(h.Extensions) < maxListItems {
			h.Extensions = append(h.Extensions, typ)
		}
		e := &reader{b: data}
		switch typ {
		case extServerName:
			h.HasServerName = true
			list := &reader{b: e.vec16()}
			for len(list.b) > 0 && !list.bad {
				kind := list.u8()
				name := list.vec16()
				if kind == 0 && !list.bad && h.ServerName == "" {
					if len(name) > maxSNILen {
						name = name[:maxSNILen]
					}
					h.ServerName = string(name)
				}
			}
		case extALPN:
			list := &reader{b: e.vec16()}
			for len(list.b) > 0 && !list.bad && len(h.ALPN) < maxALPN {
				p := list.vec8()
				if !list.bad {
					h.ALPN = append(h.ALPN, string(p))
				}
			}
		case extSupportedGroups:
			h.Groups, _ = u16s(e.vec16(), h.Groups[:0])
		case extECPointFormats:
			for _, f := range e.vec8() {
				if len(h.PointFormats) < maxListItems {
					h.PointFormats = append(h.PointFormats, f)
				}
			}
		case extSignatureAlgorithms:
			h.SigAlgs, _ = u16s(e.vec16(), h.SigAlgs[:0])
		case extSupportedVersions:
			h.Versions, _ = u16s(e.vec8(), h.Versions[:0])
		case extSessionTicket:
			h.TicketNonEmpty = len(data) > 0
		case extPreSharedKey:
			h.HasPSK = true
		}
	}
	if exts.bad {
		return h, ErrMalformedHello // the extensions read so far are kept
	}
	return h, nil
}

// ParseServerHello parses the body of a ServerHello handshake message.
func ParseServerHello(body []byte) (*ServerHello, error) {
	r := &reader{b: body}
	h := &ServerHello{Version: r.u16()}
	h.Random = r.bytes(32)
	h.SessionID = r.vec8()
	h.Cipher = r.u16()
	r.u8() // compression method
	if r.bad {
		return nil, ErrMalformedHello
	}
	if len(r.b) == 0 {
		return h, nil
	}
	exts := &reader{b: r.vec16()}
	if r.bad {
		return nil, ErrMalformedHello
	}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		data := exts.vec16()
		if exts.bad {
			break
		}
		if len(h.Extensions) < maxListItems {
			h.Extensions = append(h.Extensions, typ)
		}
		e := &reader{b: data}
		switch typ {
		case extSupportedVersions:
			h.Selected = e.u16()
		case extKeyShare:
			h.KeyShare, h.HasKeyShare = e.u16(), !e.bad
		case extALPN:
			list := &reader{b: e.vec16()}
			if p := list.vec8(); !list.bad {
				h.ALPN = string(p)
			}
		case extPreSharedKey:
			h.HasPSK = true
		}
	}
	if exts.bad {
		return h, ErrMalformedHello
	}
	return h, nil
}

// Negotiated returns the version the server chose: supported_versions when
// present, else the legacy version (as Zeek).
func (s *ServerHello) Negotiated() uint16 {
	if s.Selected != 0 {
		return s.Selected
	}
	return s.Version
}

func joinDec(b *strings.Builder, vs []uint16, skipGREASE bool) {
	first := true
	for _, v := range vs {
		if skipGREASE && isGREASE(v) {
			continue
		}
		if !first {
			b.WriteByte('-')
		}
		first = false
		b.WriteString(strconv.Itoa(int(v)))
	}
}

// JA3String is the JA3 input of salesforce/ja3: version, ciphers,
// extensions, groups and point formats, decimal, GREASE values left out of
// the first three lists and the groups.
func (h *ClientHello) JA3String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(h.Version)))
	b.WriteByte(',')
	joinDec(&b, h.Ciphers, true)
	b.WriteByte(',')
	joinDec(&b, h.Extensions, true)
	b.WriteByte(',')
	joinDec(&b, h.Groups, true)
	b.WriteByte(',')
	for i, f := range h.PointFormats {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(f)))
	}
	return b.String()
}

// JA3 is the MD5 of JA3String, in hex.
func (h *ClientHello) JA3() string {
	sum := md5.Sum([]byte(h.JA3String()))
	return hex.EncodeToString(sum[:])
}

// JA3SString is the JA3S input: version, cipher and extensions, decimal.
func (s *ServerHello) JA3SString() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(s.Version)))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(int(s.Cipher)))
	b.WriteByte(',')
	joinDec(&b, s.Extensions, true)
	return b.String()
}

// JA3S is the MD5 of JA3SString, in hex.
func (s *ServerHello) JA3S() string {
	sum := md5.Sum([]byte(s.JA3SString()))
	return hex.EncodeToString(sum[:])
}

// ja4Version maps a version to JA4's two characters.
func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func hex4(b *strings.Builder, vs []uint16) {
	const digits = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[v>>12])
		b.WriteByte(digits[v>>8&15])
		b.WriteByte(digits[v>>4&15])
		b.WriteByte(digits[v&15])
	}
}

func sha12(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func twoDigits(n int) string {
	if n > 99 {
		n = 99
	}
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

// JA4Parts returns JA4's prefix (a) and the raw, unhashed inputs of its b
// and c parts (JA4_r without the prefix). proto is 't' (TCP), 'q' (QUIC)
// or 'd' (DTLS). GREASE values are left out of every list; SNI and ALPN
// are left out of the sorted extension list; signature algorithms keep
// their wire order.
func (h *ClientHello) JA4Parts(proto byte) (a, ciphers, exts string) {
	ver := h.Version
	var hi uint16
	for _, v := range h.Versions {
		if !isGREASE(v) && v > hi {
			hi = v
		}
	}
	if hi != 0 {
		ver = hi
	}
	var cs, es []uint16
	for _, c := range h.Ciphers {
		if !isGREASE(c) {
			cs = append(cs, c)
		}
	}
	next := 0
	for _, e := range h.Extensions {
		if isGREASE(e) {
			continue
		}
		next++
		if e != extServerName && e != extALPN {
			es = append(es, e)
		}
	}
	sni := byte('i')
	if h.HasServerName {
		sni = 'd'
	}
	alpn := "00"
	first := ""
	for _, p := range h.ALPN {
		// GREASE-shaped ALPN values are skipped, as the reference does.
		if len(p) == 2 && isGREASE(uint16(p[0])<<8|uint16(p[1])) {
			continue
		}
		first = p
		break
	}
	switch {
	case first == "":
	case first[0] > 127:
		// FoxIO's reference implementation (the corpus's expected output)
		// prints "99" for an ALPN value starting with a non-ASCII byte.
		alpn = "99"
	case isAlnum(first[0]) && isAlnum(first[len(first)-1]):
		alpn = string([]byte{first[0], first[len(first)-1]})
	default:
		// Another non-alphanumeric first or last byte: the JA4 spec's
		// first and last characters of the value's hex.
		const digits = "0123456789abcdef"
		alpn = string([]byte{digits[first[0]>>4], digits[first[len(first)-1]&15]})
	}
	a = string(proto) + ja4Version(ver) + string(sni) + twoDigits(len(cs)) + twoDigits(next) + alpn
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	sort.Slice(es, func(i, j int) bool { return es[i] < es[j] })
	var b strings.Builder
	hex4(&b, cs)
	ciphers = b.String()
	b.Reset()
	hex4(&b, es)
	var sigs []uint16
	for _, s := range h.SigAlgs {
		if !isGREASE(s) {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) > 0 {
		b.WriteByte('_')
		hex4(&b, sigs)
	}
	exts = b.String()
	return a, ciphers, exts
}

// JA4 is the JA4 TLS client fingerprint (FoxIO-LLC/ja4, BSD-3-Clause):
// a_b_c with b and c the first 12 hex digits of the SHA-256 of the sorted
// cipher list and of the sorted extensions plus signature algorithms.
func (h *ClientHello) JA4(proto byte) string {
	a, c, e := h.JA4Parts(proto)
	return a + "_" + sha12(c) + "_" + sha12(e)
}

// JA4Raw is JA4_r: the same with the lists unhashed.
func (h *ClientHello) JA4Raw(proto byte) string {
	a, c, e := h.JA4Parts(proto)
	return a + "_" + c + "_" + e
}
