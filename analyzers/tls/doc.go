// Package tls reads the TLS handshake of a TCP connection into one row of
// the tls table: Zeek's ssl.log fields plus the client and server
// fingerprints and the server certificate. It never decrypts.
//
// # Parsing
//
// Conn reads the record layer of both directions as bytes arrive, in any
// pieces: a plaintext record (handshake, alert) is handled once complete,
// so a message belongs to the frame completing its record, as tshark shows
// it; handshake messages are reassembled across records (a ClientHello
// split over several records or segments is one message). Parsing of a
// connection ends once the session is established, so a long transfer
// costs one record header per record until then and nothing after.
//
// # Fields
//
// version, cipher and curve are the server's choices with Zeek's names
// (VersionName: "TLSv12", "TLSv13"; CipherName: the IANA name, generated
// from tshark's table by gen_ciphers.go; CurveName): version from
// supported_versions when present, curve from the TLS 1.3 key share or the
// TLS 1.2 ServerKeyExchange. server_name is the first host name of the
// first ClientHello's SNI, alpn_offered its ALPN list, alpn the server's
// choice (TLS 1.2 and older only: TLS 1.3 sends it encrypted, so Zeek and
// this package see none). resumed follows Zeek: the ServerHello echoes the
// client's session id (TLS 1.2 and older), the server accepts an offered
// pre-shared key (TLS 1.3), or the client sent a session ticket and its
// ChangeCipherSpec without a key exchange. established is Zeek's
// ssl_established: a ciphertext record after both sides switched to
// encryption (their ChangeCipherSpec; in TLS 1.3, where ChangeCipherSpec
// is a no-op, their first encrypted record), and handshake_ms runs from
// the first ClientHello to that record. last_alert is the last alert seen
// in the clear. The certificate columns describe the server's leaf
// certificate, parsed with crypto/x509 (subject and issuer as RFC 2253
// strings, validity, DNS/IP/e-mail/URI subject alternative names, the
// SHA-256 of the DER bytes); TLS 1.3 encrypts certificates.
//
// # Fingerprints
//
// ja3 and ja3s are salesforce/ja3's (and tshark's tls.handshake.ja3 and
// ja3s): MD5 of "version,ciphers,extensions,groups,point formats" and of
// "version,cipher,extensions", decimal, GREASE values left out. ja4 is the
// JA4 TLS client fingerprint of FoxIO-LLC/ja4 (BSD-3-Clause; the other JA4+
// methods are under another license and not implemented): GREASE values
// left out everywhere; an ALPN value starting with a byte above 127 gives
// "99" as the reference implementation prints it, another non-alphanumeric
// first or last byte the first and last hex digits of the value, as the
// JA4 specification says. The row keeps the first ClientHello's
// fingerprints and the last ServerHello's (after a HelloRetryRequest);
// Options.OnClientHello and OnServerHello see every hello.
//
// # Bad input
//
// A record longer than MaxRecord (2^14+2048), a record header that is not
// TLS, or a handshake message claiming more than MaxHandshakeMessage
// (default 256 KiB; the length field allows 16 MB) stops the parsing of
// that direction with a warning (Warn* kinds); nothing beyond one record
// and one bounded message is ever buffered. A gap stops the direction too
// (records cannot be found again). A hello whose lengths do not add up is
// warned and keeps what was read. At most 16 certificates of a chain are
// walked, 256 subject alternative names and 32 ALPN values kept.
package tls
