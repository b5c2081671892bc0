/**
 * The config schema: every tunable of the pipeline, its default, its allowed
 * range and one line of documentation. `pipeline.config.json` holds the
 * defaults; a user file and `--set key=value` overrides are validated against
 * this schema, and any mistake is a ConfigError naming the key and what is allowed.
 */
import { readFileSync } from 'node:fs';

type LeafSpec =
  | { type: 'integer'; default: number; min: number; max: number; doc: string }
  | { type: 'number'; default: number; min: number; max: number; doc: string }
  | { type: 'boolean'; default: boolean; doc: string }
  | { type: 'string'; default: string; doc: string };

/** The schema is nested sections of leaves; the shape of Config mirrors it. */
export const SCHEMA = {
  seed: { type: 'integer', default: 20231017, min: 0, max: 0xffffffff, doc: 'Seed of the token hash and the MinHash permutations; recorded in run.json.' },
  workers: { type: 'integer', default: 0, min: 0, max: 64, doc: 'Worker threads for the CPU-heavy stages; 0 = one per core. Results do not depend on it.' },
  ingest: {
    min_arabic_share: { type: 'number', default: 0.4, min: 0, max: 1, doc: 'Reject a record whose letters are less than this share Arabic.' },
    max_record_bytes: { type: 'integer', default: 2_000_000, min: 1000, max: 1_000_000_000, doc: 'Reject a record (or .txt file) larger than this; also caps how far a .gz line may inflate.' },
    max_file_bytes: { type: 'integer', default: 4_000_000_000, min: 1000, max: 1e15, doc: 'Stop reading a (decompressed) file past this many bytes; the rest is rejected as one record.' },
    file_concurrency: { type: 'integer', default: 4, min: 1, max: 64, doc: 'Files read at the same time (p-limit).' },
    in_memory_mb: { type: 'integer', default: 64, min: 0, max: 1_000_000, doc: 'Records (their raw JSON lines) kept in memory up to this many megabytes; the rest wait in a temporary spill file (read back through the page cache, a megabyte at a time) until the outputs are written.' },
  },
  normalize: {
    nfkc: { type: 'boolean', default: true, doc: 'Apply Unicode NFKC (presentation forms, ligatures, full-width).' },
    strip_diacritics: { type: 'boolean', default: true, doc: 'Remove harakat and Quranic marks U+064B-U+065F, U+0670.' },
    strip_tatweel: { type: 'boolean', default: true, doc: 'Remove tatweel U+0640.' },
    fold_alef: { type: 'boolean', default: true, doc: 'Fold أ إ آ ٱ to ا.' },
    fold_alef_maqsura: { type: 'boolean', default: true, doc: 'Fold ى to ي.' },
    fold_teh_marbuta: { type: 'boolean', default: true, doc: 'Fold ة to ه.' },
    fold_persian: { type: 'boolean', default: true, doc: 'Fold Persian ی to ي and ک to ك.' },
    fold_digits: { type: 'boolean', default: true, doc: 'Fold Arabic-Indic and Persian digits to ASCII.' },
    remove_controls: { type: 'boolean', default: true, doc: 'Remove zero-width and bidi control characters (incl. U+061C).' },
    remove_punctuation: { type: 'boolean', default: true, doc: 'Drop punctuation; when false each punctuation mark is a token.' },
    lowercase_latin: { type: 'boolean', default: true, doc: 'Lowercase Latin letters.' },
  },
  segment: {
    max_paragraph_chars: { type: 'integer', default: 1200, min: 100, max: 1_000_000, doc: 'A paragraph longer than this is split into sentences.' },
  },
  boilerplate: {
    rules: { type: 'boolean', default: true, doc: 'Flag common Arabic news furniture by rule (tags, read-also lists, share lines, datelines).' },
    outlet_template_min_count: { type: 'integer', default: 4, min: 2, max: 1_000_000, doc: 'A paragraph seen in at least this many articles of one outlet is that outlet\'s template.' },
    cross_outlet_min_count: { type: 'integer', default: 12, min: 2, max: 1_000_000, doc: 'A paragraph seen in at least this many articles across outlets is furniture too.' },
  },
  shingle: {
    size: { type: 'integer', default: 3, min: 1, max: 12, doc: 'Words per shingle (word n-gram size).' },
  },
  minhash: {
    permutations: { type: 'integer', default: 128, min: 8, max: 1024, doc: 'Hash functions per document signature (k).' },
  },
  lsh: {
    threshold: { type: 'number', default: 0.2, min: 0.05, max: 0.99, doc: 'Jaccard similarity the article banding is tuned for; (b, r) minimize the weighted error around it. Keep it at or below verify.jaccard.' },
    false_positive_weight: { type: 'number', default: 0.2, min: 0, max: 1, doc: 'Weight of false positives when choosing (b, r); verification removes them, so recall is favoured.' },
    false_negative_weight: { type: 'number', default: 0.8, min: 0, max: 1, doc: 'Weight of false negatives when choosing (b, r).' },
    max_bucket_size: { type: 'integer', default: 400, min: 2, max: 1_000_000, doc: 'A bucket bigger than this pairs each member with its first members only (no n^2 blow-up).' },
  },
  verify: {
    jaccard: { type: 'number', default: 0.25, min: 0, max: 1, doc: 'Near-duplicate when exact shingle Jaccard is at least this ...' },
    containment: { type: 'number', default: 0.5, min: 0, max: 1, doc: '... or when the shorter article is at least this share contained in the longer one.' },
    min_shingles: { type: 'integer', default: 8, min: 1, max: 1_000_000, doc: 'Articles with fewer content shingles are only linked as exact copies.' },
    max_unshared_lead: { type: 'number', default: 0.3, min: 0, max: 1, doc: 'When most of the longer article is not shared, it is a near-duplicate only if at most this share of it comes before the shared text (else it is a roundup: partial).' },
    min_fact_agreement: { type: 'number', default: 0.5, min: 0, max: 1, doc: 'Share of the rarer side\'s specific tokens (numbers, rare words) the other must carry; below it a shared template is not a copy.' },
  },
  passages: {
    enabled: { type: 'boolean', default: true, doc: 'Find shared passages (partial copies) between otherwise different articles.' },
    min_tokens: { type: 'integer', default: 12, min: 3, max: 10_000, doc: 'Paragraphs shorter than this many words are not indexed as passages.' },
    permutations: { type: 'integer', default: 32, min: 8, max: 1024, doc: 'Hash functions per paragraph signature.' },
    threshold: { type: 'number', default: 0.5, min: 0.05, max: 0.99, doc: 'Jaccard the paragraph banding is tuned for.' },
    min_similarity: { type: 'number', default: 0.5, min: 0, max: 1, doc: 'Two paragraphs align when the shorter is at least this share contained in the other.' },
    min_shared_shingles: { type: 'integer', default: 10, min: 1, max: 1_000_000, doc: 'A partial link needs at least this many shared, non-common shingles.' },
    common_shingle_min_docs: { type: 'integer', default: 25, min: 2, max: 1_000_000_000, doc: 'A shingle in at least this many articles is a stock phrase (titles, formulas) and never counts toward a link.' },
  },
  report: {
    html: { type: 'boolean', default: true, doc: 'Write report.html.' },
  },
  state: {
    enabled: { type: 'boolean', default: true, doc: 'Keep a persistent index and match each night against earlier nights (false: a stand-alone run).' },
    dir: { type: 'string', default: 'state', doc: 'Folder of the persistent index (also --state DIR).' },
    window_days: { type: 'integer', default: 7, min: 0, max: 3650, doc: 'Match tonight against indexed articles published up to this many days before or after it.' },
  },
} as const satisfies Record<string, unknown>;

type LeafValue<S> = S extends { type: 'boolean' } ? boolean : S extends { type: 'integer' | 'number' } ? number : S extends { type: 'string' } ? string : never;
type ConfigOf<S> = { -readonly [K in keyof S]: S[K] extends { type: string } ? LeafValue<S[K]> : ConfigOf<S[K]> };
export type Config = ConfigOf<typeof SCHEMA>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function isLeaf(node: unknown): node is LeafSpec {
  return typeof node === 'object' && node !== null && typeof (node as { type?: unknown }).type === 'string';
}

function build(node: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = isLeaf(v) ? v.default : build(v as Record<string, unknown>);
  return out;
}

export function defaultConfig(): Config {
  return build(SCHEMA) as Config;
}

/** Every leaf with its dotted key, for docs and for `--set`. */
export function listKeys(node: Record<string, unknown> = SCHEMA, prefix = ''): Array<[string, LeafSpec]> {
  const out: Array<[string, LeafSpec]> = [];
  for (const [k, v] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isLeaf(v)) out.push([key, v]);
    else out.push(...listKeys(v as Record<string, unknown>, key));
  }
  return out;
}

function allowed(spec: LeafSpec): string {
  if (spec.type === 'string') return 'a non-empty string';
  return spec.type === 'boolean' ? 'true or false' : `${spec.type === 'integer' ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}`;
}

function checkLeaf(key: string, spec: LeafSpec, value: unknown): boolean | number | string {
  if (spec.type === 'string') {
    if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`config key "${key}": got ${JSON.stringify(value)}, allowed: ${allowed(spec)}`);
    return value;
  }
  if (spec.type === 'boolean') {
    if (typeof value !== 'boolean') throw new ConfigError(`config key "${key}": got ${JSON.stringify(value)}, allowed: ${allowed(spec)}`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value)) || value < spec.min || value > spec.max) {
    throw new ConfigError(`config key "${key}": got ${JSON.stringify(value)}, allowed: ${allowed(spec)}`);
  }
  return value;
}

/** Merge a partial user config onto `base`, rejecting unknown keys and bad values. */
export function mergeConfig(base: Config, patch: unknown, source: string): Config {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  const walk = (schema: Record<string, unknown>, target: Record<string, unknown>, value: unknown, prefix: string): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(`${source}: "${prefix || '(top level)'}" must be an object of keys`);
    }
    for (const [k, v] of Object.entries(value)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (k === '$comment') continue;
      if (!Object.hasOwn(schema, k)) {
        const known = Object.keys(schema).join(', ');
        throw new ConfigError(`${source}: unknown config key "${key}"; allowed here: ${known}`);
      }
      const spec = schema[k];
      if (isLeaf(spec)) target[k] = checkLeaf(key, spec, v);
      else walk(spec as Record<string, unknown>, target[k] as Record<string, unknown>, v, key);
    }
  };
  walk(SCHEMA, out, patch, '');
  const cfg = out as unknown as Config;
  if (cfg.lsh.false_positive_weight + cfg.lsh.false_negative_weight <= 0) {
    throw new ConfigError(`${source}: lsh.false_positive_weight and lsh.false_negative_weight cannot both be 0`);
  }
  return cfg;
}

/** Parse one `key.path=value` override; the value's type comes from the schema. */
export function applyOverride(cfg: Config, assignment: string): Config {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set "${assignment}": expected key=value, e.g. --set verify.jaccard=0.6`);
  const key = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1).trim();
  const spec = listKeys().find(([k]) => k === key)?.[1];
  if (!spec) throw new ConfigError(`--set: unknown config key "${key}"; allowed: ${listKeys().map(([k]) => k).join(', ')}`);
  let value: unknown = raw;
  if (spec.type === 'boolean') value = raw === 'true' ? true : raw === 'false' ? false : raw;
  else if (spec.type !== 'string' && raw !== '' && !Number.isNaN(Number(raw))) value = Number(raw);
  const patch: Record<string, unknown> = {};
  const parts = key.split('.');
  let node = patch;
  for (const p of parts.slice(0, -1)) node = (node[p] = {}) as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
  return mergeConfig(cfg, patch, '--set');
}

/** Load the effective config: schema defaults, then a config file, then overrides. */
export function loadConfig(file: string | undefined, overrides: string[] = []): Config {
  let cfg = defaultConfig();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    cfg = mergeConfig(cfg, parsed, file);
  }
  for (const o of overrides) cfg = applyOverride(cfg, o);
  return cfg;
}
