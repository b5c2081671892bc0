import { endSpareWorkers, prestartWorkers, takeWorker } from '../src/util/prestart.js';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { neardup, readJsonl, ROOT, tempDir } from './helpers/cli.js';

describe('worker threads', () => {
  it('give byte-identical outputs whatever the number of workers', () => {
    // 300 articles recombined from the sample night's paragraphs: enough to be split across workers.
    const night = readJsonl<{ id: string; outlet: string; text: string; title: string }>(path.join(ROOT, 'input', 'night.jsonl'));
    const paragraphs = night.flatMap((a) => a.text.split('\n').filter((p) => p.trim().length > 40));
    const rows: string[] = [];
    for (let i = 0; i < 300; i++) {
      const pick = [0, 1, 2, 3].map((k) => paragraphs[(i * 7 + k * (i % 5 + 1)) % paragraphs.length]);
      rows.push(JSON.stringify({ id: `mix-${String(i).padStart(3, '0')}`, outlet: `o${i % 6}`, url: `https://example.org/${i}`, published_at: `2026-11-${10 + (i % 9)}T0${i % 10}:00:00Z`, title: night[i % night.length].title, text: pick.join('\n') }));
    }
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in', 'mix.jsonl'), rows.join('\n') + '\n');
    const outs = [1, 2, 3].map((w) => {
      const out = path.join(dir, `out-${w}`);
      const r = neardup(['run', '--input', path.join(dir, 'in'), '--output', out, '--quiet', '--set', `workers=${w}`, '--set', 'report.html=false']);
      expect(r.code, r.stderr).toBe(0);
      return out;
    });
    expect(readJsonl(path.join(outs[0], 'pairs.jsonl')).length).toBeGreaterThan(50);
    for (const f of ['pairs.jsonl', 'clusters.jsonl', 'dedup.jsonl.gz']) {
      for (const o of outs.slice(1)) expect(readFileSync(path.join(o, f)).equals(readFileSync(path.join(outs[0], f))), `${f} in ${o}`).toBe(true);
    }
  });
});

describe('workers started with the process', () => {
  it('are handed over without the listeners that dropped them while spare, and the unused ones end', async () => {
    prestartWorkers(2);
    const w = takeWorker();
    // A failure from here on is the pool's to see, not swallowed by the spare's listener.
    expect([w.listenerCount('error'), w.listenerCount('exit')]).toEqual([0, 0]);
    // (Under vitest the worker's script is the TypeScript source's sibling, which is not built: it may fail
    // to start, and that is not what this test is about.)
    w.on('error', () => undefined);
    const exited = new Promise((resolve) => w.once('exit', resolve));
    await w.terminate();
    await exited;
    // The other spare ends with endSpareWorkers; a pool asking for one then starts a new one.
    endSpareWorkers();
    const fresh = takeWorker();
    fresh.on('error', () => undefined);
    expect(fresh.threadId).not.toBe(w.threadId);
    await fresh.terminate();
  });
});
