package httpextract

import "github.com/pcapq/pcapq/tcpsession"

// Header is one header field as it appeared on the wire (order kept).
type Header struct {
	Name  string
	Value string
}

// Transaction is one row of the http table: a request paired with its
// response on one connection. Times are nanoseconds since the Unix epoch;
// 0 means "not seen" (NULL in the table).
//
// The col tags name the http_data columns the fields fill (see package
// analyzers: a new column is a field with its tag and a schema entry);
// the analyzers/http package computes the others (ttfb_ms, duration_ms,
// uri and path, req_body_len, the header JSON).
type Transaction struct {
	FlowID      int64  `col:"flow_id"`
	CommunityID string `col:"community_id,omitempty"`
	TransDepth  int    `col:"trans_depth"` // 1-based position in the connection

	TsReqStart  int64 `col:"ts_req_start,omitempty"`  // capture time of the segment holding the first request byte
	TsReqEnd    int64 `col:"ts_req_end,omitempty"`    // ... of the segment completing the request (headers + body)
	TsRespStart int64 `col:"ts_resp_start,omitempty"` // ... holding the first response byte
	TsRespEnd   int64 `col:"ts_resp_end,omitempty"`   // ... completing the response
	ReqFrame    int64 `col:"req_frame,omitempty"`     // frame of the first request byte
	RespFrame   int64 `col:"resp_frame,omitempty"`    // frame of the first response byte

	Method         string `col:"method,omitempty"`
	Host           string `col:"host,omitempty"`
	URI, Path      string
	Query          string `col:"query,omitempty"`
	Version        string `col:"version,omitempty"`
	UserAgent      string `col:"user_agent,omitempty"`
	Referrer       string `col:"referrer,omitempty"`
	ReqContentType string `col:"req_content_type,omitempty"`
	ReqBodyLen     int64  // decoded request body length

	HasStatus        bool
	StatusCode       int    `col:"status_code,null=HasStatus"`
	StatusMsg        string `col:"status_msg,omitempty"`
	RespVersion      string `col:"resp_version,omitempty"`
	RespContentType  string `col:"resp_content_type,omitempty"`
	InfoCode         int    // last 1xx interim status before the final one (Zeek info_code), 0 if none
	InfoMsg          string // its reason phrase (Zeek info_msg)
	TransferEncoding string `col:"transfer_encoding,omitempty"`
	ContentEncoding  string `col:"content_encoding,omitempty"`
	RespBodyLen      int64  `col:"resp_body_len,null=HasStatus"` // decoded: de-chunked and decompressed
	RespWireLen      int64  `col:"resp_wire_len,null=HasStatus"` // body bytes as on the wire
	ReqHeaders       []Header
	RespHeaders      []Header
	Upgrade          string `col:"upgrade,omitempty"` // "websocket", "h2c", "connect" or ""
	Missing          string `col:"missing,omitempty"` // "response", "request" or ""
	Gap              bool   `col:"gap"`
	Error            string `col:"error,omitempty"` // Zeek-style name or ""
}

// Body is one row of http_bodies (only with Options.KeepBodies).
type Body struct {
	FlowID     int64          `col:"flow_id"`
	TransDepth int            `col:"trans_depth"`
	Dir        tcpsession.Dir // DirOrig = request body, DirResp = response body
	Data       []byte         `col:"body"` // decoded, capped at Options.MaxBodyKeep
	Truncated  bool           `col:"truncated"`
}

// Sink receives extracted rows; values passed are owned by the sink.
type Sink interface {
	Transaction(t *Transaction)
	Body(b *Body)
	Warning(frame int64, kind, detail string)
}

// Options bound the parser. Start from DefaultOptions.
type Options struct {
	KeepBodies         bool
	MaxBodyKeep        int64 // bytes of each body kept when KeepBodies
	MaxDecompressed    int64 // decoded body bytes counted before giving up (inflate_failed / bomb)
	MaxRatio           int64 // max decompressed/compressed ratio
	MaxHeaderBytes     int   // per message header block (net/http default 1 MiB)
	MaxHeaders         int   // header fields per message
	MaxLineLength      int   // request/status line and chunk-size line
	MaxPendingRequests int   // pipelined requests waiting for responses, per connection
}

// DefaultOptions returns safe bounds.
func DefaultOptions() Options {
	return Options{
		MaxBodyKeep:        1 << 20,
		MaxDecompressed:    64 << 20,
		MaxRatio:           1000,
		MaxHeaderBytes:     1 << 20,
		MaxHeaders:         256,
		MaxLineLength:      8192,
		MaxPendingRequests: 1024,
	}
}

// Values of Transaction.Error and Sink.Warning kinds. Names that Zeek's
// weird.log also uses are spelled as Zeek spells them.
const (
	ErrBadRequest       = "bad_HTTP_request"        // unparsable request line
	ErrBadReply         = "bad_HTTP_reply"          // unparsable status line
	ErrUnmatchedReply   = "unmatched_HTTP_reply"    // a response with no request to pair it with
	ErrMissingURI       = "missing_HTTP_uri"        // request line with a version but no target (warning only)
	ErrBadChunkSize     = "HTTP_bad_chunk_size"     // chunk-size line not hex, too long, or no CRLF after the data
	ErrBadContentLength = "HTTP_bad_content_length" // Content-Length not a number or conflicting
	ErrHeaderTooLong    = "HTTP_header_too_long"    // a line or the header block passed MaxLineLength / MaxHeaderBytes
	ErrTooManyHeaders   = "HTTP_too_many_headers"   // more than MaxHeaders fields
	ErrInflateFailed    = "inflate_failed"          // gzip/deflate body could not be decoded
	ErrInflateLimit     = "inflate_limit_exceeded"  // decoding stopped at MaxDecompressed or MaxRatio (a bomb)
	ErrTruncatedRequest = "truncated_HTTP_request"  // the stream ended (or a gap hit) inside the request
	ErrTruncatedReply   = "truncated_HTTP_reply"    // the stream ended (or a gap hit) inside the response
	ErrTooManyPending   = "HTTP_too_many_pending_requests"
)
