/** Worker thread entry: runs one task per message (see tasks.ts). */
import { parentPort } from 'node:worker_threads';
import { runTask, transferables, type TaskName, type TaskInput } from './tasks.js';

parentPort?.on('message', async (msg: { task: TaskName; input: TaskInput<TaskName> }) => {
  try {
    const result = await runTask(msg.task, msg.input);
    // Typed arrays move to the main thread instead of being copied.
    parentPort?.postMessage({ ok: true, result }, transferables(msg.task, result));
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
