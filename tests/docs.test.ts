import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, listKeys, loadConfig } from '../src/config.js';
import { ROOT } from './helpers/cli.js';

describe('docs match the code', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  it('the README documents every config key with its default', () => {
    for (const [key, spec] of listKeys()) expect(readme, key).toContain(`| \`${key}\` | ${String(spec.default)} |`);
  });
  it('pipeline.config.json holds exactly the defaults and validates', () => {
    expect(loadConfig(path.join(ROOT, 'pipeline.config.json'))).toEqual(defaultConfig());
  });
  it('the README gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
