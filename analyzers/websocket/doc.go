// Package websocket reads the WebSocket frames (RFC 6455) of an upgraded
// connection into rows of the websocket table, as node_pcap reported
// WebSocket messages: one row per data message, its fragments joined, and
// one per control frame (close, ping, pong), in the order they complete.
//
// Conn is fed each direction's bytes from the first byte after the HTTP
// handshake (the client's Upgrade request head and the server's 101
// response head; the HTTP analyzer hands the stream over). The client's
// frames are masked, the server's are not; payloads are unmasked as they
// pass, in any pieces.
//
// A row has the message's opcode (of its first frame), the number of
// fragments, the payload length on the wire, whether it was masked or
// compressed (RSV1, permessage-deflate), the first and completing frame,
// a close frame's status code and reason, and for an uncompressed text
// message a preview of its first PreviewLen bytes. Payloads are kept only
// with Options.KeepPayloads (pcapq's --bodies), up to Options.MaxPayload
// bytes per message (Truncated marks a cut).
//
// # Bad input
//
// Nothing is buffered for a frame but its header, at most 125 bytes of a
// control frame, the preview and the kept payload: payload lengths are
// counted down, so a frame claiming 2^63 bytes costs nothing. A claim past
// MaxFrameLen (2^40 bytes) is not a real session: it is warned and the
// direction is not parsed further. A control frame longer than 125 bytes
// or fragmented, a reserved opcode, a continuation with no message open
// or a new message while one is open are warned (Warn* kinds) and still
// give rows. A gap, or the end of the connection, inside a message emits
// it with Truncated set and a warning; after a gap the direction is not
// parsed further (frames cannot be found again). Bytes after a side's
// close frame are not frames: warned once and skipped.
package websocket
