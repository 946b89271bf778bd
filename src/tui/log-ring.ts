// The log pane's memory: the last N lines in a ring, each numbered in arrival order, so
// a view can hold its place (a line number) while new lines push old ones out.

export interface LogLine {
  /** Arrival number: consecutive, so seq - firstSeq is a line's index in the ring. */
  seq: number;
  service: string;
  container: string;
  stream: 'stdout' | 'stderr';
  text: string;
  /** text in lower case, made the first time a filter asks. */
  lower?: string;
}

export class LogRing {
  private readonly lines: Array<LogLine | undefined>;
  private start = 0;
  private size = 0;
  private next = 0;

  constructor(readonly capacity: number) {
    this.lines = new Array<LogLine | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** seq of the oldest line kept (== nextSeq when empty). */
  get firstSeq(): number {
    return this.next - this.size;
  }

  /** seq the next line will get. */
  get nextSeq(): number {
    return this.next;
  }

  push(service: string, container: string, stream: LogLine['stream'], text: string): void {
    const entry: LogLine = { seq: this.next++, service, container, stream, text };
    if (this.size < this.capacity) {
      this.lines[(this.start + this.size) % this.capacity] = entry;
      this.size++;
    } else {
      this.lines[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The line with this seq, if still kept. */
  bySeq(seq: number): LogLine | undefined {
    const index = seq - this.firstSeq;
    if (index < 0 || index >= this.size) return undefined;
    return this.lines[(this.start + index) % this.capacity];
  }
}
