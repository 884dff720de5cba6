import { lintSource } from '@secretlint/core';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import type { Deadline } from './deadline.js';
import type { CheckResult, PackageFile, SecretFinding, Scanners, TextFile } from './types.js';

/** Files larger than this are not scanned (bundles that large are not hand-written config). */
export const MAX_SCANNED_FILE_BYTES = 1024 * 1024;
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
  }));
}

/** The file as text, or undefined for a binary or an oversize file (not scanned). */
function asText(file: PackageFile): TextFile | undefined {
  if (file.content.length > MAX_SCANNED_FILE_BYTES) return undefined;
  if (file.content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return undefined;
  return { name: file.name, text: file.content.toString('utf8') };
}

function finding(file: string, found: SecretFinding): CheckResult {
  const rule = found.rule === 'entropy' ? 'the entropy rule' : `rule ${found.rule}`;
  const code = found.rule === 'entropy' ? 'high_entropy_string' : 'secret_detected';
  const message = `possible secret: ${found.label} (${rule}); remove it and rotate it`;
  return { check: 'secrets', status: 'failed', code, message, file, line: found.line };
}

/** Scans every text file of the package, pushing one failed result per finding to `sink`. */
export async function checkSecrets(
  files: PackageFile[],
  scanners: Scanners,
  deadline: Deadline,
  sink: CheckResult[],
): Promise<void> {
  let count = 0;
  for (const file of files) {
    deadline.throwIfExpired();
    const text = asText(file);
    if (!text) continue;
    const named = await deadline.race(scanners.secretlint(text));
    // A line a named rule already reported is not reported again by the entropy rule.
    const covered = (line: number) =>
      named.some((found) => line >= found.line && line <= (found.endLine ?? found.line));
    const entropy = scanners.entropy(text).filter((found) => !covered(found.line));
    for (const found of [...named, ...entropy].sort((a, b) => a.line - b.line)) {
      if (count++ < MAX_SECRET_FINDINGS) sink.push(finding(file.name, found));
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
