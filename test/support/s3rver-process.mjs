// s3rver (a real S3-protocol server) in a process of its own, so that memory and CPU measured in
// the test or benchmark process are ours alone: it serves S3RVER_DIR on a free loopback port with
// one bucket S3RVER_BUCKET, sends { port } to its parent when ready, and stops when the parent
// disconnects (or goes away).
import S3rver from 's3rver';

const s3 = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.env.S3RVER_DIR,
  configureBuckets: [{ name: process.env.S3RVER_BUCKET ?? 'adiuva-test', configs: [] }],
});
const { port } = await s3.run();
process.send({ port });
process.on('disconnect', () => void s3.close().then(() => process.exit(0)));
