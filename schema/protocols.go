package schema

import "github.com/apache/arrow-go/v18/arrow"

var (
	tTsUs = &arrow.TimestampType{Unit: arrow.Microsecond} // dates past 2262 (certificate validity)
	tI32s = arrow.ListOf(arrow.PrimitiveTypes.Int32)
)

// DNS has one row per DNS query/response pair (Zeek dns.log).
var DNS = &Table{
	Name: "dns",
	Doc:  "One row per DNS query paired with its response, over UDP (ports 53, 5353, 5355) and TCP (port 53), with Zeek's dns.log semantics. A query never answered and a response without its query get rows too (missing says which). Names and text from the traffic are stored as UTF-8, a byte outside it as \\xNN.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"flow_id", tI64, "Flow (flows.flow_id)."},
		{"community_id", tStr, "Community ID of the flow."},
		{"ts", tTs, "Time of the first message of the pair (the query, when seen)."},
		{"query_frame", tI64, "Frame of the query (for TCP: the frame completing it); NULL when not seen."},
		{"resp_frame", tI64, "Frame of the response; NULL when not seen."},
		{"proto", tStr, "'udp' or 'tcp'."},
		{"trans_id", tU16, "Transaction id."},
		{"query", tStr, "Name asked for (first question), lower-cased, without the trailing dot, as Zeek logs it."},
		{"qclass", tU16, "Query class."},
		{"qclass_name", tStr, "Its name as Zeek writes it (C_INTERNET, ...)."},
		{"qtype", tU16, "Query type."},
		{"qtype_name", tStr, "Its name as Zeek writes it (A, AAAA, PTR, *, query-N, ...)."},
		{"rcode", tU16, "Response code; NULL without a response."},
		{"rcode_name", tStr, "Its name as Zeek writes it (NOERROR, NXDOMAIN, REFUSED, rcode-N, ...)."},
		{"aa", tBool, "Authoritative Answer bit of the response."},
		{"tc", tBool, "Truncation bit, of the query or the response."},
		{"rd", tBool, "Recursion Desired bit of the query."},
		{"ra", tBool, "Recursion Available bit of the response."},
		{"z", tU8, "The three reserved bits (Zeek's Z; AD and CD are its low bits)."},
		{"answers", tStrs, "Answer-section records as Zeek's dns.log renders them: addresses, names (CNAME, PTR, NS, MX exchange, SRV target, SOA primary), 'TXT <len> <text>', '<unknown type=N>'; NULL when none."},
		{"ttls", tI32s, "TTL in seconds of each answer."},
		{"rtt_ms", tF64, "Response time minus query time in ms; NULL unless both were seen."},
		{"rejected", tBool, "Zeek's rejected: a response with no records at all, or an error code without a question."},
		{"missing", tStr, "'response' when the query was never answered, 'request' when the response's query was not seen; NULL for a pair."},
	},
}

// TLS has one row per TLS connection (Zeek ssl.log, with fingerprints).
var TLS = &Table{
	Name: "tls",
	Doc:  "One row per TLS connection found by content on any TCP port (flows.service 'ssl'), with Zeek's ssl.log semantics, the JA3/JA3S/JA4 fingerprints and the server certificate (TLS 1.2 and older; TLS 1.3 encrypts it). Nothing is decrypted.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"flow_id", tI64, "Connection (flows.flow_id)."},
		{"community_id", tStr, "Community ID of the connection."},
		{"ts", tTs, "Time of the first TLS record."},
		{"client_frame", tI64, "Frame completing the first ClientHello."},
		{"server_frame", tI64, "Frame completing the ServerHello (the last one, after a HelloRetryRequest)."},
		{"version", tStr, "Negotiated version as Zeek names it (TLSv10, TLSv11, TLSv12, TLSv13, SSLv3), from supported_versions when present."},
		{"cipher", tStr, "Chosen cipher suite, IANA name (TLS_AES_128_GCM_SHA256, ...)."},
		{"curve", tStr, "Key exchange group (x25519, secp256r1, ...): the TLS 1.3 key share or the TLS 1.2 ECDHE parameters."},
		{"server_name", tStr, "SNI host name of the first ClientHello."},
		{"alpn_offered", tStrs, "ALPN protocols the client offered, in order."},
		{"alpn", tStr, "ALPN protocol the server chose (TLS 1.2 and older: TLS 1.3 sends it encrypted)."},
		{"resumed", tBool, "Session resumed (Zeek's rule: session id echoed, ticket without key exchange, or a TLS 1.3 pre-shared key accepted)."},
		{"established", tBool, "Handshake completed: a ciphertext record after both sides switched to encryption (Zeek's ssl_established)."},
		{"last_alert", tStr, "Last alert seen in the clear, Zeek's name (handshake_failure, ...)."},
		{"ja3", tStr, "JA3 of the first ClientHello (salesforce/ja3, as tshark computes it)."},
		{"ja3s", tStr, "JA3S of the ServerHello."},
		{"ja4", tStr, "JA4 TLS client fingerprint of the first ClientHello (FoxIO-LLC/ja4)."},
		{"cert_subject", tStr, "Subject of the server's leaf certificate (RFC 2253)."},
		{"cert_issuer", tStr, "Its issuer (RFC 2253)."},
		{"cert_not_before", tTsUs, "Start of its validity."},
		{"cert_not_after", tTsUs, "End of its validity."},
		{"cert_san", tStrs, "Its subject alternative names: DNS names, IP addresses, e-mail addresses, URIs."},
		{"cert_sha256", tStr, "SHA-256 of its DER bytes, hex."},
		{"handshake_ms", tF64, "First ClientHello to the record that established the session, in ms; NULL when not established."},
	},
}

// WebSocket has one row per WebSocket message or control frame.
var WebSocket = &Table{
	Name: "websocket",
	Doc:  "One row per WebSocket message (its fragments joined) or control frame, on connections upgraded by an HTTP 101 answer to Upgrade: websocket (flows.service 'http,websocket'), as node_pcap reported them.",
	Columns: []Column{
		{"capture_id", tI32, "Capture."},
		{"flow_id", tI64, "Connection (flows.flow_id)."},
		{"ts", tTs, "Time of the message's first byte."},
		{"first_frame", tI64, "Frame holding its first byte."},
		{"last_frame", tI64, "Frame completing it."},
		{"direction", tStr, "'orig' (client, masked) or 'resp' (server)."},
		{"opcode", tU8, "Opcode of its first frame (1 text, 2 binary, 8 close, 9 ping, 10 pong)."},
		{"opcode_name", tStr, "text, binary, close, ping, pong, continuation (a continuation with no message open) or reserved-N."},
		{"fragments", tI32, "Frames the message came in."},
		{"payload_len", tI64, "Payload bytes (after unmasking; before any extension's decompression)."},
		{"masked", tBool, "Its frames were masked (client to server)."},
		{"compressed", tBool, "RSV1 set (permessage-deflate): the payload is compressed, so there is no preview."},
		{"close_code", tU16, "Status code of a close frame; NULL otherwise."},
		{"close_reason", tStr, "Reason text of a close frame."},
		{"preview", tStr, "First 64 bytes of an uncompressed text message."},
		{"payload", tBlob, "The payload, only with ingest --bodies (capped by --body-cap)."},
		{"truncated", tBool, "The message did not end (connection end or gap), or the kept payload was capped."},
	},
}
