// bench:backup's client, in a process of its own like a real client: on "go" it PUTs the generated
// stream to BENCH_URL (/api/v1/backup, or the bench's bare server), or with BENCH_METHOD=GET reads
// BENCH_URL's body to its end (counted and dropped), and reports the status, the bytes received and
// the CPU seconds it used. Arguments come in the environment.
import { request } from 'node:http';
import { source } from './backup-source.mjs';

const { BENCH_URL, BENCH_TOKEN, BENCH_CHECKSUM, BENCH_BYTES, BENCH_METHOD = 'PUT' } = process.env;
const size = Number(BENCH_BYTES);

process.on('message', () => {
  const url = new URL(BENCH_URL);
  const cpu0 = process.cpuUsage();
  const upload = BENCH_METHOD === 'PUT';
  const req = request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: BENCH_METHOD,
      headers: upload
        ? {
            authorization: `Bearer ${BENCH_TOKEN}`,
            'content-type': 'application/octet-stream',
            'content-length': String(size),
            'x-backup-version': '1',
            'x-backup-timestamp': String(Date.now()),
            'x-backup-checksum': BENCH_CHECKSUM,
          }
        : { authorization: `Bearer ${BENCH_TOKEN}` },
    },
    (res) => {
      let body = '';
      let bytes = 0;
      res.on('data', (d) => {
        bytes += d.length;
        if (upload || res.statusCode !== 200) body += d;
      });
      res.on('end', () => {
        const cpu = process.cpuUsage(cpu0);
        const message = { status: res.statusCode, body, bytes, cpu: (cpu.user + cpu.system) / 1e6 };
        process.send(message, () => process.exit(0));
      });
    },
  );
  req.on('error', (err) => process.send({ status: 0, body: String(err) }, () => process.exit(1)));
  if (upload) source(size).pipe(req);
  else req.end();
});
process.send({ ready: true });
