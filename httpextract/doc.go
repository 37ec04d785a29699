// Package httpextract turns reassembled TCP streams into HTTP/1.x
// transactions: the "httpextract" arrow of
//
//	source -> decode -> tcpsession -> httpextract -> schema (Arrow) -> query (DuckDB)
//
// NewFactory returns the tcpsession.Options.NewStream hook. Each handler
// parses both directions of one connection incrementally, as bytes arrive
// in arbitrary pieces, and pairs responses with requests in order
// (pipelining), emitting one Transaction per pair to a Sink, in TransDepth
// order, when both halves are done or the stream closes.
//
// # Detection
//
// HTTP is recognised by content on any port: the originator's first bytes
// are a known method token and a space (an unknown upper-case token is
// accepted only when its request line ends in an HTTP version), or the
// responder's are "HTTP/". A direction that starts otherwise is dropped
// after at most 22 bytes (one line for an unknown token); a stream with
// neither is never reported (Service() stays "").
//
// # Messages
//
// HTTP/0.9 (request line without version; header lines that follow are
// still read, as Zeek does; the response has no status line and is the
// rest of the stream, StatusCode NULL where Zeek logs 0), 1.0 and 1.1. Bodies are framed by Transfer-Encoding: chunked
// (with trailers, which are appended to the headers), Content-Length, or
// the close of the stream (responses only). HEAD, 1xx, 204 and 304
// responses have no body. Interim 1xx responses (100 Continue) do not
// consume the request; the last one is kept in InfoCode/InfoMsg, as Zeek's
// info_code/info_msg. A 101 response, or a 2xx answer to CONNECT, sets
// Upgrade ("websocket", "h2c", "connect", ...) and ends HTTP parsing on the
// stream.
//
// Request and response bodies with Content-Encoding gzip, x-gzip or
// deflate (zlib or raw) are decoded as they stream, to count ReqBodyLen and
// RespBodyLen (as Zeek's request_body_len and response_body_len, which its
// HTTP analyzer counts after decompression in both directions); RespWireLen
// counts the response bytes after the header block as sent (chunk framing
// included). Decoding stops at Options.MaxDecompressed decoded bytes or
// Options.MaxRatio decoded bytes per compressed byte, with Error
// "inflate_limit_exceeded"; undecodable data gives "inflate_failed"; a body
// cut short (a gap, the end of the stream) counts what decoded. The bounds
// and the errors are the same for both directions.
//
// Unless Options.KeepBodies, decoding only counts: a count-only decoder
// reads every Huffman code and checks the stream as klauspost/compress
// would, but never produces the decoded bytes (a match adds its length),
// and gives the same RespBodyLen and Error for every body, with two
// exceptions. The gzip CRC-32 and zlib Adler-32 of the decoded bytes are not
// checked (the gzip ISIZE is), so a body wrong only there decodes without
// error. And a Huffman code with no symbols (an empty distance code, say)
// fails the body when used, as RFC 1951, zlib and Go's compress/flate have
// it, where klauspost/compress v1.20.3 decodes with the code of an earlier
// block. With KeepBodies, klauspost/compress decodes.
//
// # Bad input
//
// Every size taken from the input is bounded: a start line or chunk-size
// line by MaxLineLength, a header block by MaxHeaderBytes and MaxHeaders
// (as net/textproto), waiting requests by MaxPendingRequests (past it the
// oldest is given up with Missing = "response"; a queue of finished rows
// held back by one unfinished request is cut at twice that bound), all with
// Error "HTTP_too_many_pending_requests". A malformed
// message gets an Error (see the Err* constants, named after Zeek's
// weird.log where Zeek has a name) and a Sink.Warning; the parser then
// skips to the next line that starts a message. A Gap inside a
// Content-Length body or a chunk is skipped in place; elsewhere the message
// is cut and the parser resynchronises on the next line that starts a
// message (on the response side, also at the start of a segment). Either
// way the transaction touched gets Gap = true.
//
// Pairing after a gap follows time: a request is never answered by a
// response that began before it was sent (such a response gets its own
// row, Missing = "request", placed before the waiting requests). When a
// gap on the response side may have taken a status line (it fell between
// messages, or ran past the end of a Content-Length body) and the bytes
// after it do not start a response, they are the body of a response whose
// head was lost: it answers the oldest waiting request if that was sent
// before those bytes, which is then given up (Missing = "response", Gap),
// once per gap, so the next status line pairs with the next request, as
// tshark pairs them. At Close, a message cut short still yields a row with
// Error "truncated_HTTP_request"/"truncated_HTTP_reply"; requests never
// answered get Missing = "response", responses with no request Missing =
// "request" and Error "unmatched_HTTP_reply".
//
// # Memory and allocation
//
// No goroutine per stream. A direction buffers only the unparsed tail of
// the current line (at most MaxHeaderBytes); bodies are counted, not
// buffered, unless Options.KeepBodies (then up to MaxBodyKeep per body).
// Counting a compressed body carries at most 1.3 KiB of compressed input
// between segments (an unfinished block header or symbol) and holds 21 KB
// of decoding state per direction. With KeepBodies, decompression stages
// at most 128 KiB of compressed input per direction because the decoders
// pull input while streams push it (see inflate.go).
// Body bytes in steady state allocate nothing; per transaction the parser
// allocates the row, its strings and headers.
//
// # Buffer ownership
//
// Data's slice is only read during the call. Transactions and Bodies given
// to the Sink are never touched again by the parser. A Body is sent when
// its message ends, so before the Transaction row it belongs to.
package httpextract
