import { lintSource } from '@secretlint/core';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import type { Deadline } from './deadline.js';
import type { CheckResult, PackageFile, SecretFinding, Scanners, TextFile } from './types.js';

/** A file with a NUL byte in its first 8 KiB is binary (as git decides). */
const BINARY_SNIFF_BYTES = 8 * 1024;
/** Past this many findings the rest are counted, not listed: the answer stays readable. */
export const MAX_SECRET_FINDINGS = 100;

type SecretlintConfig = Parameters<typeof lintSource>[0]['options']['config'];

const SECRETLINT_CONFIG: SecretlintConfig = {
  rules: [
    {
      id: recommendedPreset.meta.id,
      rule: recommendedPreset,
      // An AWS access key id in a package is worth flagging on its own, with or without its secret.
      rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
    },
  ],
};

/** Readable names for the findings seen most; any other is named by its message id. */
const LABELS: Record<string, string> = {
  AWSAccessKeyID: 'AWS access key id',
  AWSSecretAccessKey: 'AWS secret access key',
  AWSAccountID: 'AWS account id',
  GITHUB_TOKEN: 'GitHub token',
  PrivateKey: 'private key',
  SLACK_TOKEN: 'Slack token',
  NPM_ACCESS_TOKEN: 'npm access token',
};

/** secretlint with its recommended preset over one file; the findings carry no secret text. */
export async function scanWithSecretlint(file: TextFile): Promise<SecretFinding[]> {
  const result = await lintSource({
    source: { filePath: `/package/${file.name}`, content: file.text, ext: '', contentType: 'text' },
    options: { config: SECRETLINT_CONFIG, maskSecrets: true },
  });
  return result.messages.map((message) => ({
    rule: message.ruleId,
    label: LABELS[message.messageId] ?? message.messageId,
    line: message.loc.start.line,
    endLine: message.loc.end.line,
    offset: message.range[0],
  }));
}

/**
 * What the scanners read of a file, whatever its size. Text as UTF-8 (UTF-16 with its byte order
 * mark). A binary byte for byte as Latin-1: one character per byte, so a credential written into it
 * in ASCII (after a NUL, inside an image's metadata, in a compiled module) is the same run of
 * characters the rules look for, and a finding's position is its byte offset.
 */
export function scannedText(file: PackageFile): TextFile {
  const { content, name } = file;
  if (content[0] === 0xff && content[1] === 0xfe)
    return { name, text: content.subarray(2).toString('utf16le') };
  if (!content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { name, text: content.toString('utf8') };
  return { name, text: content.toString('latin1'), binary: true };
}

function finding(file: TextFile, found: SecretFinding): CheckResult {
  const rule = found.rule === 'entropy' ? 'the entropy rule' : `rule ${found.rule}`;
  const code = found.rule === 'entropy' ? 'high_entropy_string' : 'secret_detected';
  const where =
    file.binary && found.offset !== undefined ? ` at byte ${found.offset} of this binary file` : '';
  const message = `possible secret: ${found.label} (${rule})${where}; remove it and rotate it`;
  const result: CheckResult = { check: 'secrets', status: 'failed', code, message, file: file.name };
  // A binary file has no lines: its finding is placed by byte offset in the message.
  return file.binary ? result : { ...result, line: found.line };
}

/**
 * Scans every file of the package, text or binary, at any size up to the package's limits: the
 * maintained rule set (secretlint) on each, the entropy rule on text (random-looking runs are what
 * binaries are made of). Pushes one failed result per finding to `sink`.
 */
export async function checkSecrets(
  files: PackageFile[],
  scanners: Scanners,
  deadline: Deadline,
  sink: CheckResult[],
): Promise<void> {
  let count = 0;
  for (const file of files) {
    deadline.throwIfExpired();
    const text = scannedText(file);
    const named = await deadline.race(scanners.secretlint(text));
    // A line a named rule already reported is not reported again by the entropy rule.
    const covered = (line: number) =>
      named.some((found) => line >= found.line && line <= (found.endLine ?? found.line));
    const entropy = text.binary ? [] : scanners.entropy(text).filter((found) => !covered(found.line));
    const order = (found: SecretFinding) => (text.binary ? (found.offset ?? 0) : found.line);
    for (const found of [...named, ...entropy].sort((a, b) => order(a) - order(b))) {
      if (count++ < MAX_SECRET_FINDINGS) sink.push(finding(text, found));
    }
  }
  if (count > MAX_SECRET_FINDINGS) {
    const more = count - MAX_SECRET_FINDINGS;
    sink.push({
      check: 'secrets',
      status: 'failed',
      code: 'secret_detected',
      message: `${more} more findings`,
    });
  }
}
