/**
 * Imported first by the command line, before anything allocates much: glibc's mmap threshold, fixed once the
 * run is large (see malloc.ts), then, for `neardup run`, one worker per core started before the rest of the
 * program loads (a run configured for fewer workers ends the extra ones; see prestart.ts).
 */
import { setMallocThreshold } from './malloc.js';
import { coreCount, prestartWorkers } from './prestart.js';

setMallocThreshold();

const args = process.argv.slice(2);
const isRun = args.find((a) => !a.startsWith('-')) === 'run';
if (isRun && !args.includes('--help') && !args.includes('-h') && coreCount() > 1) prestartWorkers(coreCount());
