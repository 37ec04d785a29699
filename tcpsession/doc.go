// Package tcpsession is the third stage of pcapq's pipeline
// (source -> decode -> tcpsession -> httpextract -> schema -> query).
//
// A Tracker owns the connections of one shard (callers shard packets by a
// symmetric 5-tuple hash, so both directions of a connection reach the same
// Tracker, and no locks are needed). For every decoded packet it:
//
//   - assigns the packet to a flow (TCP, UDP, ICMP/ICMPv6 or another IP
//     protocol), keyed like Zeek: ICMP "ports" are the type and its
//     counterpart type (or the code); the flow id is the frame number of
//     the flow's first packet, so it does not depend on the worker count;
//   - keeps Zeek's TCP endpoint state machine, from which the Flow row gets
//     conn_state, history (with Zeek's 1/10/100 scaling for T, G, W),
//     orig/resp bytes by sequence space, missed_bytes and the roles
//     (originator = SYN sender; SYN-ACK-first connections, and SYN-less
//     connections and UDP flows whose first packet comes from one of
//     Zeek's likely server ports (the server ports its base scripts
//     register), are flipped as Zeek does, with '^' in the history, but
//     never toward 255.255.255.255);
//   - runs tshark's tcp_analyze_sequence_number over raw sequence numbers
//     and emits tcp_events (retransmission, fast/spurious retransmission,
//     out-of-order, lost segment, dup ack, window events, keep-alive,
//     syn_retry, rst);
//   - reassembles each TCP direction for an optional StreamHandler:
//     in-order bytes are delivered from the packet buffer without copying;
//     out-of-order segments are copied and buffered; overlaps keep the
//     first copy (a differing copy of data still buffered out of order is
//     warned as "rexmit_inconsistency"; data already delivered is not kept,
//     so a later conflicting retransmission of it is not compared);
//     holes revealed by acks are reported as gaps (and missed_bytes, as
//     Zeek's content_gap).
//
// Memory is bounded: MaxFlows live flows (when full, a closed connection or
// unanswered attempt waiting out its delay ends early, counted in one
// flow_table_pressure warning; failing that, the least recently active flow
// is evicted, marked and warned), MaxFlowBuffered per direction and MaxBufferedBytes per Tracker of
// out-of-order data (past a bound the oldest hole is skipped as a gap and
// the flow marked Capped), and idle timeouts in capture time. Closed TCP
// connections linger 5 s of capture time (Zeek's tcp_close_delay) so late
// packets still count, and unanswered connection attempts end 5 s after
// their first SYN (Zeek's tcp_attempt_delay; not marked evicted); a SYN
// with a new ISN starts a new flow (port reuse).
//
// Close ends the input at the capture time of its last packet; with
// several shards every shard gets that time, so that flows idle past their
// timeout end alike for any number of shards.
//
// Defragmenter reassembles IPv4 and IPv6 fragments before the Tracker sees
// them, with bounds on pending datagrams, bytes and time.
//
// CommunityID computes Community ID v1 flow hashes.
package tcpsession
