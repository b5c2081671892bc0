/** Worker thread entry for a night's commit: applies the prepared night on a connection of its own (see SqliteStore.commitNight). */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore, type PreparedNight } from './sqlite.js';

const { dir } = workerData as { dir: string };
parentPort?.once('message', (night: PreparedNight) => {
  try {
    // Its transaction inserts article and paragraph rows all over their key ranges: room for them in memory.
    const store = new SqliteStore(dir, 64);
    try {
      parentPort?.postMessage({ ok: true, result: store.applyNight(night) });
    } finally {
      store.close();
    }
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error).message });
  }
});
