import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  buildPluginZip,
  type PackageEntry,
  sha256Hex,
  sampleManifest,
} from '../../../../test/support/plugin-package.js';
import { type CheckResult, runSubmissionChecks } from './index.js';

const manifest = sampleManifest;

// Fake credentials, assembled at run time so that no scanner of this repository trips on its source.
const awsKeyId = 'AKIA' + 'Q3ZT7WX2LMN4PRS6';
const awsSecret = 'k9Vd2' + 'Lq8ZrT4mN7xB1cY6pWj3HsF0gUe5aKoR2tQ';
const githubToken = 'ghp_' + 'x7Kq2LmZ9rT4vB8nW1cY6pJ3sF0dG5hA2eRt';
const apiKey = 'Cs2cKNmLTf' + 'PdaPNoBR/sfPmJ7T0z+Yh12ilZUYAo';
const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

async function secretResults(files: PackageEntry[]): Promise<CheckResult[]> {
  const packageBytes = buildPluginZip([
    { name: 'manifest.json', content: JSON.stringify(manifest) },
    ...files,
  ]);
  const report = await runSubmissionChecks({
    manifest,
    packageBytes,
    checksum: sha256Hex(packageBytes),
    existing: [],
  });
  return report.results.filter((result) => result.check === 'secrets');
}

describe('secrets check', () => {
  it('finds an AWS access key and its secret, with file and line, naming the rule', async () => {
    const config = [
      "export const region = 'eu-west-1';",
      `export const accessKeyId = '${awsKeyId}';`,
      `const AWS_SECRET_ACCESS_KEY = "${awsSecret}";`,
    ].join('\n');
    const results = await secretResults([{ name: 'src/config.js', content: config }]);
    expect(results.map(({ code, file, line, message }) => ({ code, file, line, message }))).toEqual([
      {
        code: 'secret_detected',
        file: 'src/config.js',
        line: 2,
        message:
          'possible secret: AWS access key id (rule @secretlint/secretlint-rule-aws); remove it and rotate it',
      },
      {
        code: 'secret_detected',
        file: 'src/config.js',
        line: 3,
        message:
          'possible secret: AWS secret access key (rule @secretlint/secretlint-rule-aws); remove it and rotate it',
      },
    ]);
  });

  it('finds a GitHub token and a private key block', async () => {
    const results = await secretResults([
      { name: 'README.md', content: `# Setup\n\nUse the token ${githubToken} to publish.\n` },
      { name: 'keys/signing.pem', content: `\n${privateKey}` },
    ]);
    expect(results.map(({ code, file, line, message }) => ({ code, file, line, message }))).toEqual([
      {
        code: 'secret_detected',
        file: 'README.md',
        line: 3,
        message:
          'possible secret: GitHub token (rule @secretlint/secretlint-rule-github); remove it and rotate it',
      },
      {
        code: 'secret_detected',
        file: 'keys/signing.pem',
        line: 2,
        message:
          'possible secret: private key (rule @secretlint/secretlint-rule-privatekey); remove it and rotate it',
      },
    ]);
  });

  it('never puts the secret itself in a result', async () => {
    const results = await secretResults([
      { name: 'a.js', content: `const k = '${awsKeyId}';\nconst AWS_SECRET_ACCESS_KEY = '${awsSecret}';\n` },
      { name: 'b.md', content: githubToken },
      { name: 'c.pem', content: privateKey },
      { name: 'd.env', content: `API_TOKEN=${apiKey}` },
    ]);
    expect(results).toHaveLength(5);
    const shown = JSON.stringify(results);
    for (const secret of [
      awsKeyId,
      awsSecret,
      githubToken,
      apiKey,
      ...privateKey.split('\n').filter((l) => l.length > 20),
    ]) {
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain(secret.slice(4, 20));
    }
  });

  it('adds the entropy rule for keys no named rule knows', async () => {
    const results = await secretResults([
      { name: 'lib/client.js', content: `\n\nconst apiKey = "${apiKey}";\n` },
    ]);
    expect(results).toEqual([
      {
        check: 'secrets',
        status: 'failed',
        code: 'high_entropy_string',
        file: 'lib/client.js',
        line: 3,
        message: expect.stringMatching(
          /^possible secret: high-entropy string \(40 characters, [\d.]+ bits per character\) \(the entropy rule\)/,
        ),
      },
    ]);
  });

  it('finds a key behind a NUL byte (a binary file), placed by its byte offset', async () => {
    const behindNul = Buffer.concat([Buffer.from([0]), Buffer.from(`${awsKeyId}\n`)]);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
      Buffer.alloc(500, 0xff),
      Buffer.from(`tEXtComment\0${githubToken}`),
      Buffer.alloc(100),
    ]);
    const results = await secretResults([
      { name: 'data.bin', content: behindNul },
      { name: 'icon.png', content: png },
    ]);
    expect(results.map(({ code, file, line, message }) => ({ code, file, line, message }))).toEqual([
      {
        code: 'secret_detected',
        file: 'data.bin',
        line: undefined,
        message:
          'possible secret: AWS access key id (rule @secretlint/secretlint-rule-aws) at byte 1 of this binary file; remove it and rotate it',
      },
      {
        code: 'secret_detected',
        file: 'icon.png',
        line: undefined,
        message:
          'possible secret: GitHub token (rule @secretlint/secretlint-rule-github) at byte 524 of this binary file; remove it and rotate it',
      },
    ]);
  });

  it('finds a key at the end of a 2 MiB file, and in a UTF-16 one', async () => {
    const filler = '// filler line of an ordinary bundle\n';
    const lines = Math.ceil((2 * 1024 * 1024) / filler.length);
    const big = `${filler.repeat(lines)}const t = '${githubToken}';\n`;
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`key = "${awsKeyId}"\r\n`, 'utf16le'),
    ]);
    const results = await secretResults([
      { name: 'dist/bundle.js', content: big },
      { name: 'settings.ini', content: utf16 },
    ]);
    expect(results.map(({ code, file, line }) => ({ code, file, line }))).toEqual([
      { code: 'secret_detected', file: 'dist/bundle.js', line: lines + 1 },
      { code: 'secret_detected', file: 'settings.ini', line: 1 },
    ]);
  });

  it('passes clean code and binaries without secrets (the entropy rule reads text only)', async () => {
    const noise = Buffer.alloc(64 * 1024);
    let seed = 7;
    for (let index = 0; index < noise.length; index++)
      noise[index] = (seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 16;
    noise[0] = 0;
    const results = await secretResults([
      {
        name: 'icon.png',
        content: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]), Buffer.alloc(4096, 0x41)]),
      },
      { name: 'noise.bin', content: noise },
      { name: 'index.js', content: 'export function activate(context) {\n  context.log("hi");\n}\n' },
    ]);
    expect(results).toEqual([
      { check: 'secrets', status: 'passed', code: 'ok', message: 'the secrets check found nothing' },
    ]);
  });

  it('lists at most 100 findings and counts the rest', async () => {
    // 64 random hex digits: flagged every time (the hex rule's bar is far below their 3.8 bits).
    const lines = [...Array(120).keys()].map(() => `k = "${randomBytes(32).toString('hex')}"`).join('\n');
    const results = await secretResults([{ name: 'keys.txt', content: lines }]);
    expect(results).toHaveLength(101);
    expect(results[100]).toEqual({
      check: 'secrets',
      status: 'failed',
      code: 'secret_detected',
      message: '20 more findings',
    });
  });
});
