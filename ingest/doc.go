// Package ingest reads captures (pcap, pcapng, gzip/zstd) into Records and
// runs the decode pipeline: the first stage of
// source (ingest) -> decode -> tcpsession -> httpextract -> schema (Arrow) -> query (DuckDB).
//
// Pipeline (Run): a reader goroutine copies records into batches of packets;
// decode workers decode each batch (decode.Decode, zero allocations per
// packet) and build its Arrow columns of the packets table in parallel; a
// dispatcher restores batch order, reassembles IP fragments (in capture
// order) and hands every batch to all flow shards, each of which tracks
// only the packets whose symmetric flow hash it owns (one tcpsession.Tracker
// and the protocol analyzers of package analyzers per shard, no shared
// state: a content dispatcher per TCP connection, UDP datagrams to the
// analyzers whose ports they carry); a collector waits for each batch in
// order, adds the flow columns and builds the other tables (the
// analyzers' rows append themselves to their tables, ordered by flow
// within a batch, so the collector knows no protocol table); one
// writer hands Arrow record batches to the Sink (DuckDB). Stages pass
// batches over bounded channels under an errgroup, so memory is bounded by
// the number of batches in flight, and the results (rows, flow ids) are the
// same for any worker count while the flow bounds hold (Options.Session).
// Arrow buffers and batch buffers come from a pool (poolAllocator) that
// reuses released buffers. By default it is Go memory, for the run;
// NewAllocator makes one backed by an arena of transparent huge pages with
// a buddy allocator, to share between the runs of a process (pcapq's
// command does): released buffers are reused for any size, so the memory
// in use stays at what is in flight and is faulted in once. Importing the
// package maps nothing and changes no process setting.
// The packets rows are written to the packets_data table (integers where
// packets shows text), HTTP rows to http_data (header maps as JSON
// text), and the dns, tls and websocket tables; see schema. The first packet writes are small and double up to
// FlushRows, so DuckDB starts early. Text from traffic is stored as
// schema.ValidText makes it (bytes outside UTF-8 as \xNN).
//
// Live sources (a capture, a pipe) set Options.FlushInterval: every
// interval a ticker sends the batch being filled (an empty one when no
// packet came) marked as a tick; the shards add a Snapshot of their flows
// not ended yet, the collector flushes every table and, when the sink is a
// Committer, hands it the open flows and the counts so far to commit. A
// packet is then visible at most about one interval after it was read.
// A Reader with a Stop method (a live capture waiting for packets) is
// stopped when the run fails.
//
// Readers: Open and NewReader find gzip or zstd compression by its magic
// number, not the file name, then pcap or pcapng by the magic inside. Both
// formats are read by this package's own parsers, which give each record its
// byte offset in the uncompressed stream:
//
//   - pcap: microsecond and nanosecond magic, both byte orders, format 2.x
//     (before 2.3 the caplen and len fields are swapped back, as libpcap
//     does), link type in the low 16 bits of the header field.
//   - pcapng: any number of sections, each with its own byte order and
//     interfaces; if_tsresol and if_tsoffset; enhanced, simple and obsolete
//     packet blocks; all other blocks skipped by their length.
//
// Captures are attacker controlled. Every length read from the input is
// bounded (DefaultRecordLen or the snaplen for pcap records, MaxRecordLen for
// any record or block). Damage stops the file with a sticky *FormatError
// (ErrTruncated, ErrRecordTooLong, ErrBadBlock) and every record before it is
// kept; oddities that tcpdump and Wireshark read through, such as a record
// longer than the snaplen, become Warnings. Next reuses the Record's Data
// buffer and allocates nothing per record.
//
// What a capture can make a run cost is bounded too:
//
//   - decompression by ratio as well as by window: past its first MiB a
//     gzip or zstd stream may expand to at most DefaultMaxRatio (1000)
//     bytes per compressed byte (Options.MaxRatio); past it reading stops
//     with ErrRatio, as at damage;
//   - warnings: at most MaxWarningsPerKind (1000) rows of a kind per
//     capture, then one warnings_not_written row per kind with the count
//     (Summary.WarningsNotWritten);
//   - time: a time field that is no time (a pcap fraction over a second,
//     a pcapng time outside 1677-2262, what int64 nanoseconds hold) gives
//     a record with NoTs, a NULL packets.ts and a bad_timestamp warning,
//     never a wrapped time; flow tracking takes such a record at the time
//     of the one before;
//   - workers: at most MaxWorkers; the flow bounds (Session.MaxFlows,
//     Session.MaxBufferedBytes) are split evenly across the flow shards,
//     and Options.Session says what may differ with the number of workers
//     once a shard reaches its share;
//   - cancellation: Run stops the reader's stream when its context is
//     done, so a stream that yields no packet for gigabytes still ends
//     within a buffer refill (1 MiB).
package ingest
