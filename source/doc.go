// Package source is where packets come from: the first stage of
// source -> decode -> tcpsession -> analyzers -> schema (Arrow) -> query (DuckDB).
//
// A source is anything that yields packet records: a capture file or
// stream (this package: pcap and pcapng, plain, gzip or zstd), a live
// capture on an interface (package source/live, libpcap through cgo), or
// a wrapper of another source (live.Filter, a BPF filter on a file). All
// of them implement Reader, and the pipeline (package ingest) reads them
// through its methods alone, never telling them apart:
//
//   - Next fills a Record (time in nanoseconds or none, lengths, link
//     type, interface, byte offset, data valid until the next call) and
//     returns io.EOF at a clean end, a *FormatError at damage (every
//     record before it is good), or another error when the source itself
//     fails (I/O, an interruption);
//   - Format and LinkTypes describe the capture (the captures table);
//   - Warnings lists what did not stop reading (the warnings table);
//   - BytesRead is progress, safe to call while Next runs;
//   - Interrupt makes a Next that waits (a live capture without traffic)
//     or reads far without a record (blocks skipped, a decompressed
//     stream of no packets) return soon: the pipeline calls it when its
//     run is cancelled or fails;
//   - Close releases what the source holds (the file Open opened, a
//     decompressor, a capture handle); the caller that made the source
//     closes it, not the pipeline.
//
// To add a source, implement Reader in a package of its own (as
// source/live does) and hand it to ingest.Run; nothing in ingest needs to
// change. Keep Next free of allocations per record (reuse the Record's
// Data), give each record the offset it has in a file the source can
// write (or -1), and bound every length the input claims.
//
// Files: Open and NewReader find gzip or zstd compression by its magic
// number, not the file name, then pcap or pcapng by the magic inside.
// Both formats are read by this package's own parsers, which give each
// record its byte offset in the uncompressed stream:
//
//   - pcap: microsecond and nanosecond magic, both byte orders, format 2.x
//     (before 2.3 the caplen and len fields are swapped back, as libpcap
//     does), Kuznetzov's patched headers, link type in the low 16 bits of
//     the header field.
//   - pcapng: any number of sections, each with its own byte order and
//     interfaces; if_tsresol and if_tsoffset; enhanced, simple and obsolete
//     packet blocks; all other blocks skipped by their length.
//
// Limits. Captures are attacker controlled. Every length read from the
// input is bounded (DefaultRecordLen or the snaplen for pcap records,
// MaxRecordLen for any record or block). Damage stops the file with a
// sticky *FormatError naming the file and offset (ErrTruncated,
// ErrRecordTooLong, ErrBadBlock, ErrCorrupt, ErrRatio; ErrNotCapture when
// it is no capture at all) and every record before it is kept; oddities
// that tcpdump and Wireshark read through, such as a record longer than
// the snaplen, become Warnings, at most MaxWarningsPerKind of a kind (then
// one KindWarningsNotWritten warning with the count). A time field that
// is no time (a pcap fraction over a second, a pcapng time outside
// 1677-2262, what int64 nanoseconds hold) gives a record with NoTs and a
// KindBadTimestamp warning, never a wrapped time. Decompression is bounded
// by window (zstd: 128 MiB) and by ratio: past its first MiB a gzip or
// zstd stream may expand to at most DefaultMaxRatio (1000) bytes per
// compressed byte (Options.MaxRatio); past it reading stops with ErrRatio,
// as at damage. Interrupt stops the stream within a buffer refill
// (Options.BufferSize, 1 MiB by default). Next reuses the Record's Data
// buffer and allocates nothing per record.
package source
