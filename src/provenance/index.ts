/**
 * Provenance: which article is a story's origin, and who copied what from whom.
 *
 * Origin order: earliest published; among equal or missing dates, the article
 * from a wire agency's own outlet, then the one the others credit, then the
 * most complete text, then the id. The same order drives clustering, so the
 * origin is always the cluster's first member.
 */
import type { Article, OutletRegistry } from '../ingest/index.js';
import type { DocSketch } from '../sketch/index.js';
import { concatAll, intersectionSize } from '../sketch/shingle.js';
import type { ArticleAnalysis } from '../text/analyze.js';
import { paraEnd, paraStart } from '../text/paragraphs.js';
import { normalizeText } from '../text/normalize.js';
import type { Cluster } from '../match/cluster.js';
import { RELATIONS, type VerifiedPair } from '../match/verify.js';
import { packPair } from '../sketch/lsh.js';
import { agencyOfOutlet } from './agencies.js';
import type { LineBytes } from '../report/line-bytes.js';

export type OriginRule = 'earliest-published' | 'wire-agency-outlet' | 'credited-by-others' | 'most-complete' | 'id-order';

export interface OrderFacts {
  isAgency: Uint8Array;
  credited: Int32Array;
  completeness: Int32Array;
}

/** How many other articles credit each article's outlet (by outlet id or name in a credit line). */
export function creditCounts(articles: Article[], analyses: ArticleAnalysis[], outlets: OutletRegistry): Int32Array {
  const byOutlet = new Map<string, number>();
  const outletKeys = new Map<string, string[]>();
  for (const a of articles) {
    if (outletKeys.has(a.outlet)) continue;
    const keys = [normalizeText(a.outlet)];
    const info = outlets.get(a.outlet);
    for (const name of [info?.name, ...(info?.short_names ?? [])]) if (name) keys.push(normalizeText(name));
    outletKeys.set(a.outlet, keys.filter((k) => k.length >= 2));
  }
  for (let i = 0; i < articles.length; i++) {
    const credits = analyses[i].credits.map((c) => normalizeText(c)).join(' | ');
    if (!credits) continue;
    for (const [outlet, keys] of outletKeys) {
      if (outlet === articles[i].outlet) continue;
      if (keys.some((k) => credits.includes(k))) byOutlet.set(outlet, (byOutlet.get(outlet) ?? 0) + 1);
    }
  }
  return Int32Array.from(articles, (a) => byOutlet.get(a.outlet) ?? 0);
}

export function orderFacts(articles: Article[], analyses: ArticleAnalysis[], sketches: DocSketch[], outlets: OutletRegistry): OrderFacts {
  return {
    isAgency: Uint8Array.from(articles, (a) => (agencyOfOutlet(a.outlet) || outlets.get(a.outlet)?.kind === 'agency' ? 1 : 0)),
    credited: creditCounts(articles, analyses, outlets),
    completeness: Int32Array.from(sketches, (s) => s.shingles.length),
  };
}

const DAY = 86_400_000;

/**
 * Publication order. Missing dates sort last. A date known only to the day
 * ties with every time on that day: neither is known to be earlier, so the
 * later rules (agency, credit, completeness) decide.
 */
function compareTime(x: Article, y: Article): number {
  const nx = Number.isNaN(x.time);
  const ny = Number.isNaN(y.time);
  if (nx || ny) return nx === ny ? 0 : nx ? 1 : -1;
  if (x.dayPrecision || y.dayPrecision) return Math.floor(x.time / DAY) - Math.floor(y.time / DAY);
  return x.time - y.time;
}

/** The rule that puts article x before article y (or null if they are the same by every rule). */
export function decidingRule(x: number, y: number, articles: Article[], f: OrderFacts): OriginRule {
  if (compareTime(articles[x], articles[y]) !== 0) return 'earliest-published';
  if (f.isAgency[x] !== f.isAgency[y]) return 'wire-agency-outlet';
  if (f.credited[x] !== f.credited[y]) return 'credited-by-others';
  if (f.completeness[x] !== f.completeness[y]) return 'most-complete';
  return 'id-order';
}

export function originOrder(articles: Article[], f: OrderFacts): number[] {
  const idx = articles.map((_, i) => i);
  idx.sort(
    (x, y) =>
      compareTime(articles[x], articles[y]) ||
      f.isAgency[y] - f.isAgency[x] ||
      f.credited[y] - f.credited[x] ||
      f.completeness[y] - f.completeness[x] ||
      (articles[x].id < articles[y].id ? -1 : articles[x].id > articles[y].id ? 1 : 0),
  );
  return idx;
}

/** Shares and similarities are written with 4 decimals: kept as integers (x 10,000), divided back when written. */
const SCALE = 10000;

function scaled(x: number): number {
  return Math.round(x * SCALE);
}

/**
 * One member's provenance. A 100k night against 1M traces some 200k members with a dozen spans each: held
 * as objects until the outputs are written, they were 270 MB of the night's peak. The numbers are packed in
 * one array: [share from origin, share from others, then the counts of added, dropped and aligned spans,
 * then added (start, end), dropped (start, end) and aligned (start, end, origin start, origin end,
 * similarity)], and expanded (`toJSON`) only as each is written.
 */
export class MemberProvenance {
  constructor(
    readonly id: string,
    readonly outlet: string,
    readonly published_at: string | null,
    private readonly packed: Int32Array,
    readonly credits: string[],
    readonly agencies: string[],
  ) {}

  /** The packed numbers (see the class): read, never written, by writeMemberJson. */
  packedValues(): Int32Array {
    return this.packed;
  }

  toJSON(): MemberProvenanceJson {
    const p = this.packed;
    const [nAdded, nDropped, nAligned] = [p[2], p[3], p[4]];
    let at = 5;
    const spans = (n: number): Array<{ start: number; end: number }> =>
      Array.from({ length: n }, () => {
        at += 2;
        return { start: p[at - 2], end: p[at - 1] };
      });
    const added = spans(nAdded);
    const dropped = spans(nDropped);
    const aligned = Array.from({ length: nAligned }, () => {
      at += 5;
      return { start: p[at - 5], end: p[at - 4], origin_start: p[at - 3], origin_end: p[at - 2], similarity: p[at - 1] / SCALE };
    });
    return { id: this.id, outlet: this.outlet, published_at: this.published_at, share_from_origin: p[0] / SCALE, share_from_others: p[1] / SCALE, added, dropped, aligned, credits: this.credits, agencies: this.agencies };
  }
}

/** JSON.stringify(member) written into `out`, with `escape` applied to its strings (see writeProvenanceJson). */
export function writeMemberJson(m: MemberProvenance, out: LineBytes, escape?: (json: string) => string): void {
  const p = m.packedValues();
  const [nAdded, nDropped, nAligned] = [p[2], p[3], p[4]];
  out.ascii('{"id":').string(m.id, escape).ascii(',"outlet":').string(m.outlet, escape).ascii(',"published_at":').stringOrNull(m.published_at, escape);
  out.ascii(',"share_from_origin":').scaled(p[0]).ascii(',"share_from_others":').scaled(p[1]);
  let at = 5;
  for (const [name, n] of [['added', nAdded], ['dropped', nDropped]] as const) {
    out.ascii(`,"${name}":[`);
    for (let k = 0; k < n; k++, at += 2) out.ascii(k ? ',{"start":' : '{"start":').number(p[at]).ascii(',"end":').number(p[at + 1]).ascii('}');
    out.ascii(']');
  }
  out.ascii(',"aligned":[');
  for (let k = 0; k < nAligned; k++, at += 5) {
    out.ascii(k ? ',{"start":' : '{"start":').number(p[at]).ascii(',"end":').number(p[at + 1]);
    out.ascii(',"origin_start":').number(p[at + 2]).ascii(',"origin_end":').number(p[at + 3]).ascii(',"similarity":').scaled(p[at + 4]).ascii('}');
  }
  out.ascii('],"credits":').strings(m.credits, escape).ascii(',"agencies":').strings(m.agencies, escape).ascii('}');
}

/** The keys of a ClusterProvenance, in the order it is made with (status, when set, comes last). */
const CLUSTER_KEYS = ['cluster_id', 'kind', 'origin', 'origin_rule', 'members', 'edges', 'agencies'];

/**
 * JSON.stringify(c), passed through `escape` (the report's scriptSafe), written as bytes into `out` without
 * the objects toJSON makes or the text itself (at a 100k-article night, 44k clusters and 200k members:
 * seconds of the main thread and much of its garbage). `escape` must only ever change characters inside
 * strings (the keys and numbers written here hold none of scriptSafe's five). A provenance of another shape
 * (keys added, say) is written by JSON.stringify, so the bytes are always JSON.stringify's.
 */
export function writeProvenanceJson(c: ClusterProvenance, out: LineBytes, escape: (json: string) => string = (json) => json): void {
  const keys = Object.keys(c);
  const statusSet = c.status !== undefined;
  const expected = statusSet ? [...CLUSTER_KEYS, 'status'] : CLUSTER_KEYS;
  const known =
    keys.filter((k) => k !== 'status' || statusSet).join() === expected.join() &&
    typeof c.origin_rule === 'string' &&
    (!statusSet || typeof c.status === 'string') &&
    c.edges instanceof CopyEdges &&
    c.members.every((m) => m instanceof MemberProvenance);
  if (!known) {
    out.text(escape(JSON.stringify(c)));
    return;
  }
  out.ascii('{"cluster_id":').string(c.cluster_id, escape).ascii(',"kind":').string(c.kind, escape);
  out.ascii(',"origin":').string(c.origin, escape).ascii(',"origin_rule":').string(c.origin_rule, escape).ascii(',"members":[');
  c.members.forEach((m, k) => {
    if (k) out.ascii(',');
    writeMemberJson(m, out, escape);
  });
  out.ascii('],"edges":');
  c.edges.writeJson(out, escape);
  out.ascii(',"agencies":').strings(c.agencies, escape);
  if (statusSet) out.ascii(',"status":').string(c.status as string, escape);
  out.ascii('}');
}

/** A member's provenance as written in report.json. */
export interface MemberProvenanceJson {
  id: string;
  outlet: string;
  published_at: string | null;
  /** Share of the member's content shingles also in the origin. */
  share_from_origin: number;
  /** Share found in other members but not in the origin. */
  share_from_others: number;
  /** Member paragraphs not aligned with the origin: [start, end) offsets. */
  added: Array<{ start: number; end: number }>;
  /** Origin paragraphs the member does not carry: [start, end) offsets in the origin. */
  dropped: Array<{ start: number; end: number }>;
  /** Paragraphs shared with the origin: offsets in the member and in the origin. */
  aligned: Array<{ start: number; end: number; origin_start: number; origin_end: number; similarity: number }>;
  credits: string[];
  agencies: string[];
}

export interface CopyEdge {
  from: string;
  to: string;
  relation: string;
  /** Share of the copier's text found in the source. */
  share: number;
  /** Seconds between the two publications, null when a date is missing. */
  lag_seconds: number | null;
}

/**
 * A cluster's directed edges, packed as (source, copier, relation, share) article numbers (some 500k edges a
 * night at 1M indexed), and written out as CopyEdge objects.
 */
export class CopyEdges {
  constructor(
    private readonly packed: Int32Array,
    private readonly articles: Article[],
  ) {}

  /** JSON.stringify(this) written into `out`, with `escape` applied to its strings (see writeProvenanceJson). */
  writeJson(out: LineBytes, escape?: (json: string) => string): void {
    const p = this.packed;
    out.ascii('[');
    for (let at = 0; at < p.length; at += 4) {
      const src = this.articles[p[at]];
      const dst = this.articles[p[at + 1]];
      out.ascii(at ? ',{"from":' : '{"from":').string(src.id, escape).ascii(',"to":').string(dst.id, escape);
      out.ascii(',"relation":').string(RELATIONS[p[at + 2]], escape).ascii(',"share":').scaled(p[at + 3]).ascii(',"lag_seconds":');
      if (Number.isNaN(src.time) || Number.isNaN(dst.time)) out.ascii('null');
      else out.number(Math.round((dst.time - src.time) / 1000));
      out.ascii('}');
    }
    out.ascii(']');
  }

  toJSON(): CopyEdge[] {
    const p = this.packed;
    const out: CopyEdge[] = [];
    for (let at = 0; at < p.length; at += 4) {
      const src = this.articles[p[at]];
      const dst = this.articles[p[at + 1]];
      const lag = Number.isNaN(src.time) || Number.isNaN(dst.time) ? null : Math.round((dst.time - src.time) / 1000);
      out.push({ from: src.id, to: dst.id, relation: RELATIONS[p[at + 2]], share: p[at + 3] / SCALE, lag_seconds: lag });
    }
    return out;
  }
}

export interface ClusterProvenance {
  cluster_id: string;
  kind: 'story' | 'near-duplicate';
  origin: string;
  origin_rule: OriginRule | 'only-member';
  members: MemberProvenance[];
  edges: CopyEdges;
  agencies: string[];
  /** With the persistent index: "new" tonight, or an earlier cluster that "grown" tonight. */
  status?: string;
}

/**
 * The verified pairs by their two articles: keys (packPair) in one sorted typed array, searched by
 * halves. A Map keyed by "a:b" strings was some 40 MB for a night's 537k pairs, held at the night's peak.
 */
export class PairLookup {
  private readonly keys: Float64Array;
  private readonly order: Uint32Array;

  constructor(private readonly pairs: VerifiedPair[]) {
    this.keys = Float64Array.from(pairs, (p) => packPair(p.a, p.b));
    // Verification gives them in key order already; any other order is sorted here.
    this.order = Uint32Array.from(pairs, (_, i) => i);
    const keys = this.keys;
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] < keys[i];
    if (!sorted) {
      this.order.sort((m, n) => keys[m] - keys[n]);
      this.keys = Float64Array.from(this.order, (i) => keys[i]);
    }
  }

  get(x: number, y: number): VerifiedPair | undefined {
    const key = packPair(x, y);
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.keys.length && this.keys[lo] === key ? this.pairs[this.order[lo]] : undefined;
  }
}

export function clusterProvenance(
  clusterId: string,
  kind: 'story' | 'near-duplicate',
  cluster: Cluster,
  articles: Article[],
  analyses: ArticleAnalysis[],
  sketches: DocSketch[],
  pairsByKey: PairLookup,
  facts: OrderFacts,
): ClusterProvenance {
  const origin = cluster.canonical;
  const members = cluster.members;
  const pairOf = (x: number, y: number): VerifiedPair | undefined => pairsByKey.get(x, y);
  // Once per cluster, on sorted sets: each member's shingles outside the origin, and those found in two or
  // more members (a member's text "from others" is what another member also has and the origin lacks).
  const originSet = sketches[origin].shingles;
  const outside = new Map<number, Uint32Array>();
  for (const x of members) if (x !== origin) outside.set(x, difference(sketches[x].shingles, originSet));
  const shared = repeated(concatAll([...outside.values()]).sort());
  const content = (d: number): number[] => sketches[d].paragraphs.paras();
  const memberProv = members.map((m) => {
    const set = sketches[m].shingles;
    const fromOrigin = intersectionSize(set, originSet);
    const fromOthers = m === origin ? 0 : intersectionSize(outside.get(m) as Uint32Array, shared);
    const pair = m === origin ? undefined : pairOf(m, origin);
    const mIsA = pair ? pair.a === m : true;
    const alignedM = new Set(pair ? pair.passages.map((p) => (mIsA ? p.aPara : p.bPara)) : []);
    const alignedO = new Set(pair ? pair.passages.map((p) => (mIsA ? p.bPara : p.aPara)) : []);
    const added = m === origin ? [] : content(m).filter((p) => !alignedM.has(p));
    const dropped = m === origin ? [] : content(origin).filter((p) => !alignedO.has(p));
    const M = analyses[m].paragraphs;
    const O = analyses[origin].paragraphs;
    const aligned = pair
      ? pair.passages
          .map((p) => {
            const [mp, op] = mIsA ? [p.aPara, p.bPara] : [p.bPara, p.aPara];
            return [paraStart(M, mp), paraEnd(M, mp), paraStart(O, op), paraEnd(O, op), scaled(p.similarity)];
          })
          .sort((x, y) => x[0] - y[0])
      : [];
    const packed = new Int32Array(5 + 2 * added.length + 2 * dropped.length + 5 * aligned.length);
    packed.set([set.length ? scaled(fromOrigin / set.length) : 0, set.length ? scaled(fromOthers / set.length) : 0, added.length, dropped.length, aligned.length]);
    let at = 5;
    for (const p of added) (packed[at++] = paraStart(M, p)), (packed[at++] = paraEnd(M, p));
    for (const p of dropped) (packed[at++] = paraStart(O, p)), (packed[at++] = paraEnd(O, p));
    for (const span of aligned) packed.set(span, (at += 5) - 5);
    return new MemberProvenance(articles[m].id, articles[m].outlet, articles[m].published_at, packed, analyses[m].credits, analyses[m].agencies);
  });
  // Directed edges: every verified pair inside the cluster, from the earlier (by origin order) to the later.
  const rankOf = new Map(members.map((m, r) => [m, r]));
  const edges: number[] = [];
  for (let x = 0; x < members.length; x++) {
    for (let y = x + 1; y < members.length; y++) {
      const p = pairOf(members[x], members[y]);
      if (!p) continue;
      const [src, dst] = (rankOf.get(members[x]) as number) < (rankOf.get(members[y]) as number) ? [members[x], members[y]] : [members[y], members[x]];
      const share = dst === p.a ? p.containmentAB : p.containmentBA;
      edges.push(src, dst, RELATIONS.indexOf(p.relation), scaled(share));
    }
  }
  const agencies = [...new Set(members.flatMap((m) => analyses[m].agencies))].sort();
  return {
    cluster_id: clusterId,
    kind,
    origin: articles[origin].id,
    origin_rule: members.length > 1 ? decidingRule(origin, members[1], articles, facts) : 'only-member',
    members: memberProv,
    edges: new CopyEdges(Int32Array.from(edges), articles),
    agencies,
  };
}

/** a \ b, both sorted. */
function difference(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  let w = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    while (j < b.length && b[j] < a[i]) j++;
    if (j < b.length && b[j] === a[i]) continue;
    out[w++] = a[i];
  }
  return out.subarray(0, w);
}

/** The values occurring twice or more in a sorted array, once each. */
function repeated(sorted: Uint32Array): Uint32Array {
  const out = new Uint32Array(sorted.length >>> 1);
  let w = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1] && (w === 0 || out[w - 1] !== sorted[i])) out[w++] = sorted[i];
  return out.subarray(0, w);
}

/** x with 4 decimals, as every share and similarity is written (the packed provenance stores scaled(x)). */
export function round(x: number): number {
  return scaled(x) / SCALE;
}
