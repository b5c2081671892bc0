/**
 * An output line built as UTF-8 bytes in one reused buffer: text, integers and shares (4 decimals) are
 * written straight in. Numbers make no strings and the line makes no string of its own: at a 100k-article
 * night, pairs.jsonl's 537k lines had allocated about 1.2 GB of short-lived strings, whose survivors set
 * off a full collection of the main thread's 700 MB heap every second or two of the write stage.
 */
export class LineBytes {
  private buf = Buffer.allocUnsafe(1 << 12);
  private len = 0;

  /** Start a new line (the view of the last one is overwritten from here on). */
  reset(): this {
    this.len = 0;
    return this;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + n));
    this.buf.copy(grown, 0, 0, this.len);
    this.buf = grown;
  }

  /** Text of code units below 128 only (keys, punctuation): a byte each. */
  ascii(s: string): this {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
    return this;
  }

  /** Any text, encoded as UTF-8. */
  text(s: string): this {
    this.room(3 * s.length);
    this.len += this.buf.write(s, this.len);
    return this;
  }

  /** A number as JSON.stringify writes it: digits for an integer, else its string (null when not finite). */
  number(x: number): this {
    if (Number.isInteger(x) && Math.abs(x) < 1e15) return this.integer(x);
    return this.ascii(Number.isFinite(x) ? String(x) : 'null');
  }

  /** An integer below 1e15 in magnitude, in decimal digits. */
  private integer(n: number): this {
    if (n < 0) {
      this.ascii('-');
      n = -n;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.room(digits);
    for (let i = this.len + digits - 1; i >= this.len; i--) {
      this.buf[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.len += digits;
    return this;
  }

  /**
   * A string as JSON.stringify writes it (quotes included), then passed through `escape` when given (the
   * report's scriptSafe, say). Text with nothing to escape, by JSON or by `escape`'s five characters
   * (<, >, &, U+2028, U+2029), is written as it is; any other goes through JSON.stringify and `escape`.
   */
  string(s: string, escape?: (json: string) => string): this {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // Quote, backslash, controls, surrogates (a lone one is escaped), and what a script-safe text escapes.
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff) || (escape && (c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029))) {
        const json = JSON.stringify(s);
        return this.text(escape ? escape(json) : json);
      }
    }
    this.room(1);
    this.buf[this.len++] = 0x22;
    this.text(s);
    this.room(1);
    this.buf[this.len++] = 0x22;
    return this;
  }

  /**
   * Math.round(x * 10000) / 10000 as JSON.stringify writes it (the 4 decimals every share and similarity is
   * written with): the integer part, then the decimals without trailing zeros. That is JavaScript's own
   * shortest form for such a value: below 1e11, two values 0.0001 apart are always distinct doubles.
   */
  share(x: number): this {
    return this.scaled(Math.round(x * 10000));
  }

  /** k / 10000 as JSON.stringify writes it, for an integer k (a share kept scaled, as provenance packs them). */
  scaled(k: number): this {
    if (!Number.isInteger(k) || Math.abs(k) >= 1e15) return this.ascii(Number.isFinite(k) ? String(k / 10000) : 'null');
    // -0 (a tiny negative rounded) is written as 0, as String(-0) is.
    if (k === 0) return this.ascii('0');
    let m = k;
    if (m < 0) {
      this.ascii('-');
      m = -m;
    }
    const whole = Math.floor(m / 10000);
    let frac = m - whole * 10000;
    this.integer(whole);
    if (frac === 0) return this;
    let digits = 4;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    this.room(digits + 1);
    this.buf[this.len++] = 0x2e;
    for (let i = this.len + digits - 1; i >= this.len; i--) {
      this.buf[i] = 0x30 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    this.len += digits;
    return this;
  }

  /** A string or null as JSON.stringify writes it (see string). */
  stringOrNull(s: string | null, escape?: (json: string) => string): this {
    return s === null ? this.ascii('null') : this.string(s, escape);
  }

  /** An array of strings as JSON.stringify writes it (see string). */
  strings(list: readonly string[], escape?: (json: string) => string): this {
    this.ascii('[');
    for (let i = 0; i < list.length; i++) {
      if (i) this.ascii(',');
      this.string(list[i], escape);
    }
    return this.ascii(']');
  }

  /** The line so far: a view, valid until the next reset or write. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}
