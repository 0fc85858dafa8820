// The Cedar side of bench/compare_cedar.sh: Cedar (@cedar-policy/cedar-wasm, the Rust engine
// compiled to WebAssembly) decides every criterion of the translated rule pack for every
// system — one authorization request per system, whose satisfied policies are the passing
// criteria — is timed, and must agree with opsmaturity on which criteria pass.
// Usage: node bench/peer/cedar.mjs DIR   (DIR written by build/bench/peer_export)
import fs from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

const dir = process.argv[2];
const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const policies = read('cedar.json');
const facts = read('facts.json');
const expected = read('expected.json');
const ours = read('ours.json');

const parsed = cedar.preparsePolicySet('pack', { staticPolicies: policies });
if (parsed.type !== 'success') {
  console.error('Cedar refused the translated pack:', JSON.stringify(parsed.errors.slice(0, 3)));
  process.exit(1);
}

// Evidence as a request context: numbers as Cedar decimals (four digits after the point).
const contexts = facts.map((f) => {
  const ctx = {};
  for (const [k, v] of Object.entries(f)) {
    if (typeof v === 'number') {
      const text = v.toFixed(4);
      if (Number(text) !== v) throw new Error(`${k} = ${v} is not a Cedar decimal`);
      ctx[k] = { __extn: { fn: 'decimal', arg: text } };
    } else {
      ctx[k] = v;
    }
  }
  return ctx;
});

const system = { type: 'System', id: 'system' };
const action = { type: 'Action', id: 'score' };
const passed = [];
let errors = 0;
const start = process.hrtime.bigint();
for (const context of contexts) {
  const answer = cedar.statefulIsAuthorized({
    principal: system, action, resource: system, context, preparsedPolicySetId: 'pack', entities: [],
  });
  if (answer.type !== 'success') {
    console.error('Cedar failed:', JSON.stringify(answer.errors.slice(0, 3)));
    process.exit(1);
  }
  passed.push(answer.response.diagnostics.reason);
  errors += answer.response.diagnostics.errors.length;
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;

let mismatches = 0;
for (let s = 0; s < facts.length; s++) {
  const a = new Set(expected[s]);
  const b = new Set(passed[s]);
  for (const id of new Set([...a, ...b])) {
    if (a.has(id) !== b.has(id)) {
      if (mismatches < 5) console.error(`system ${s}: ${id}: opsmaturity ${a.has(id) ? 'pass' : 'not pass'}, Cedar ${b.has(id) ? 'pass' : 'not pass'}`);
      mismatches++;
    }
  }
}
const n = facts.length;
const criteria = Object.keys(policies).length;
console.log(`Cedar ${cedar.getCedarVersion()}: ${n} systems x ${criteria} criteria in ${ms.toFixed(1)} ms (${(ms * 1000 / n).toFixed(2)} us per system), policy errors: ${errors}`);
console.log(`opsmaturity:  ${n} systems x ${ours.criteria} criteria in ${ours.ms.toFixed(1)} ms (${(ours.ms * 1000 / n).toFixed(2)} us per system)`);
console.log(`speed-up: ${(ms / ours.ms).toFixed(0)}x per system; decisions compared: ${n * criteria}, mismatches: ${mismatches}`);
process.exit(mismatches === 0 && errors === 0 ? 0 : 1);
