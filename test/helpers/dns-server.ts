import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import * as dnsPacket from "dns-packet";

const NXDOMAIN = 3;
const SERVFAIL = 2;

/**
 * A real authoritative DNS server on loopback (UDP, dns-packet) whose TXT records a test sets,
 * changes and removes: Roster's resolver (ROSTER_DNS_SERVERS=<address>) asks it over the
 * network like any other. Names it holds no record for answer NXDOMAIN; `failing` names SERVFAIL.
 */
export class TestDnsServer {
  private readonly socket = dgram.createSocket("udp4");
  private readonly records = new Map<string, string[][]>();
  private readonly failing = new Set<string>();
  /** Questions asked, by name (lower case), so a test can see a look-up happened. */
  readonly queries: string[] = [];

  /** Start on 127.0.0.1 and a free port. */
  async start(): Promise<this> {
    this.socket.on("message", (msg, rinfo) => this.answer(msg, rinfo));
    await new Promise<void>((resolve) => this.socket.bind(0, "127.0.0.1", resolve));
    return this;
  }

  /** What ROSTER_DNS_SERVERS is set to. */
  get address(): string {
    const a = this.socket.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  /** Publish TXT records at a name (each record a string, or its ≤255-byte chunks), replacing any. */
  setTxt(name: string, ...records: Array<string | string[]>): void {
    this.failing.delete(name.toLowerCase());
    this.records.set(
      name.toLowerCase(),
      records.map((r) => (Array.isArray(r) ? r : [r])),
    );
  }

  /** Remove a name's records (NXDOMAIN from now on). */
  remove(name: string): void {
    this.records.delete(name.toLowerCase());
    this.failing.delete(name.toLowerCase());
  }

  /** Answer SERVFAIL for a name (an outage, not an absence). */
  fail(name: string): void {
    this.failing.add(name.toLowerCase());
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private answer(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    this.queries.push(name);
    const txt = this.records.get(name);
    const rcode = this.failing.has(name) ? SERVFAIL : txt ? 0 : NXDOMAIN;
    const answers =
      txt && question.type === "TXT" && rcode === 0
        ? txt.map((data) => ({ type: "TXT" as const, name: question.name, ttl: 0, data }))
        : [];
    const response = dnsPacket.encode({
      type: "response",
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
      questions: q.questions,
      answers,
    });
    this.socket.send(response, rinfo.port, rinfo.address);
  }
}
