// bench:backup's client, in a process of its own like a real client: on "go" it PUTs the generated
// stream to BENCH_URL (/api/v1/backup, or the bench's bare server) and reports the status.
// Arguments come in the environment.
import { request } from 'node:http';
import { source } from './backup-source.mjs';

const { BENCH_URL, BENCH_TOKEN, BENCH_CHECKSUM, BENCH_BYTES } = process.env;
const size = Number(BENCH_BYTES);

process.on('message', () => {
  const url = new URL(BENCH_URL);
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'PUT',
      headers: {
        authorization: `Bearer ${BENCH_TOKEN}`,
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'x-backup-version': '1',
        'x-backup-timestamp': String(Date.now()),
        'x-backup-checksum': BENCH_CHECKSUM,
      },
    },
    (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => process.send({ status: res.statusCode, body }, () => process.exit(0)));
    },
  );
  req.on('error', (err) => process.send({ status: 0, body: String(err) }, () => process.exit(1)));
  source(size).pipe(req);
});
process.send({ ready: true });
