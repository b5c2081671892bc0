/**
 * When V8 optimizes a function. A short run on few cores spends much of its time compiling: on the 7 dev
 * days (2 cores), TurboFan took a quarter of all the CPU time of a run (perf: 27% of the samples; each worker
 * spent about 0.7 s of its 2.4 s compiling, V8's background threads some 1 s on the main thread's code),
 * much of it on code that runs for a few milliseconds, or compiled again after a deoptimization. With a
 * budget four times V8's default before a function is optimized, that run took 0.33 s less CPU and
 * 0.12-0.20 s less wall time (4-5 alternated runs, three rounds; 8x and 16x did no better). A large night
 * does not gain: night 11 (100k against 1M) ran 101-106 s with it against 96-99 s without (three runs and
 * two), so the pipeline asks for it only for a night that is not large (see run()).
 *
 * V8 reads the budget each time it resets a function's, in every isolate (the workers' too), so it takes
 * effect from the call on. It changes when code gets optimized, never what it computes.
 */
import v8 from 'node:v8';

/** Bytecode run before a function is optimized (V8 11's default: 67,584). */
export const INTERRUPT_BUDGET = 4 * 67584;

let tuned = false;

export function tuneOptimizer(): void {
  if (tuned) return;
  tuned = true;
  v8.setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
}

/** What run.json records: the budget this process set, or null (V8's default, or whatever its command line gave). */
export function optimizerBudget(): number | null {
  return tuned ? INTERRUPT_BUDGET : null;
}
