/**
 * Worker thread entry for the index's heavy writes, on a connection of its own: a night's shingle counts
 * file (started once the night is shingled) and a night's commit (see SqliteStore.commitNight).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CountsFiles } from './counts-file.js';
import { SqliteStore, type PreparedNight } from './sqlite.js';
import type { ShingleDeltas } from '../sketch/counts.js';
import { timer, toMilliseconds } from '../util/clock.js';

const { dir, task } = workerData as { dir: string; task: 'counts' | 'night' };
parentPort?.once('message', (msg: PreparedNight | { countsFile: string | null; deltas: ShingleDeltas; tag: string }) => {
  try {
    if (task === 'counts') {
      const m = msg as { countsFile: string | null; deltas: ShingleDeltas; tag: string };
      const elapsed = timer();
      const file = new CountsFiles(dir).merge(m.countsFile, m.deltas, m.tag);
      parentPort?.postMessage({ ok: true, result: { file, seconds: toMilliseconds(elapsed()) } });
      return;
    }
    // Its transaction inserts article and paragraph rows all over their key ranges: room for them in memory.
    const store = new SqliteStore(dir, 64);
    try {
      parentPort?.postMessage({ ok: true, result: store.applyNight(msg as PreparedNight) });
    } finally {
      store.close();
    }
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error).message });
  }
});
