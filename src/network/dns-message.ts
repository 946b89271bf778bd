// DNS message helpers for the engine's embedded DNS server: reading a query's header before
// trusting the rest of it, building error answers, and fitting an answer into the size the
// transport allows. Pure functions over bytes and dns-packet objects; no sockets here.

import dnsPacket from 'dns-packet';
import type { Packet, Question } from 'dns-packet';

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NOTIMP = 4;

const OPCODE_QUERY = 0;
const HEADER_BYTES = 12;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const FLAG_AA = 0x0400;

/** A message without EDNS must fit in 512 bytes over UDP (RFC 1035 4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
/**
 * The largest UDP answer we send even when a client offers more: 1232 bytes fits any path's
 * MTU without IP fragmentation (the 2020 DNS flag day value); larger answers go over TCP.
 */
export const EDNS_UDP_LIMIT = 1232;
/** TCP frames carry a 2-byte length. */
export const TCP_LIMIT = 65535;

/** The fixed 12 bytes every DNS message starts with, read without decoding the rest. */
export interface MessageHeader {
  id: number;
  isResponse: boolean;
  opcode: number;
  recursionDesired: boolean;
  questionCount: number;
}

/** undefined when the bytes are too short to be a DNS message at all. */
export function readHeader(message: Buffer): MessageHeader | undefined {
  if (message.length < HEADER_BYTES) return undefined;
  const flags = message.readUInt16BE(2);
  return {
    id: message.readUInt16BE(0),
    isResponse: (flags & FLAG_QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    recursionDesired: (flags & FLAG_RD) !== 0,
    questionCount: message.readUInt16BE(4),
  };
}

export function isStandardQuery(header: MessageHeader): boolean {
  return header.opcode === OPCODE_QUERY;
}

/**
 * An answer with only a header: for queries whose body we will not read (FORMERR, NOTIMP).
 * The opcode and RD are echoed so the client can match the answer to what it asked.
 */
export function headerOnlyAnswer(header: MessageHeader, rcode: number): Buffer {
  const answer = Buffer.alloc(HEADER_BYTES);
  answer.writeUInt16BE(header.id, 0);
  const rd = header.recursionDesired ? FLAG_RD : 0;
  answer.writeUInt16BE(FLAG_QR | (header.opcode << 11) | rd | FLAG_RA | rcode, 2);
  return answer;
}

/** Flags for an answer to a standard query; AA when the answer comes from our own records. */
export function answerFlags(header: MessageHeader, rcode: number, authoritative: boolean): number {
  return (header.recursionDesired ? FLAG_RD : 0) | FLAG_RA | (authoritative ? FLAG_AA : 0) | rcode;
}

/** SERVFAIL echoing the question, for when no upstream answered or our records failed. */
export function serverFailure(header: MessageHeader, question: Question): Buffer {
  return dnsPacket.encode({
    id: header.id,
    type: 'response',
    flags: answerFlags(header, RCODE_SERVFAIL, false),
    questions: [question],
  });
}

/**
 * The largest UDP answer this client takes: 512 bytes, or what its EDNS OPT record offers
 * (never below 512, never above EDNS_UDP_LIMIT).
 */
export function udpLimitOf(query: Packet): number {
  const opt = (query.additionals ?? []).find((record) => record.type === 'OPT');
  if (!opt || !('udpPayloadSize' in opt)) return CLASSIC_UDP_LIMIT;
  return Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize, EDNS_UDP_LIMIT));
}

/**
 * Encodes `answer` within `limit` bytes. When it does not fit, whole answer records are
 * dropped from the end and TC is set, so a client that needs them all retries over TCP while
 * one that does not can use what arrived. dns-packet does not compress names, so each
 * record's size adds up exactly.
 */
export function encodeWithin(answer: Packet, limit: number): Buffer {
  const records = answer.answers ?? [];
  if (dnsPacket.encodingLength(answer) <= limit) return dnsPacket.encode(answer);
  let size = dnsPacket.encodingLength({ ...answer, answers: [] });
  let kept = 0;
  for (const record of records) {
    const next = size + dnsPacket.encodingLength({ answers: [record] }) - HEADER_BYTES;
    if (next > limit) break;
    size = next;
    kept += 1;
  }
  return dnsPacket.encode({
    ...answer,
    flags: (answer.flags ?? 0) | FLAG_TC,
    answers: records.slice(0, kept),
  });
}

/** Lower-case, without the trailing dot: the form DnsRecordSource expects. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The IPv4 address a `d.c.b.a.in-addr.arpa` name stands for; undefined for any other name. */
export function reverseNameToAddress(name: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!match) return undefined;
  const octets = match.slice(1, 5).reverse();
  if (octets.some((octet) => Number(octet) > 255 || (octet.length > 1 && octet.startsWith('0')))) {
    return undefined;
  }
  return octets.join('.');
}
