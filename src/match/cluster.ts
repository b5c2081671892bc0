/**
 * Clustering without chaining. Articles are visited in canonical order
 * (earliest first); an unassigned article founds a cluster and takes in the
 * unassigned articles it is *directly* linked to. So every member is similar
 * to its cluster's canonical article itself, never only through a bridge:
 * A~B and B~C with A≁C puts C in a cluster of its own (or with another canonical).
 */
export interface Cluster {
  canonical: number;
  /** Canonical first, then the others in canonical order. */
  members: number[];
}

export function clusterWithoutChaining(count: number, edges: Array<[number, number]>, order: number[]): Cluster[] {
  const neighbours: number[][] = Array.from({ length: count }, () => []);
  for (const [a, b] of edges) {
    neighbours[a].push(b);
    neighbours[b].push(a);
  }
  const rank = new Int32Array(count);
  order.forEach((doc, r) => (rank[doc] = r));
  const assigned = new Uint8Array(count);
  const clusters: Cluster[] = [];
  for (const doc of order) {
    if (assigned[doc] || neighbours[doc].length === 0) continue;
    const members = [doc];
    assigned[doc] = 1;
    const joiners = neighbours[doc].filter((m) => !assigned[m]).sort((x, y) => rank[x] - rank[y]);
    for (const m of joiners) {
      assigned[m] = 1;
      members.push(m);
    }
    if (members.length > 1) clusters.push({ canonical: doc, members });
    else assigned[doc] = 0;
  }
  return clusters;
}
