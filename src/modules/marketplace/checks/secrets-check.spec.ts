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

  it('skips binary files and files over 1 MiB, and passes clean code', async () => {
    const binary = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]), Buffer.from(githubToken)]);
    const big = `${'// filler line of an ordinary bundle\n'.repeat(30_000)}const t = '${githubToken}';\n`;
    const results = await secretResults([
      { name: 'icon.png', content: binary },
      { name: 'dist/bundle.js', content: big },
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
