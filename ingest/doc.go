// Package ingest runs the pipeline that turns the records of a source into
// table rows:
// source -> decode -> tcpsession -> analyzers -> schema (Arrow) -> query (DuckDB).
// Sources are package source's: Run reads any source.Reader (a capture
// file, a live capture, a filtered file) through that interface alone, and
// does not close it.
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
// When the run is cancelled or fails, the reading goroutine interrupts the
// source (source.Reader's Interrupt: a file's stream stops, a live capture
// stops), so that a Next that waits for packets or skips gigabytes of
// blocks returns; a run that ends well leaves the source as it is (a live
// capture goes on into the next run when rotating).
//
// Reading a capture (formats, compression, the bounds on lengths,
// decompression and warnings of the readers) is package source's; see
// there. Damage stops a capture with a *source.FormatError: Run keeps every
// row before it and reports it in Summary.ReadErr and one warnings row.
//
// What a capture can make a run cost is bounded:
//
//   - decompression: bounded by the reader (source.Options.MaxRatio);
//     a stop there is damage, as above;
//   - warnings: at most source.MaxWarningsPerKind (1000) rows of a kind
//     per capture, whichever stage met them (reader, decoder, trackers),
//     then one warnings_not_written row per kind with the count
//     (Summary.WarningsNotWritten);
//   - time: a record without a time (Record.NoTs: a time field that is no
//     time, a simple packet block) has a NULL packets.ts; flow tracking
//     takes it at the time of the record before;
//   - workers: at most MaxWorkers; the flow bounds (Session.MaxFlows,
//     Session.MaxBufferedBytes) are split evenly across the flow shards,
//     and Options.Session says what may differ with the number of workers
//     once a shard reaches its share;
//   - cancellation: Run interrupts the source when its context is done,
//     so a stream that yields no packet for gigabytes still ends within a
//     buffer refill (1 MiB).
package ingest
