// Preloaded with `node --import` by process-tree.ts: prints this process's peak RSS on exit.
// getrusage's maxRSS is the whole process's, its worker threads included (they share it).
process.on('exit', () => {
  process.stderr.write(`\ntunedrop-bench-peak-rss ${process.resourceUsage().maxRSS * 1024}\n`);
});
