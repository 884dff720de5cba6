// Lists every skipped test with its full name (which says why it skipped) at the end of a run,
// so `npm test` on the embedded defaults explains what it did not run.
class SkipReporter {
  onRunComplete(_contexts, results) {
    const skipped = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
          skipped.push(test.fullName);
        }
      }
    }
    if (skipped.length === 0) return;
    process.stderr.write(`\nSkipped (${skipped.length}):\n${skipped.map((n) => `  - ${n}`).join('\n')}\n`);
  }
}
module.exports = SkipReporter;
