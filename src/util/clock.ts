/** Elapsed time, as run.json reports it. */

/** Seconds since the call, read as often as wanted. */
export function timer(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Seconds to the millisecond (the index's commit reports its parts so). */
export function toMilliseconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
