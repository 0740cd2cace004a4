import { readFileSync } from 'node:fs';

const s = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const m = s.snapshot.meta;
const nf = m.node_fields.length;
const types = m.node_types[0];
const names = s.strings;
const iType = m.node_fields.indexOf('type'),
  iName = m.node_fields.indexOf('name'),
  iSize = m.node_fields.indexOf('self_size');
const agg = new Map();
for (let i = 0; i < s.nodes.length; i += nf) {
  const t = types[s.nodes[i + iType]];
  const n = t === 'object' || t === 'closure' ? names[s.nodes[i + iName]] : `(${t})`;
  const a = agg.get(n) ?? [0, 0];
  a[0]++;
  a[1] += s.nodes[i + iSize];
  agg.set(n, a);
}
for (const [k, [c, sz]] of [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 30))
  console.log((sz / 2 ** 20).toFixed(1).padStart(7), 'MiB', String(c).padStart(8), k.slice(0, 80));
