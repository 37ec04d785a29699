package tls

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
)

// certificate reads the server's Certificate message (TLS 1.2 and older:
// TLS 1.3 sends it encrypted) and fills the row from the first (leaf)
// certificate: subject and issuer as RFC 2253 strings (crypto/x509's
// pkix.Name.String), validity, subject alternative names (DNS names, IP
// addresses, e-mail addresses, URIs) and the SHA-256 of its DER bytes.
func (c *Conn) certificate(body []byte, frame int64) {
	r := &reader{b: body}
	list := r.bytes(int(r.u8())<<16 | int(r.u16()))
	if r.bad {
		c.sink.Warning(frame, WarnBadCertificate, "Certificate message: list length past the message")
		return
	}
	lr := &reader{b: list}
	for i := 0; len(lr.b) > 0 && i < maxCerts; i++ {
		der := lr.bytes(int(lr.u8())<<16 | int(lr.u16()))
		if lr.bad {
			c.sink.Warning(frame, WarnBadCertificate, "Certificate message: certificate length past the list")
			return
		}
		if i > 0 {
			continue // only the leaf is kept
		}
		sum := sha256.Sum256(der)
		c.row.HasCert = true
		c.row.CertSHA256 = hex.EncodeToString(sum[:])
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			c.sink.Warning(frame, WarnBadCertificate, "server certificate: "+err.Error())
			continue
		}
		c.row.HasValidity = true
		c.row.CertSubject = cert.Subject.String()
		c.row.CertIssuer = cert.Issuer.String()
		c.row.CertNotBefore = cert.NotBefore.Unix()
		c.row.CertNotAfter = cert.NotAfter.Unix()
		var san []string
		san = append(san, cert.DNSNames...)
		for _, ip := range cert.IPAddresses {
			san = append(san, ip.String())
		}
		san = append(san, cert.EmailAddresses...)
		for _, u := range cert.URIs {
			san = append(san, u.String())
		}
		if len(san) > maxSAN {
			san = san[:maxSAN]
		}
		c.row.CertSAN = san
	}
}

// maxSAN bounds the subject alternative names kept.
const maxSAN = 256
