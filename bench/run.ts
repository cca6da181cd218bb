/**
 * `npm run bench [-- NAME] [-- options]`: runs one benchmark. NAME is `validate` (the default: the
 * validator's throughput and memory against a split-and-JSON.parse floor, bench/validate), `cli`
 * (the tunedrop command's start-up and end-to-end validate time, bench/cli) or `long` (ten 900 KB
 * examples over the token limit: time and peak RSS with the real tokenizer, bench/long-examples)
 * or `burst` (60 datasets against a Vertex quota of 2 concurrent jobs, bench/burst).
 * Options go to it.
 */
const benches: Record<string, () => Promise<unknown>> = {
  validate: () => import('./validate/bench.ts'),
  cli: () => import('./cli/bench.ts'),
  long: () => import('./long-examples/run.ts').then((bench) => bench.runLongExamplesBench()),
  burst: () => import('./burst/run.ts'),
};

const [first] = process.argv.slice(2);
const name = first && !first.startsWith('-') ? first : 'validate';
const run = benches[name];
if (!run) {
  console.error(`npm run bench: unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
if (name === first) process.argv.splice(2, 1);
await run();
