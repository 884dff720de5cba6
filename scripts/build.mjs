// `npm run build`: what `nest build` did with nest-cli.json, without the Nest CLI.
// The CLI 12 pulls in @nestjs/schematics and commander 15, which declare Node 22 in their engines,
// so a clean `npm ci` on Node 20 printed five EBADENGINE warnings for a tool that only ran tsc with
// one plugin. This does the same: empty dist/, type-check and compile tsconfig.build.json, with the
// @nestjs/swagger plugin as a `before` transformer (the same options nest-cli.json gave it), and
// exit 1 on any diagnostic. test/support/swagger-transformer.cjs applies the same plugin under Jest.
import { rmSync } from 'node:fs';
import path from 'node:path';
import * as swaggerPlugin from '@nestjs/swagger/plugin';
import ts from 'typescript';

/** The options nest-cli.json gave the plugin (DTOs and entities described from their types and comments). */
const SWAGGER_PLUGIN_OPTIONS = {
  classValidatorShim: true,
  introspectComments: true,
  dtoFileNameSuffix: ['.dto.ts', '.entity.ts'],
};

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const configPath = path.join(root, 'tsconfig.build.json');
const host = {
  getCanonicalFileName: (/** @type {string} */ f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => ts.sys.newLine,
};

const read = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
if (read.error) fail([read.error]);
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
if (parsed.errors.length > 0) fail(parsed.errors);

rmSync(parsed.options.outDir ?? path.join(root, 'dist'), { recursive: true, force: true });

const program = ts.createProgram({
  rootNames: parsed.fileNames,
  options: parsed.options,
  projectReferences: parsed.projectReferences,
});
const emit = program.emit(undefined, undefined, undefined, undefined, {
  before: [swaggerPlugin.before(SWAGGER_PLUGIN_OPTIONS, program)],
});
const diagnostics = ts.getPreEmitDiagnostics(program).concat(emit.diagnostics);
if (diagnostics.length > 0) fail(diagnostics);

/** @param {readonly ts.Diagnostic[]} diags */
function fail(diags) {
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diags, host));
  process.stderr.write(`Found ${diags.length} error(s).\n`);
  process.exit(1);
}
