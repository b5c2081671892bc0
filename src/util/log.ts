/**
 * Progress and stage summaries. On a terminal a live progress line is drawn
 * on stderr; with --quiet, or when stderr is not a TTY (cron, CI, pipes),
 * each stage prints one summary line instead. `--log-format json` prints one
 * JSON object per event for log collectors.
 */
export type LogFormat = 'text' | 'json';

export class Logger {
  private live: boolean;
  private lastDraw = 0;

  constructor(
    private readonly quiet: boolean,
    private readonly format: LogFormat = 'text',
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.live = !quiet && format === 'text' && Boolean(stream.isTTY);
  }

  /** Live progress for a long stage; throttled, and silent when not on a terminal. */
  progress(stage: string, done: number, total: number): void {
    if (!this.live) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    this.stream.write(`\r\x1b[K[${stage}] ${done}/${total} (${pct}%)`);
  }

  /** One line per finished stage. */
  stage(stage: string, message: string, data: Record<string, unknown> = {}): void {
    if (this.live) this.stream.write('\r\x1b[K');
    if (this.format === 'json') this.stream.write(JSON.stringify({ event: 'stage', stage, message, ...data }) + '\n');
    else this.stream.write(`[${stage}] ${message}\n`);
  }

  info(message: string, data: Record<string, unknown> = {}): void {
    if (this.format === 'json') this.stream.write(JSON.stringify({ event: 'info', message, ...data }) + '\n');
    else if (!this.quiet) this.stream.write(`${message}\n`);
  }

  error(message: string, data: Record<string, unknown> = {}): void {
    if (this.live) this.stream.write('\r\x1b[K');
    if (this.format === 'json') this.stream.write(JSON.stringify({ event: 'error', message, ...data }) + '\n');
    else this.stream.write(`neardup: ${message}\n`);
  }
}
