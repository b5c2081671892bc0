/** Worker thread entry: runs one task per message (see tasks.ts). */
import { parentPort } from 'node:worker_threads';
import { runTask, type TaskName, type TaskInput } from './tasks.js';

parentPort?.on('message', async (msg: { task: TaskName; input: TaskInput<TaskName> }) => {
  try {
    const result = await runTask(msg.task, msg.input);
    // Typed arrays move to the main thread instead of being copied.
    const transfer = new Set<ArrayBuffer>();
    const collect = (v: unknown): void => {
      if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength) transfer.add(v.buffer);
      else if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(result);
    parentPort?.postMessage({ ok: true, result }, [...transfer]);
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
