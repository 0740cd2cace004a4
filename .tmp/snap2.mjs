import { readFileSync } from 'node:fs';

const s = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const m = s.snapshot.meta;
const nf = m.node_fields.length;
const ef = m.edge_fields.length;
const types = m.node_types[0];
const etypes = m.edge_types[0];
const names = s.strings;
const iType = m.node_fields.indexOf('type'),
  iName = m.node_fields.indexOf('name'),
  iSize = m.node_fields.indexOf('self_size'),
  iEC = m.node_fields.indexOf('edge_count');
const eType = m.edge_fields.indexOf('type'),
  eName = m.edge_fields.indexOf('name_or_index'),
  eTo = m.edge_fields.indexOf('to_node');
// build parent (first retainer) map
const N = s.nodes.length / nf;
const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) {
  firstEdge[i] = e;
  e += s.nodes[i * nf + iEC] * ef;
  firstEdge[i + 1] = e;
}
const retainer = new Int32Array(N).fill(-1);
const retEdge = new Array(N);
for (let i = 0; i < N; i++)
  for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += ef) {
    const to = s.edges[e + eTo] / nf;
    if (retainer[to] < 0) {
      retainer[to] = i;
      const et = etypes[s.edges[e + eType]];
      retEdge[to] = et === 'element' || et === 'hidden' ? `[${s.edges[e + eName]}]` : names[s.edges[e + eName]];
    }
  }
const label = (i) => {
  const t = types[s.nodes[i * nf + iType]];
  return `${t}:${names[s.nodes[i * nf + iName]].slice(0, 40)}`;
};
const agg = new Map();
for (let i = 0; i < N; i++) {
  if (types[s.nodes[i * nf + iType]] !== 'array') continue;
  const sz = s.nodes[i * nf + iSize];
  const r = retainer[i];
  const key = r >= 0 ? `${label(r)} .${retEdge[i]}` : '(none)';
  const a = agg.get(key) ?? [0, 0];
  a[0]++;
  a[1] += sz;
  agg.set(key, a);
}
for (const [k, [c, sz]] of [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 20))
  console.log((sz / 2 ** 20).toFixed(1).padStart(7), 'MiB', String(c).padStart(8), k);
console.log('--- by holder of the Array');
const agg2 = new Map();
const sizes = [];
for (let i = 0; i < N; i++) {
  if (types[s.nodes[i * nf + iType]] !== 'array') continue;
  const r = retainer[i];
  if (r < 0 || label(r) !== 'object:Array') continue;
  const sz = s.nodes[i * nf + iSize];
  sizes.push(sz);
  const g = retainer[r];
  const key = g >= 0 ? `${label(g)} .${retEdge[r]}` : '(none)';
  const a = agg2.get(key) ?? [0, 0];
  a[0]++;
  a[1] += sz;
  agg2.set(key, a);
}
for (const [k, [c, sz]] of [...agg2].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15))
  console.log((sz / 2 ** 20).toFixed(1).padStart(7), 'MiB', String(c).padStart(8), k);
sizes.sort((a, b) => b - a);
console.log('largest', sizes.slice(0, 10));
