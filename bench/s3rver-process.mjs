// bench:backup's S3 server, in a process of its own so that the measured process is only our
// server: s3rver on a free loopback port over BENCH_S3_DIR with the bucket "bench"; it sends
// { port } when ready and stops when its parent goes.
import S3rver from 's3rver';

const s3 = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.env.BENCH_S3_DIR,
  configureBuckets: [{ name: 'bench', configs: [] }],
});
const { port } = await s3.run();
process.send({ port });
process.on('disconnect', () => void s3.close().then(() => process.exit(0)));
