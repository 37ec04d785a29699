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
// and HTTP parser per shard, no shared state); a collector waits for each
// batch in order, adds the flow columns and builds the other tables; one
// writer hands Arrow record batches to the Sink (DuckDB). Stages pass
// batches over bounded channels under an errgroup, so memory is bounded by
// the number of batches in flight, and the results (rows, flow ids) are the
// same for any worker count. Arrow buffers and batch buffers come from one
// process-wide pool (poolAllocator) backed by an arena of transparent huge
// pages with a buddy allocator: released buffers are reused for any size,
// so the memory in use stays at what is in flight and is faulted in once.
// The packets rows are written to the packets_data table (integers where
// packets shows text) and HTTP rows to http_data (header maps as JSON
// text); see schema. The first packet writes are small and double up to
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
package ingest
