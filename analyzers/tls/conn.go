package tls

import (
	"strconv"
	"strings"
)

// Record content types.
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24
)

// Handshake message types.
const (
	hsClientHello       = 1
	hsServerHello       = 2
	hsCertificate       = 11
	hsServerKeyExchange = 12
	hsClientKeyExchange = 16
)

// Bounds.
const (
	// MaxRecord is the largest record body accepted: TLSCiphertext's
	// 2^14 + 2048 (RFC 5246 6.2.3). A longer record is not TLS.
	MaxRecord = 1<<14 + 2048
	// DefaultMaxHandshakeMessage bounds a handshake message being
	// reassembled across records (a certificate chain is the largest
	// usual one). A message claiming more (its length field allows 16 MB)
	// stops the parsing of that direction with a warning.
	DefaultMaxHandshakeMessage = 256 << 10
	// maxCerts bounds the certificates looked at in one Certificate message.
	maxCerts = 16
)

// Warning kinds.
const (
	WarnNotTLS          = "SSL_not_tls"            // a record header that is not TLS
	WarnRecordTooLong   = "SSL_record_too_long"    // a record longer than MaxRecord
	WarnHandshakeTooBig = "SSL_handshake_too_long" // a handshake message past the bound
	WarnMalformedHello  = "SSL_malformed_hello"    // a hello whose lengths do not add up
	WarnBadCertificate  = "SSL_bad_certificate"    // a certificate crypto/x509 cannot parse
	WarnGap             = "SSL_content_gap"        // bytes lost: the direction is not parsed further
)

// Row is one row of the tls table: one TLS connection (Zeek ssl.log
// semantics, plus fingerprints and the server certificate). Times are
// nanoseconds since the Unix epoch; 0 means not seen.
type Row struct {
	FlowID      int64  `col:"flow_id"`
	CommunityID string `col:"community_id,omitempty"`
	Ts          int64  `col:"ts"`                     // first TLS record
	ClientFrame int64  `col:"client_frame,omitempty"` // frame completing the first ClientHello
	ServerFrame int64  `col:"server_frame,omitempty"` // frame completing the ServerHello (the last one, after a HelloRetryRequest)

	Version     string   `col:"version,omitempty"` // negotiated, Zeek's names ("TLSv12", "TLSv13")
	Cipher      string   `col:"cipher,omitempty"`  // IANA name
	Curve       string   `col:"curve,omitempty"`
	ServerName  string   `col:"server_name,omitempty"`  // SNI of the first ClientHello
	ALPNOffered []string `col:"alpn_offered,omitempty"` // first ClientHello
	ALPN        string   `col:"alpn,omitempty"`         // selected by the server
	Resumed     bool     `col:"resumed"`
	Established bool     `col:"established"`
	LastAlert   string   `col:"last_alert,omitempty"` // last plaintext alert, Zeek's name

	JA3  string `col:"ja3,omitempty"`  // first ClientHello
	JA3S string `col:"ja3s,omitempty"` // ServerHello (as ServerFrame)
	JA4  string `col:"ja4,omitempty"`  // first ClientHello

	HasCert       bool     // a server certificate was seen (TLS 1.2 and older)
	HasValidity   bool     // crypto/x509 parsed it: subject, issuer, validity, SAN are set
	CertSubject   string   `col:"cert_subject,null=HasValidity"`
	CertIssuer    string   `col:"cert_issuer,null=HasValidity"`
	CertNotBefore int64    `col:"cert_not_before,sec,null=HasValidity"` // Unix seconds (certificates run to year 9999, past int64 nanoseconds)
	CertNotAfter  int64    `col:"cert_not_after,sec,null=HasValidity"`
	CertSAN       []string `col:"cert_san,omitempty"`
	CertSHA256    string   `col:"cert_sha256,omitempty"` // of the DER bytes, hex

	HandshakeNs int64 `col:"handshake_ms,ms,nullneg"` // first ClientHello to the record that established the session; -1 if not established
}

// Sink receives a connection's row and warnings.
type Sink interface {
	Row(r *Row)
	Warning(frame int64, kind, detail string)
}

// Options tune a Conn. The zero value is usable.
type Options struct {
	MaxHandshakeMessage int // 0: DefaultMaxHandshakeMessage
	// OnClientHello and OnServerHello, when set, see every hello (the
	// row keeps only the first ClientHello and the last ServerHello).
	OnClientHello func(h *ClientHello, frame int64)
	OnServerHello func(h *ServerHello, frame int64)
}

// Conn is the TLS state of one TCP connection: it reads the record layer
// of both directions, reassembles handshake messages across records and
// segments, and ends parsing once the session is established (everything
// after is encrypted). Drive it from one goroutine.
type Conn struct {
	sink Sink
	opts Options
	row  Row
	seen bool // a TLS record was parsed: the connection is TLS
	done bool // established (or both directions stopped): nothing more to read

	half [2]half

	chSeen, shSeen  bool
	clientSessionID string
	ticketEmptySess bool
	clientKeyExSeen bool
	clientPSK       bool
	tls13           bool
	chTs            int64
	cipherIsECDHE   bool
}

// half is one direction's record-layer state.
type half struct {
	hdr       [5]byte
	nhdr      int
	recType   uint8
	left      int // body bytes of the current record still to come
	plaintext bool
	rec       []byte // body of the current plaintext record
	hs        []byte // handshake bytes not yet parsed
	alert     [2]byte
	nalert    int
	encrypted bool // this side sent ChangeCipherSpec (or, TLS 1.3, an encrypted record)
	stopped   bool
}

// NewConn returns the state of one connection.
func NewConn(flowID int64, communityID string, opts Options, sink Sink) *Conn {
	if opts.MaxHandshakeMessage <= 0 {
		opts.MaxHandshakeMessage = DefaultMaxHandshakeMessage
	}
	return &Conn{sink: sink, opts: opts, row: Row{FlowID: flowID, CommunityID: communityID, HandshakeNs: -1}}
}

// Seen reports whether a TLS record was parsed on the connection.
func (c *Conn) Seen() bool { return c.seen }

// Done reports whether the connection needs no more bytes.
func (c *Conn) Done() bool { return c.done }

// Data feeds in-order bytes of direction d (0 = originator, 1 = responder).
func (c *Conn) Data(d int, data []byte, ts, frame int64) {
	h := &c.half[d&1]
	for len(data) > 0 && !c.done && !h.stopped {
		if h.left == 0 {
			// record header
			n := copy(h.hdr[h.nhdr:], data)
			h.nhdr += n
			data = data[n:]
			if h.nhdr < 5 {
				return
			}
			h.nhdr = 0
			if !c.startRecord(d, h, ts, frame) {
				return
			}
			continue
		}
		n := min(h.left, len(data))
		body := data[:n]
		data = data[n:]
		h.left -= n
		if h.plaintext {
			// A plaintext record is handled once complete, so a message
			// belongs to the frame completing its record, as tshark shows
			// it. The buffer holds at most MaxRecord bytes.
			h.rec = append(h.rec, body...)
			if h.left == 0 {
				c.recordBody(d, h, h.rec, ts, frame)
				h.rec = h.rec[:0]
			}
		}
	}
}

// startRecord checks a record header; false stops the direction.
func (c *Conn) startRecord(d int, h *half, ts, frame int64) bool {
	typ := h.hdr[0]
	length := int(h.hdr[3])<<8 | int(h.hdr[4])
	if typ < recChangeCipherSpec || typ > recHeartbeat || h.hdr[1] != 3 || h.hdr[2] > 4 {
		c.stop(d, frame, WarnNotTLS, "record header "+hexBytes(h.hdr[:]))
		return false
	}
	if length > MaxRecord {
		c.stop(d, frame, WarnRecordTooLong, "record of "+strconv.Itoa(length)+" bytes (max "+strconv.Itoa(MaxRecord)+")")
		return false
	}
	if !c.seen {
		c.seen = true
		c.row.Ts = ts
	}
	h.recType = typ
	h.left = length
	// A record is ciphertext once its side switched to encryption: after
	// its ChangeCipherSpec, or in TLS 1.3 any application_data record.
	if typ == recApplicationData && c.tls13 {
		h.encrypted = true
	}
	ciphertext := h.encrypted && typ != recChangeCipherSpec
	h.plaintext = !ciphertext && (typ == recHandshake || typ == recAlert)
	if typ == recChangeCipherSpec && c.shSeen && !c.tls13 {
		// In TLS 1.3 ChangeCipherSpec is a no-op for middleboxes (a
		// second ClientHello may follow it after a HelloRetryRequest);
		// before any ServerHello it cannot start encryption either.
		h.encrypted = true
		if d == 0 && c.ticketEmptySess && !c.clientKeyExSeen {
			c.row.Resumed = true // Zeek: a ticket offered, no key exchange before the client's CCS
		}
	}
	if ciphertext && c.half[0].encrypted && c.half[1].encrypted {
		// Zeek's ssl_established: the first ciphertext record once both
		// sides encrypt.
		c.row.Established = true
		if c.chSeen {
			c.row.HandshakeNs = ts - c.chTs
		}
		c.done = true
	}
	if length == 0 {
		h.plaintext = false
	}
	return true
}

func (c *Conn) stop(d int, frame int64, kind, detail string) {
	h := &c.half[d&1]
	h.stopped = true
	h.hs, h.rec = nil, nil
	if c.seen || kind != WarnNotTLS {
		c.sink.Warning(frame, kind, "TLS "+dirName(d)+": "+detail)
	}
	if c.half[0].stopped && c.half[1].stopped {
		c.done = true
	}
}

func dirName(d int) string {
	if d == 0 {
		return "client"
	}
	return "server"
}

// Gap reports lost bytes in direction d: records cannot be found again.
func (c *Conn) Gap(d int, n int64, frame int64) {
	if c.done || c.half[d&1].stopped {
		return
	}
	c.stop(d, frame, WarnGap, strconv.FormatInt(n, 10)+" bytes missing; the rest of this direction is not parsed")
}

func (c *Conn) recordBody(d int, h *half, body []byte, ts, frame int64) {
	switch h.recType {
	case recAlert:
		for _, b := range body {
			h.alert[h.nalert] = b
			h.nalert++
			if h.nalert == 2 {
				h.nalert = 0
				c.row.LastAlert = AlertName(h.alert[1])
			}
		}
	case recHandshake:
		// h.hs holds at most one message under the bound plus one record:
		// a longer message is refused as soon as its header is in.
		h.hs = append(h.hs, body...)
		c.handshakeMessages(d, h, ts, frame)
	}
}

// handshakeMessages parses the complete messages buffered in h.hs.
func (c *Conn) handshakeMessages(d int, h *half, ts, frame int64) {
	for !h.stopped && !c.done {
		if len(h.hs) < 4 {
			return
		}
		n := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])
		if n > c.opts.MaxHandshakeMessage {
			c.stop(d, frame, WarnHandshakeTooBig, "handshake message type "+strconv.Itoa(int(h.hs[0]))+" claims "+strconv.Itoa(n)+" bytes (max "+strconv.Itoa(c.opts.MaxHandshakeMessage)+")")
			return
		}
		if len(h.hs) < 4+n {
			return
		}
		c.handshake(d, h.hs[0], h.hs[4:4+n], ts, frame)
		rest := copy(h.hs, h.hs[4+n:])
		h.hs = h.hs[:rest]
	}
}

func (c *Conn) handshake(d int, typ uint8, body []byte, ts, frame int64) {
	switch {
	case typ == hsClientHello && d == 0:
		ch, err := ParseClientHello(body)
		if err != nil {
			c.sink.Warning(frame, WarnMalformedHello, "ClientHello: "+err.Error())
			if ch == nil {
				return
			}
		}
		if c.opts.OnClientHello != nil {
			c.opts.OnClientHello(ch, frame)
		}
		if c.chSeen {
			return // a second ClientHello (after a HelloRetryRequest)
		}
		c.chSeen = true
		c.chTs = ts
		c.row.ClientFrame = frame
		c.row.ServerName = ch.ServerName
		c.row.ALPNOffered = ch.ALPN
		c.row.JA3 = ch.JA3()
		c.row.JA4 = ch.JA4('t')
		if len(ch.SessionID) > 0 && !allZero(ch.SessionID) {
			c.clientSessionID = string(ch.SessionID)
		} else if ch.TicketNonEmpty {
			c.ticketEmptySess = true
		}
		c.clientPSK = ch.HasPSK
	case typ == hsServerHello && d == 1:
		sh, err := ParseServerHello(body)
		if err != nil {
			c.sink.Warning(frame, WarnMalformedHello, "ServerHello: "+err.Error())
			if sh == nil {
				return
			}
		}
		if c.opts.OnServerHello != nil {
			c.opts.OnServerHello(sh, frame)
		}
		c.shSeen = true
		c.row.ServerFrame = frame
		v := sh.Negotiated()
		c.row.Version = VersionName(v)
		c.row.Cipher = CipherName(sh.Cipher)
		c.row.JA3S = sh.JA3S()
		if sh.ALPN != "" {
			c.row.ALPN = sh.ALPN
		}
		if sh.HasKeyShare {
			c.row.Curve = CurveName(sh.KeyShare)
		}
		c.tls13 = v == 0x0304 || v>>8 == 0x7f
		name := c.row.Cipher
		c.cipherIsECDHE = strings.Contains(name, "_ECDHE_") || strings.Contains(name, "_ECDH_anon_")
		if c.clientSessionID != "" && string(sh.SessionID) == c.clientSessionID && !c.tls13 {
			c.row.Resumed = true
		}
		if sh.HasPSK && c.clientPSK {
			c.row.Resumed = true
		}
	case typ == hsCertificate && d == 1 && !c.row.HasCert && !c.tls13:
		c.certificate(body, frame)
	case typ == hsServerKeyExchange && d == 1 && c.cipherIsECDHE:
		// ECParameters: curve_type 3 (named_curve), then the group.
		if len(body) >= 3 && body[0] == 3 {
			c.row.Curve = CurveName(uint16(body[1])<<8 | uint16(body[2]))
		}
	case typ == hsClientKeyExchange && d == 0:
		c.clientKeyExSeen = true
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func hexBytes(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for i, x := range b {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// Close ends the connection: its row is emitted when a TLS record was
// seen.
func (c *Conn) Close(ts int64) {
	if !c.seen || !(c.chSeen || c.shSeen) {
		return
	}
	r := c.row
	c.sink.Row(&r)
	c.seen = false
}

// Verdict is what Detect says about a stream's first bytes.
type Verdict uint8

const (
	NeedMore Verdict = iota
	Yes
	No
)

// Detect looks at the first bytes of one direction: a TLS handshake record
// (content type 22, version 3.0 to 3.4, a length a record can have) that
// starts with a ClientHello (orig) or ServerHello (resp).
func Detect(b []byte, orig bool) Verdict {
	if len(b) == 0 {
		return NeedMore
	}
	if b[0] != recHandshake {
		return No
	}
	if len(b) < 2 {
		return NeedMore
	}
	if b[1] != 3 {
		return No
	}
	if len(b) < 3 {
		return NeedMore
	}
	if b[2] > 4 {
		return No
	}
	if len(b) < 5 {
		return NeedMore
	}
	length := int(b[3])<<8 | int(b[4])
	if length < 4 || length > MaxRecord {
		return No
	}
	if len(b) < 6 {
		return NeedMore
	}
	want := byte(hsClientHello)
	if !orig {
		want = hsServerHello
	}
	if b[5] != want {
		return No
	}
	return Yes
}
