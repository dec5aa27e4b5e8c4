import { configCases } from './test/config-cases';
import { synthesize } from './stacks/synthesize';
import { parseStackConfigWithProblems, ConfigError } from './stacks/config';
const cases = configCases('.');
let extra = 0; const samples: string[] = [];
for (const c of cases) {
  const { problems } = parseStackConfigWithProblems(c.raw, c.stack);
  if (problems.length === 0) continue;
  try { synthesize(c.raw, c.stack); } catch (e) {
    const all = (e as ConfigError).problems;
    if (all.length > problems.length) { extra++; samples.push(`${c.name}\n   parse: ${problems.map(p=>p.message.slice(0,120)).join(' | ')}\n   +build: ${all.slice(problems.length).map(p => p.message.slice(0, 160)).join(' | ')}`); }
  }
}
console.log(extra, 'cases with construct problems added');
const step = Math.max(1, Math.floor(samples.length / 25));
for (let i = 0; i < samples.length; i += step) console.log(samples[i]);
