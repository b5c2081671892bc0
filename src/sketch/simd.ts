/**
 * The MinHash inner loop as a WebAssembly SIMD kernel, assembled here byte by
 * byte (no toolchain, nothing fetched). It computes exactly what the scalar
 * loop in minhash.ts computes: for each permutation i, min over the set of
 * fmix32(x ^ salt_i); but four permutations per 128-bit lane group and four
 * groups per pass over the set, so each shingle is loaded once per 16
 * permutations. Tests check it against the scalar definition.
 *
 * Exported function: sign(set, n, salts, k, out), all byte offsets into the
 * module's own memory; k must be a multiple of 16.
 */

const SIMD = 0xfd;
const op = {
  block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, end: 0x0b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i32Const: 0x41, i32GeU: 0x4f, i32Add: 0x6a, i32Shl: 0x74,
};
// SIMD opcodes (after the 0xfd prefix, LEB128-encoded).
const simd = { v128Load: 0x00, v128Store: 0x0b, i32x4Splat: 0x11, v128Xor: 0x51, i32x4ShrU: 0xad, i32x4Mul: 0xb5, i32x4MinU: 0xb7 };
const V128 = 0x7b;
const I32 = 0x7f;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vop = (code: number): number[] => [SIMD, ...uleb(code)];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** Lanes per pass: 4 vectors of 4 permutations. */
export const SIMD_GROUP = 16;

function kernelBytes(): Uint8Array {
  // Params 0..4: set, n, salts, k, out. Locals: 5 i = perm offset (bytes), 6 j = shingle offset (bytes),
  // 7 x (splatted shingle), 8 h, 9 c1, 10 c2, 11..14 salts s0..s3, 15..18 minima m0..m3.
  const [SET, N, SALTS, K, OUT, I, J, X, H, C1, C2] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const S = (g: number): number => 11 + g;
  const M = (g: number): number => 15 + g;
  const get = (l: number): number[] => [op.localGet, l];
  const set = (l: number): number[] => [op.localSet, l];
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const p of parts) code.push(...p);
  };
  const splatConst = (v: number, local: number): void => emit([op.i32Const, ...sleb(v | 0)], vop(simd.i32x4Splat), set(local));
  splatConst(0x85ebca6b, C1);
  splatConst(0xc2b2ae35, C2);
  // Byte lengths: n * 4 and k * 4.
  emit(get(N), [op.i32Const, 2, op.i32Shl], set(N), get(K), [op.i32Const, 2, op.i32Shl], set(K));
  emit([op.i32Const, 0], set(I));
  emit([op.block, 0x40, op.loop, 0x40]);
  emit(get(I), get(K), [op.i32GeU, op.brIf, 1]);
  for (let g = 0; g < 4; g++) {
    emit(get(SALTS), get(I), [op.i32Add], vop(simd.v128Load), [0, g * 16], set(S(g)));
    emit([op.i32Const, ...sleb(-1)], vop(simd.i32x4Splat), set(M(g)));
  }
  emit([op.i32Const, 0], set(J));
  emit([op.block, 0x40, op.loop, 0x40]);
  emit(get(J), get(N), [op.i32GeU, op.brIf, 1]);
  emit(get(SET), get(J), [op.i32Add, op.i32Load, 2, 0], vop(simd.i32x4Splat), set(X));
  for (let g = 0; g < 4; g++) {
    emit(get(X), get(S(g)), vop(simd.v128Xor), [op.localTee, H]);
    emit(get(H), [op.i32Const, 16], vop(simd.i32x4ShrU), vop(simd.v128Xor), get(C1), vop(simd.i32x4Mul), [op.localTee, H]);
    emit(get(H), [op.i32Const, 13], vop(simd.i32x4ShrU), vop(simd.v128Xor), get(C2), vop(simd.i32x4Mul), [op.localTee, H]);
    emit(get(H), [op.i32Const, 16], vop(simd.i32x4ShrU), vop(simd.v128Xor), get(M(g)), vop(simd.i32x4MinU), set(M(g)));
  }
  emit(get(J), [op.i32Const, 4, op.i32Add], set(J), [op.br, 0, op.end, op.end]);
  for (let g = 0; g < 4; g++) emit(get(OUT), get(I), [op.i32Add], get(M(g)), vop(simd.v128Store), [0, g * 16]);
  emit(get(I), [op.i32Const, ...sleb(SIMD_GROUP * 4), op.i32Add], set(I), [op.br, 0, op.end, op.end]);
  emit([op.end]);
  const locals = [2, 2, I32, 12, V128];
  const body = [...locals, ...code];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('sign'), 0, 0, ...name('mem'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ];
  return Uint8Array.from(bytes);
}

export interface SimdKernel {
  /** Signature of `set` under `salts` (length a multiple of SIMD_GROUP), written into `out`. */
  sign(set: Uint32Array, salts: Uint32Array, out: Uint32Array): void;
}

/** The slice of the WebAssembly API used here (the project's lib settings carry no DOM types). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

let cached: SimdKernel | null | undefined;

/** The kernel, or null where WebAssembly SIMD is unavailable (the scalar loop is used then). */
export function simdKernel(): SimdKernel | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env.NEARDUP_NO_SIMD === '1') return cached;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(kernelBytes()));
    const mem = instance.exports.mem as WasmMemory;
    const fn = instance.exports.sign as (set: number, n: number, salts: number, k: number, out: number) => void;
    let view = new Uint32Array(mem.buffer);
    let lastSalts: Uint32Array | null = null;
    cached = {
      sign(set, salts, out) {
        const k = salts.length;
        // Layout: salts at 0, out after them, the set after that.
        const outAt = k * 4;
        const setAt = outAt + k * 4;
        const need = setAt + set.length * 4;
        if (need > mem.buffer.byteLength) {
          mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
          view = new Uint32Array(mem.buffer);
        }
        // Salts sit at 0 and survive growth; they are copied in when the hasher changes.
        if (salts !== lastSalts) {
          view.set(salts, 0);
          lastSalts = salts;
        }
        view.set(set, setAt >>> 2);
        fn(setAt, set.length, 0, k, outAt);
        out.set(view.subarray(outAt >>> 2, (outAt >>> 2) + k));
      },
    };
  } catch {
    cached = null;
  }
  return cached;
}
