// The peer side of bench/compare_json_rules_engine.sh: json-rules-engine decides every
// criterion of the translated rule pack for every system, is timed, and must agree with
// opsmaturity on which criteria pass.
// Usage: node bench/peer/run.mjs DIR   (DIR written by build/bench/peer_export)
import fs from 'node:fs';
import { Engine } from 'json-rules-engine';

const dir = process.argv[2];
const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const rules = read('rules.json');
const facts = read('facts.json');
const expected = read('expected.json');
const ours = read('ours.json');

const engine = new Engine([], { allowUndefinedFacts: true });
engine.addOperator('present', (value) => value !== undefined && value !== null);
engine.addOperator('matches', (value, re) => typeof value === 'string' && new RegExp(`^(?:${re})$`).test(value));
for (const r of rules) engine.addRule(r);

const passed = [];
const start = process.hrtime.bigint();
for (const f of facts) {
  const { events } = await engine.run(f);
  passed.push(events.map((e) => e.type));
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;

let mismatches = 0;
for (let s = 0; s < facts.length; s++) {
  const a = new Set(expected[s]);
  const b = new Set(passed[s]);
  for (const id of new Set([...a, ...b])) {
    if (a.has(id) !== b.has(id)) {
      if (mismatches < 5) console.error(`system ${s}: ${id}: opsmaturity ${a.has(id) ? 'pass' : 'not pass'}, json-rules-engine ${b.has(id) ? 'pass' : 'not pass'}`);
      mismatches++;
    }
  }
}
const n = facts.length;
console.log(`json-rules-engine: ${n} systems x ${rules.length} criteria in ${ms.toFixed(1)} ms (${(ms * 1000 / n).toFixed(2)} us per system)`);
console.log(`opsmaturity:       ${n} systems x ${ours.criteria} criteria in ${ours.ms.toFixed(1)} ms (${(ours.ms * 1000 / n).toFixed(2)} us per system)`);
console.log(`speed-up: ${(ms / ours.ms).toFixed(0)}x per system; decisions compared: ${n * rules.length}, mismatches: ${mismatches}`);
process.exit(mismatches === 0 ? 0 : 1);
