/**
 * Imported first by the command line: for `neardup run`, start one worker per core before the rest of
 * the program loads (a run configured for fewer workers ends the extra ones; see prestart.ts).
 */
import { coreCount, prestartWorkers } from './prestart.js';

const args = process.argv.slice(2);
const isRun = args.find((a) => !a.startsWith('-')) === 'run';
if (isRun && !args.includes('--help') && !args.includes('-h') && coreCount() > 1) prestartWorkers(coreCount());
