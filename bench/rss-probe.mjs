// Loaded with --import into a child the bench times: at exit, the process's peak resident memory
// (all its threads, from the kernel's getrusage), on a line of its own on stderr.
process.on('exit', () => process.stderr.write(`\nbench-max-rss-kib ${process.resourceUsage().maxRSS}\n`));
