package tls

import "github.com/pcapq/pcapq/schema"

// Schema is the tls table: it has one row per TLS connection (Zeek ssl.log, with fingerprints).
var Schema = &schema.Table{
	Name:     "tls",
	Analyzer: "tls",
	Doc:      "One row per TLS connection found by content on any TCP port (flows.service 'ssl'), with Zeek's ssl.log semantics, the JA3/JA3S/JA4 fingerprints and the server certificate (TLS 1.2 and older; TLS 1.3 encrypts it). Nothing is decrypted.",
	Columns: []schema.Column{
		schema.Col("capture_id", schema.Int32, "Capture."),
		schema.Col("flow_id", schema.Int64, "Connection (flows.flow_id)."),
		schema.Col("community_id", schema.String, "Community ID of the connection."),
		schema.Col("ts", schema.Timestamp, "Time of the first TLS record."),
		schema.Col("client_frame", schema.Int64, "Frame completing the first ClientHello."),
		schema.Col("server_frame", schema.Int64, "Frame completing the ServerHello (the last one, after a HelloRetryRequest)."),
		schema.Col("version", schema.String, "Negotiated version as Zeek names it (TLSv10, TLSv11, TLSv12, TLSv13, SSLv3), from supported_versions when present."),
		schema.Col("cipher", schema.String, "Chosen cipher suite, IANA name (TLS_AES_128_GCM_SHA256, ...)."),
		schema.Col("curve", schema.String, "Key exchange group (x25519, secp256r1, ...): the TLS 1.3 key share or the TLS 1.2 ECDHE parameters."),
		schema.Col("server_name", schema.String, "SNI host name of the first ClientHello."),
		schema.Col("alpn_offered", schema.Strings, "ALPN protocols the client offered, in order."),
		schema.Col("alpn", schema.String, "ALPN protocol the server chose (TLS 1.2 and older: TLS 1.3 sends it encrypted)."),
		schema.Col("resumed", schema.Bool, "Session resumed (Zeek's rule: session id echoed, ticket without key exchange, or a TLS 1.3 pre-shared key accepted)."),
		schema.Col("established", schema.Bool, "Handshake completed: a ciphertext record after both sides switched to encryption (Zeek's ssl_established)."),
		schema.Col("last_alert", schema.String, "Last alert seen in the clear, Zeek's name (handshake_failure, ...)."),
		schema.Col("ja3", schema.String, "JA3 of the first ClientHello (salesforce/ja3, as tshark computes it)."),
		schema.Col("ja3s", schema.String, "JA3S of the ServerHello."),
		schema.Col("ja4", schema.String, "JA4 TLS client fingerprint of the first ClientHello (FoxIO-LLC/ja4)."),
		schema.Col("cert_subject", schema.String, "Subject of the server's leaf certificate (RFC 2253)."),
		schema.Col("cert_issuer", schema.String, "Its issuer (RFC 2253)."),
		schema.Col("cert_not_before", schema.TimestampMicros, "Start of its validity."),
		schema.Col("cert_not_after", schema.TimestampMicros, "End of its validity."),
		schema.Col("cert_san", schema.Strings, "Its subject alternative names: DNS names, IP addresses, e-mail addresses, URIs."),
		schema.Col("cert_sha256", schema.String, "SHA-256 of its DER bytes, hex."),
		schema.Col("handshake_ms", schema.Float64, "First ClientHello to the record that established the session, in ms; NULL when not established."),
	},
	Report: []schema.ReportQuery{{
		Title: "Server names",
		Doc:   "TLS connections by SNI server name and negotiated version: connections, established, and the median handshake time in ms (first ClientHello to the first encrypted record).",
		SQL: "SELECT coalesce(server_name, '(no SNI)') AS server_name, coalesce(version, '(none)') AS version, count(*) AS connections, " +
			"count(*) FILTER (WHERE established) AS established, round(median(handshake_ms), 3) AS handshake_p50_ms " +
			"FROM tls GROUP BY 1, 2 ORDER BY connections DESC, server_name, version",
	}, {
		Title: "Versions and ciphers",
		Doc:   "TLS connections by negotiated version and cipher suite (IANA name).",
		SQL:   "SELECT coalesce(version, '(none)') AS version, coalesce(cipher, '(none)') AS cipher, count(*) AS connections FROM tls GROUP BY 1, 2 ORDER BY connections DESC, version, cipher",
	}, {
		Title: "Client fingerprints",
		Doc:   "TLS connections by the client's JA4 and JA3 fingerprints, with the server names they asked for.",
		SQL: "SELECT ja4, ja3, count(*) AS connections, count(DISTINCT server_name) AS server_names, min(server_name) AS first_server_name " +
			"FROM tls WHERE ja4 IS NOT NULL GROUP BY ja4, ja3 ORDER BY connections DESC, ja4, ja3",
	}, {
		Title: "Certificates",
		Doc:   "Server leaf certificates seen in the clear (TLS 1.2 and older), the one expiring first on top: subject, issuer, validity (UTC) and connections.",
		SQL: "SELECT cert_subject, cert_issuer, strftime(cert_not_before, '%Y-%m-%d %H:%M:%S') AS not_before, strftime(cert_not_after, '%Y-%m-%d %H:%M:%S') AS not_after, " +
			"count(*) AS connections FROM tls WHERE cert_sha256 IS NOT NULL GROUP BY cert_sha256, cert_subject, cert_issuer, cert_not_before, cert_not_after " +
			"ORDER BY cert_not_after, cert_subject, cert_sha256",
	}, {
		Title: "Alerts",
		Doc:   "TLS connections by the last alert seen in the clear.",
		SQL:   "SELECT last_alert, count(*) AS connections FROM tls WHERE last_alert IS NOT NULL GROUP BY last_alert ORDER BY connections DESC, last_alert",
	}},
}
