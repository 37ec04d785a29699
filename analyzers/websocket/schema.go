package websocket

import "github.com/pcapq/pcapq/schema"

// Schema is the websocket table: it has one row per WebSocket message or control frame.
var Schema = &schema.Table{
	Name:     "websocket",
	Analyzer: "websocket",
	Doc:      "One row per WebSocket message (its fragments joined) or control frame, on connections upgraded by an HTTP 101 answer to Upgrade: websocket (flows.service 'http,websocket'), as node_pcap reported them.",
	Columns: []schema.Column{
		schema.Col("capture_id", schema.Int32, "Capture."),
		schema.Col("flow_id", schema.Int64, "Connection (flows.flow_id)."),
		schema.Col("ts", schema.Timestamp, "Time of the message's first byte."),
		schema.Col("first_frame", schema.Int64, "Frame holding its first byte."),
		schema.Col("last_frame", schema.Int64, "Frame completing it."),
		schema.Col("direction", schema.String, "'orig' (client, masked) or 'resp' (server)."),
		schema.Col("opcode", schema.Uint8, "Opcode of its first frame (1 text, 2 binary, 8 close, 9 ping, 10 pong)."),
		schema.Col("opcode_name", schema.String, "text, binary, close, ping, pong, continuation (a continuation with no message open) or reserved-N."),
		schema.Col("fragments", schema.Int32, "Frames the message came in."),
		schema.Col("payload_len", schema.Int64, "Payload bytes (after unmasking; before any extension's decompression)."),
		schema.Col("masked", schema.Bool, "Its frames were masked (client to server)."),
		schema.Col("compressed", schema.Bool, "RSV1 set (permessage-deflate): the payload is compressed, so there is no preview."),
		schema.Col("close_code", schema.Uint16, "Status code of a close frame; NULL otherwise."),
		schema.Col("close_reason", schema.String, "Reason text of a close frame."),
		schema.Col("preview", schema.String, "First 64 bytes of an uncompressed text message."),
		schema.Col("payload", schema.Binary, "The payload, only with ingest --bodies (capped by --body-cap)."),
		schema.Col("truncated", schema.Bool, "The message did not end (connection end or gap), or the kept payload was capped."),
	},
	Report: []schema.ReportQuery{{
		Title: "Messages",
		Doc:   "WebSocket messages and control frames by direction and opcode: count, payload bytes, the largest payload, and messages that came in more than one frame.",
		SQL: "SELECT direction, opcode_name, count(*) AS messages, sum(payload_len)::BIGINT AS payload_bytes, max(payload_len) AS largest, " +
			"count(*) FILTER (WHERE fragments > 1) AS fragmented FROM websocket GROUP BY direction, opcode_name ORDER BY direction, opcode_name",
	}, {
		Title: "Connections",
		Doc:   "WebSocket connections by messages: count each way, payload bytes, and the close code each side sent (NULL: none).",
		SQL: "SELECT flow_id, count(*) FILTER (WHERE direction = 'orig') AS orig_messages, count(*) FILTER (WHERE direction = 'resp') AS resp_messages, " +
			"sum(payload_len)::BIGINT AS payload_bytes, max(close_code) FILTER (WHERE direction = 'orig') AS orig_close, max(close_code) FILTER (WHERE direction = 'resp') AS resp_close " +
			"FROM websocket GROUP BY flow_id ORDER BY payload_bytes DESC, flow_id",
	}},
}
