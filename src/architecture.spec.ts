import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layout rules a reviewer would otherwise have to remember:
 * - a module is reached only through its `index.ts` (what it exports);
 * - modules do not import each other in a cycle;
 * - a module's index.ts exports none of its repositories or entity classes (its tables stay its own);
 * - SQL lives in repositories (and the database layer and migrations), nowhere else;
 * - only src/database knows whether the database is embedded (PGlite and its servers live in
     src/database/embedded/, and the driver's pool is reached through DatabaseService);
 * - the app is assembled only at the top: AppModule is imported by the composition root
 *   (app.factory.ts) and the command lines in src/cli/, and nothing in common, config, database
 *   or a module imports upwards from there;
 * - TypeORM stays in repositories, entities, module wiring and src/database: services, controllers,
 *   gateways and the rest hold a transaction only as the opaque `Tx` of src/database's UnitOfWork,
 *   and only repositories open it (`managerOf`);
 * - common code queries no module's tables (the blob sweep asks each module that writes blobs,
 *   through its BlobReferences), and reads no schema catalogue to find them;
 * - a module whose rows hold blob keys declares its BlobReferences (`provideBlobReferences`);
 * - functions stay short enough to read in one screen;
 * - LangChain is loaded by the first model call, not at start: its packages are imported as values
 *   only through `import()` or by files that are themselves reached only through `import()`.
 */
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');

/** Functions allowed past MAX_FUNCTION_LINES, each with why it reads better whole. */
const LONG_FUNCTION_ALLOWLIST: Record<string, string> = {
  'src/config/app-config.ts:constructor':
    'a flat one-to-one mapping of the validated environment onto typed config, one line per variable',
  'src/common/input/input-limits.ts:findInputProblem':
    'one iterative walk over a JSON value with an explicit stack; every case shares the stack and the counters',
  'src/modules/chat/sanitizer.ts:scan':
    'the per-chunk hot loop of the streaming sanitizer: one pass with its match state in locals; calls per character would cost, and one state machine would be spread over several functions',
};
const MAX_FUNCTION_LINES = 40;

/**
 * Files under src/modules and src/common, other than repositories, entities (and their folder) and
 * `*.module.ts`, that
 * may import TypeORM (types included), each with why. Services run transactions through UnitOfWork.
 */
const TYPEORM_ALLOWLIST: Record<string, string> = {};

interface SourceFile {
  path: string;
  rel: string;
  text: string;
  ast: ts.SourceFile;
}

function sourceFiles(dir: string): SourceFile[] {
  const files: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      const text = readFileSync(path, 'utf8');
      const ast = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
      files.push({ path, rel: relative(ROOT, path).split(sep).join('/'), text, ast });
    }
  }
  return files;
}

const FILES = sourceFiles(SRC);

function moduleOf(rel: string): string | undefined {
  return /^src\/modules\/([^/]+)\//.exec(rel)?.[1];
}

function importsOf(file: SourceFile): string[] {
  const targets: string[] = [];
  file.ast.forEachChild((node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      node.moduleSpecifier.text.startsWith('.')
    ) {
      const target = resolve(dirname(file.path), node.moduleSpecifier.text.replace(/\.js$/, '.ts'));
      targets.push(relative(ROOT, target).split(sep).join('/'));
    }
  });
  return targets;
}

/** Every module specifier a file names: imports and re-exports (type-only too) and `import('…')` types. */
function specifiersOf(file: SourceFile): Array<{ specifier: string; names: string[] }> {
  const found: Array<{ specifier: string; names: string[] }> = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
      const names =
        bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))
          ? bindings.elements.map((e) => (e.propertyName ?? e.name).text)
          : [];
      found.push({ specifier: node.moduleSpecifier.text, names });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push({ specifier: node.argument.literal.text, names: [] });
    }
    node.forEachChild(visit);
  };
  visit(file.ast);
  return found;
}

/** Whether an import declaration brings in values (not `import type`, not only `type` names). */
function importsValues(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return true; // a side-effect import
  if (clause.isTypeOnly) return false;
  if (clause.name) return true;
  const bindings = clause.namedBindings;
  if (!bindings || ts.isNamespaceImport(bindings)) return true;
  return bindings.elements.some((e) => !e.isTypeOnly);
}

/** Files that import LangChain as values, each reached only through `import()` (checked below). */
const LAZY_LANGCHAIN_FILES = new Set(['src/modules/agents/tool-loop.ts']);
const LANGCHAIN = /^(@langchain\/|langchain(\/|$)|langsmith(\/|$))/;

describe('architecture', () => {
  it('reaches another module only through its index.ts', () => {
    const violations: string[] = [];
    for (const file of FILES) {
      const own = moduleOf(file.rel);
      for (const target of importsOf(file)) {
        const other = moduleOf(target);
        if (!other || other === own) continue;
        if (target !== `src/modules/${other}/index.ts`) violations.push(`${file.rel} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("exports no module's repositories or entity classes from its index.ts", () => {
    // With the rule above, this keeps every module's tables its own: others call its exported services
    // (a type of an entity may be exported, as a service's return type; the class, which queries, never).
    const isRepository = (rel: string) => rel.endsWith('.repository.ts');
    const isEntity = (rel: string) => /\/entities\/[^/]+\.entity\.ts$/.test(rel);
    const entityClasses = (rel: string): Set<string> => {
      const file = FILES.find((f) => f.rel === rel);
      const names = new Set<string>();
      file?.ast.forEachChild((node) => {
        const decorated = ts.canHaveDecorators(node) ? (ts.getDecorators(node) ?? []) : [];
        if (
          ts.isClassDeclaration(node) &&
          node.name &&
          decorated.some((d) => /^Entity\(/.test(d.expression.getText()))
        )
          names.add(node.name.text);
      });
      return names;
    };
    const violations: string[] = [];
    for (const file of FILES.filter((f) => /^src\/modules\/[^/]+\/index\.ts$/.test(f.rel))) {
      file.ast.forEachChild((node) => {
        if (
          !ts.isExportDeclaration(node) ||
          !node.moduleSpecifier ||
          !ts.isStringLiteral(node.moduleSpecifier)
        )
          return;
        const target = relative(
          ROOT,
          resolve(dirname(file.path), node.moduleSpecifier.text.replace(/\.js$/, '.ts')),
        )
          .split(sep)
          .join('/');
        if (!isRepository(target) && !isEntity(target)) return;
        const forbidden = isRepository(target) ? undefined : entityClasses(target);
        const values = node.isTypeOnly
          ? []
          : node.exportClause && ts.isNamedExports(node.exportClause)
            ? node.exportClause.elements
                .filter((e) => !e.isTypeOnly)
                .map((e) => (e.propertyName ?? e.name).text)
            : ['*'];
        for (const name of values)
          if (!forbidden || name === '*' || forbidden.has(name))
            violations.push(`${file.rel} exports ${name} of ${target}`);
      });
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycle between modules, and common code imports no module', () => {
    const edges = new Map<string, Set<string>>();
    const commonToModules: string[] = [];
    for (const file of FILES) {
      const own = moduleOf(file.rel);
      for (const target of importsOf(file)) {
        const other = moduleOf(target);
        if (!other) continue;
        if (!own && /^src\/(common|config|database)\//.test(file.rel))
          commonToModules.push(`${file.rel} → ${target}`);
        if (own && other !== own) edges.set(own, (edges.get(own) ?? new Set()).add(other));
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      if (path.includes(node)) {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
        return;
      }
      for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    expect(commonToModules).toEqual([]);
    expect([...new Set(cycles)]).toEqual([]);
  });

  it('loads LangChain on the first model call, not at start (an idle server holds none of it)', () => {
    const violations: string[] = [];
    for (const file of FILES) {
      file.ast.forEachChild((node) => {
        if (!ts.isImportDeclaration(node) || !ts.isStringLiteral(node.moduleSpecifier)) return;
        const specifier = node.moduleSpecifier.text;
        if (LANGCHAIN.test(specifier) && importsValues(node) && !LAZY_LANGCHAIN_FILES.has(file.rel))
          violations.push(`${file.rel} imports ${specifier}`);
      });
      for (const target of importsOf(file)) {
        if (LAZY_LANGCHAIN_FILES.has(target)) violations.push(`${file.rel} imports ${target} statically`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps the embedded database inside src/database', () => {
    const violations: string[] = [];
    for (const file of FILES.filter((f) => !f.rel.startsWith('src/database/'))) {
      for (const target of importsOf(file)) {
        if (target.startsWith('src/database/embedded/')) violations.push(`${file.rel} → ${target}`);
      }
      // The pool under TypeORM's driver (embedded or a server's): DatabaseService hands it out.
      if (/\.driver\b[^;]*\.master\b/.test(file.text)) violations.push(`${file.rel}: driver.master`);
    }
    expect(violations).toEqual([]);
  });

  it('assembles the app only at the top: AppModule in the composition root and src/cli/', () => {
    const TOP = new Set(['src/app.module.ts', 'src/app.factory.ts', 'src/main.ts']);
    const appModuleUsers = new Set(['src/app.factory.ts']);
    const violations: string[] = [];
    for (const file of FILES) {
      const lowerLayer = /^src\/(common|config|database|modules)\//.test(file.rel);
      for (const target of importsOf(file)) {
        const upwards = TOP.has(target) || target.startsWith('src/cli/');
        if (lowerLayer && upwards) violations.push(`${file.rel} → ${target}`);
        else if (
          target === 'src/app.module.ts' &&
          !appModuleUsers.has(file.rel) &&
          !file.rel.startsWith('src/cli/')
        )
          violations.push(`${file.rel} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps SQL in repositories, the database layer and migrations', () => {
    const sqlText =
      /^\s*(SELECT\s|INSERT INTO\s|UPDATE \w+ SET\s|DELETE FROM\s|WITH \w+ AS\s|LOCK TABLE\s|(CREATE|ALTER|DROP) (TABLE|INDEX|EXTENSION)\s)/;
    const allowed = (rel: string) => rel.endsWith('.repository.ts') || rel.startsWith('src/database/');
    const violations: string[] = [];
    for (const file of FILES.filter((f) => !allowed(f.rel))) {
      const visit = (node: ts.Node): void => {
        const literal =
          ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
            ? node.text
            : ts.isTemplateExpression(node)
              ? node.head.text
              : undefined;
        const isQueryCall =
          ts.isCallExpression(node) &&
          ts.isPropertyAccessExpression(node.expression) &&
          ['query', 'createQueryBuilder'].includes(node.expression.name.text);
        if ((literal !== undefined && sqlText.test(literal)) || isQueryCall) {
          const { line } = file.ast.getLineAndCharacterOfPosition(node.getStart());
          violations.push(`${file.rel}:${line + 1}`);
          return;
        }
        node.forEachChild(visit);
      };
      visit(file.ast);
    }
    expect(violations).toEqual([]);
  });

  it("keeps common code off the modules' tables: it queries none and reads no schema catalogue", () => {
    const tables = FILES.filter((f) => /^src\/modules\/[^/]+\/entities\//.test(f.rel)).flatMap((f) =>
      [...f.text.matchAll(/@Entity\(\s*'([a-z_][a-z0-9_]*)'/g)].map((m) => m[1]),
    );
    expect(tables.length).toBeGreaterThan(10);
    const naming = new RegExp(
      `\\b(FROM|JOIN|INTO|UPDATE|TABLE)\\s+"?(${tables.join('|')})\\b|information_schema|pg_catalog`,
      'i',
    );
    const violations: string[] = [];
    for (const file of FILES.filter((f) => f.rel.startsWith('src/common/'))) {
      const visit = (node: ts.Node): void => {
        const text =
          ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
            ? node.text
            : ts.isTemplateExpression(node)
              ? node.getText()
              : undefined;
        if (text !== undefined && naming.test(text)) {
          const { line } = file.ast.getLineAndCharacterOfPosition(node.getStart());
          violations.push(`${file.rel}:${line + 1}`);
          return;
        }
        node.forEachChild(visit);
      };
      visit(file.ast);
    }
    expect(violations).toEqual([]);
  });

  it('has every module whose rows hold blob keys answer for them (BlobReferences)', () => {
    const holders = new Set(
      FILES.filter(
        (f) => /^src\/modules\/[^/]+\/entities\//.test(f.rel) && /\bblob_?key\b/i.test(f.text),
      ).map((f) => moduleOf(f.rel)!),
    );
    expect(holders.size).toBeGreaterThan(0);
    const missing = [...holders].filter((name) => {
      const wiring = FILES.find((f) => f.rel === `src/modules/${name}/${name}.module.ts`);
      return !wiring || !/\.\.\.provideBlobReferences\(\w+\)/.test(wiring.text);
    });
    expect(missing).toEqual([]);
  });

  it("keeps TypeORM out of services, controllers and gateways: they pass the unit of work's Tx", () => {
    const isTypeOrm = (specifier: string) => /^(typeorm|@nestjs\/typeorm)(\/|$)/.test(specifier);
    const mayUseTypeOrm = (rel: string) =>
      !/^src\/(modules|common)\//.test(rel) ||
      /\.(repository|entity|module)\.ts$/.test(rel) ||
      // The column mapping beside the entities (transformers) is part of them.
      rel.includes('/entities/');
    const violations: string[] = [];
    const allowedAndUsed = new Set<string>();
    for (const file of FILES) {
      for (const { specifier, names } of specifiersOf(file)) {
        if (isTypeOrm(specifier) && !mayUseTypeOrm(file.rel)) {
          if (file.rel in TYPEORM_ALLOWLIST) allowedAndUsed.add(file.rel);
          else violations.push(`${file.rel} imports ${specifier}`);
        }
        // Opening a Tx is for the queries: repositories (and the database layer) only.
        const opensTx = specifier.endsWith('/database/unit-of-work.js') && names.includes('managerOf');
        if (opensTx && !file.rel.endsWith('.repository.ts') && !file.rel.startsWith('src/database/'))
          violations.push(`${file.rel} imports managerOf`);
      }
    }
    expect(violations).toEqual([]);
    expect(Object.keys(TYPEORM_ALLOWLIST).filter((rel) => !allowedAndUsed.has(rel))).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines outside the allowlist`, () => {
    const long: string[] = [];
    const allowedAndLong = new Set<string>();
    for (const file of FILES) {
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          // From the name (decorators are declarations, not code) to the closing brace.
          const start = file.ast.getLineAndCharacterOfPosition((node.name ?? node).getStart()).line;
          const end = file.ast.getLineAndCharacterOfPosition(node.getEnd()).line;
          const lines = end - start + 1;
          const name =
            (ts.isConstructorDeclaration(node) ? 'constructor' : undefined) ??
            (node.name && ts.isIdentifier(node.name) ? node.name.text : undefined) ??
            (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)
              ? node.parent.name.text
              : '(anonymous)');
          const key = `${file.rel}:${name}`;
          if (lines > MAX_FUNCTION_LINES && key in LONG_FUNCTION_ALLOWLIST) allowedAndLong.add(key);
          else if (lines > MAX_FUNCTION_LINES) long.push(`${key} (${lines} lines)`);
        }
        node.forEachChild(visit);
      };
      visit(file.ast);
    }
    expect(long).toEqual([]);
    // An entry whose function got short (or went away) leaves the list.
    expect(Object.keys(LONG_FUNCTION_ALLOWLIST).filter((key) => !allowedAndLong.has(key))).toEqual([]);
  });
});
