import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));

/**
 * Generates the client types from the committed openapi.json, as an
 * integrator would with `npx openapi-typescript`, plus the one transform
 * openapi-typescript's docs recommend for binary bodies: `format: binary` is
 * a Blob (its default, string, cannot carry raw bytes).
 */
export async function generateClientTypes(documentFile: string, outFile: string): Promise<void> {
  const document: unknown = JSON.parse(readFileSync(documentFile, 'utf8'));
  const ast = await openapiTS(document as Parameters<typeof openapiTS>[0], {
    transform: (schema) => (schema.format === 'binary' ? BLOB : undefined),
  });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    `// Generated from openapi.json by the e2e test; not committed.\n${astToString(ast)}`,
  );
}
