package dns

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// Bounds. A DNS message is at most 65535 bytes (a UDP datagram or a TCP
// length prefix), so every count read from it is bounded by its length
// too; these bound the work and the row.
const (
	// MaxQuestions is Zeek's dns_max_queries: a message claiming more
	// questions is not DNS ("DNS_Conn_count_too_large").
	MaxQuestions = 25
	// MaxAnswers bounds the answers kept in one row (and the answer
	// records parsed from one message).
	MaxAnswers = 256
	// maxPointers bounds the compression pointers followed for one name.
	// Pointers must also point strictly backwards (as Zeek requires), so
	// a loop is impossible; this bound is belt and braces.
	maxPointers = 64
	// maxNameText bounds a rendered name (Zeek's name buffer is 512 bytes).
	maxNameText = 512
	// maxTextLen bounds a rendered TXT/SPF answer.
	maxTextLen = 4096
)

// Problems, named as Zeek's weird.log names them where Zeek has a name.
const (
	ErrShort           = "DNS_truncated_len_lt_hdr_len"
	ErrTooManyQueries  = "DNS_Conn_count_too_large"
	ErrQuestionShort   = "DNS_truncated_quest_too_short"
	ErrAnswerShort     = "DNS_truncated_ans_too_short"
	ErrRDLength        = "DNS_truncated_RR_rdlength_lt_len"
	ErrLabelTooLong    = "DNS_label_too_long"
	ErrLabelPastEnd    = "DNS_label_len_gt_pkt"
	ErrForwardPointer  = "DNS_label_forward_compress_offset"
	ErrTooManyPointers = "DNS_name_too_many_pointers"
	ErrNameTooLong     = "DNS_NAME_too_long"
	ErrBadRRLength     = "DNS_RR_bad_length"
	ErrRRLength        = "DNS_RR_length_mismatch"
	ErrTCPGap          = "DNS_TCP_content_gap"
	ErrTCPTruncated    = "DNS_truncated_tcp_msg"
)

// Header is the fixed 12-byte DNS header.
type Header struct {
	ID      uint16
	QR      bool // response
	Opcode  uint8
	AA      bool
	TC      bool
	RD      bool
	RA      bool
	Z       uint8 // the three bits between RA and RCODE (Zeek's Z; AD and CD are its low bits)
	Rcode   uint8
	QDCount uint16
	ANCount uint16
	NSCount uint16
	ARCount uint16
}

// Message is what a row needs from one DNS message.
type Message struct {
	Header
	HasQuestion bool
	QName       string // first question, lower-cased, no trailing dot (Zeek)
	QType       uint16
	QClass      uint16
	// Answers are the answer-section records rendered as Zeek's dns.log
	// renders them, with their TTLs (seconds). Records Zeek does not log
	// (OPT, HINFO, WKS, CAA, SVCB, HTTPS, TSIG) are left out.
	Answers []string
	TTLs    []uint32
	// Err is the first problem met (an Err* constant), or "". What was
	// parsed before it is kept.
	Err string
}

// Parse parses one DNS message into m (reusing its slices). It returns
// false when b is too short to hold a header: there is nothing to make a
// row of. Otherwise m holds what was parsed, and m.Err the first problem.
func Parse(b []byte, m *Message) bool {
	ans, ttls := m.Answers[:0], m.TTLs[:0]
	*m = Message{Answers: ans, TTLs: ttls}
	if len(b) < 12 {
		m.Err = ErrShort
		return false
	}
	flags := binary.BigEndian.Uint16(b[2:])
	m.Header = Header{
		ID:      binary.BigEndian.Uint16(b),
		QR:      flags&0x8000 != 0,
		Opcode:  uint8(flags>>11) & 0xf,
		AA:      flags&0x0400 != 0,
		TC:      flags&0x0200 != 0,
		RD:      flags&0x0100 != 0,
		RA:      flags&0x0080 != 0,
		Z:       uint8(flags>>4) & 0x7,
		Rcode:   uint8(flags & 0xf),
		QDCount: binary.BigEndian.Uint16(b[4:]),
		ANCount: binary.BigEndian.Uint16(b[6:]),
		NSCount: binary.BigEndian.Uint16(b[8:]),
		ARCount: binary.BigEndian.Uint16(b[10:]),
	}
	if m.QDCount > MaxQuestions {
		m.Err = ErrTooManyQueries
		return true
	}
	p := parser{msg: b, off: 12}
	for i := 0; i < int(m.QDCount); i++ {
		name, ok := p.name(true)
		if !ok {
			m.Err = p.err
			return true
		}
		if p.off+4 > len(b) {
			m.Err = ErrQuestionShort
			return true
		}
		if i == 0 {
			m.HasQuestion = true
			m.QName = name
			m.QType = binary.BigEndian.Uint16(b[p.off:])
			m.QClass = binary.BigEndian.Uint16(b[p.off+2:])
		}
		p.off += 4
	}
	for i := 0; i < int(m.ANCount) && i < MaxAnswers; i++ {
		owner, ok := p.name(true)
		if !ok {
			m.Err = p.err
			return true
		}
		if p.off+10 > len(b) {
			m.Err = ErrAnswerShort
			return true
		}
		typ := binary.BigEndian.Uint16(b[p.off:])
		ttl := binary.BigEndian.Uint32(b[p.off+4:])
		rdlen := int(binary.BigEndian.Uint16(b[p.off+8:]))
		p.off += 10
		if p.off+rdlen > len(b) {
			m.Err = ErrRDLength
			return true
		}
		text, keep, ok := p.rdata(typ, owner, p.off, rdlen)
		if !ok {
			m.Err = p.err
			return true
		}
		if p.err != "" && m.Err == "" {
			m.Err = p.err // a warning (length mismatch); the record is kept
		}
		if keep {
			m.Answers = append(m.Answers, text)
			m.TTLs = append(m.TTLs, ttl)
		}
		p.off += rdlen
	}
	return true
}

type parser struct {
	msg []byte
	off int
	err string
	buf []byte
}

// name reads a (possibly compressed) domain name at p.off and advances
// p.off past it. It renders labels joined by '.', without a trailing dot,
// lower-cased when lower, as Zeek does; the root is "".
func (p *parser) name(lower bool) (string, bool) {
	end, s, ok := p.nameAt(p.off, lower)
	if ok {
		p.off = end
	}
	return s, ok
}

// nameAt reads a name starting at off; end is the offset after the name
// in the message (after the first pointer, if any).
func (p *parser) nameAt(off int, lower bool) (end int, s string, ok bool) {
	b := p.msg
	buf := p.buf[:0]
	end = -1
	jumps := 0
	wire := 0
	for {
		if off >= len(b) {
			p.err = ErrLabelPastEnd
			return 0, "", false
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			p.buf = buf
			if len(buf) > 0 {
				buf = buf[:len(buf)-1] // the trailing dot
			}
			return end, string(buf), true
		case l&0xc0 == 0xc0:
			if off+1 >= len(b) {
				p.err = ErrLabelPastEnd
				return 0, "", false
			}
			ptr := (l&0x3f)<<8 | int(b[off+1])
			if end < 0 {
				end = off + 2
			}
			// A pointer must point before the label that holds it, so
			// every jump goes strictly backwards and cannot loop.
			if ptr >= off {
				p.err = ErrForwardPointer
				return 0, "", false
			}
			jumps++
			if jumps > maxPointers {
				p.err = ErrTooManyPointers
				return 0, "", false
			}
			off = ptr
		case l > 63:
			p.err = ErrLabelTooLong
			return 0, "", false
		default:
			if off+1+l > len(b) {
				p.err = ErrLabelPastEnd
				return 0, "", false
			}
			wire += l + 1
			if wire > 255 || len(buf)+l+1 > maxNameText {
				p.err = ErrNameTooLong
				return 0, "", false
			}
			for _, c := range b[off+1 : off+1+l] {
				if lower && 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf = append(buf, c)
			}
			buf = append(buf, '.')
			off += 1 + l
		}
	}
}

// rdata renders one answer record's data as Zeek's dns.log does. keep is
// false for records Zeek does not log. ok is false when the record is
// malformed past recovery (p.err says why).
func (p *parser) rdata(typ uint16, owner string, off, n int) (text string, keep, ok bool) {
	b := p.msg
	rd := b[off : off+n]
	// nameIn reads a name inside the rdata and checks it ends at the
	// rdata's end (a mismatch is only warned, as Zeek does).
	nameIn := func(at int, last bool) (string, int, bool) {
		end, s, ok := p.nameAt(at, true)
		if !ok {
			return "", 0, false
		}
		if end > off+n {
			p.err = ErrRDLength
			return "", 0, false
		}
		if last && end != off+n {
			p.err = ErrRRLength
		}
		return s, end, true
	}
	switch typ {
	case 1: // A
		if n != 4 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		return netip.AddrFrom4([4]byte(rd)).String(), true, true
	case 28, 38: // AAAA, A6 (Zeek parses both as a 16-byte address)
		if n != 16 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		return netip.AddrFrom16([16]byte(rd)).String(), true, true
	case 2, 5, 12: // NS, CNAME, PTR
		s, _, ok := nameIn(off, true)
		return s, ok, ok
	case 15: // MX: the exchange
		if n < 3 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		s, _, ok := nameIn(off+2, true)
		return s, ok, ok
	case 33: // SRV: the target
		if n < 7 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		s, _, ok := nameIn(off+6, true)
		return s, ok, ok
	case 6: // SOA: the primary name server
		s, end, ok := nameIn(off, false)
		if !ok {
			return "", false, false
		}
		if _, end, ok = nameIn(end, false); !ok {
			return "", false, false
		}
		if end+20 != off+n {
			p.err = ErrRRLength
		}
		return s, true, true
	case 16, 99: // TXT, SPF: "TXT <len> <text>" per string, space separated
		tag := "TXT "
		if typ == 99 {
			tag = "SPF "
		}
		var sb strings.Builder
		for i := 0; i < len(rd); {
			l := int(rd[i])
			i++
			if i+l > len(rd) {
				l = len(rd) - i // Zeek takes what is there
			}
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			if sb.Len()+len(tag)+8+l > maxTextLen {
				break
			}
			sb.WriteString(tag)
			sb.WriteString(strconv.Itoa(l))
			sb.WriteByte(' ')
			sb.Write(rd[i : i+l])
			i += l
		}
		return sb.String(), sb.Len() > 0, true
	case 46: // RRSIG: "RRSIG <type covered> <signer>"
		if n < 19 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		signer, _, ok := nameIn(off+18, false)
		if !ok {
			return "", false, false
		}
		if signer == "" {
			signer = "<Root>"
		}
		return "RRSIG " + strconv.Itoa(int(binary.BigEndian.Uint16(rd))) + " " + signer, true, true
	case 48: // DNSKEY: "DNSKEY <algorithm>"
		if n < 4 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		return "DNSKEY " + strconv.Itoa(int(rd[3])), true, true
	case 47: // NSEC: "NSEC <owner> <next>"
		next, _, ok := nameIn(off, false)
		if !ok {
			return "", false, false
		}
		return "NSEC " + owner + " " + next, true, true
	case 50:
		return "NSEC3", true, true
	case 51:
		return "NSEC3PARAM", true, true
	case 43: // DS: "DS <algorithm> <digest type>"
		if n < 4 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		return "DS " + strconv.Itoa(int(rd[2])) + " " + strconv.Itoa(int(rd[3])), true, true
	case 65534:
		return "BIND9 signing signal", true, true
	case 44: // SSHFP: "SSHFP: <fingerprint hex>"
		if n < 2 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		return "SSHFP: " + hex.EncodeToString(rd[2:]), true, true
	case 29: // LOC: "LOC:  <size> <horiz pre> <vert pre>"
		if n < 16 {
			p.err = ErrBadRRLength
			return "", false, false
		}
		return "LOC:  " + strconv.Itoa(int(rd[1])) + " " + strconv.Itoa(int(rd[2])) + " " + strconv.Itoa(int(rd[3])), true, true
	case 11, 13, 41, 64, 65, 250, 257, 32:
		// WKS, HINFO, OPT, SVCB, HTTPS, TSIG, CAA, NB: parsed by Zeek but
		// not logged in answers.
		return "", false, true
	}
	return "<unknown type=" + strconv.Itoa(int(typ)) + ">", true, true
}
