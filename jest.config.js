// Nest 12 ships ES modules only, so Jest runs in its native ESM mode
// (node --experimental-vm-modules, see package.json) with ts-jest emitting ESM.
// tsconfig has isolatedModules, so ts-jest transpiles file by file (fast); `npm run typecheck`
// (tsc) is the type check.
const tsJest = [
  'ts-jest',
  {
    useESM: true,
    tsconfig: 'tsconfig.json',
    // The same Swagger plugin as `npm run build` (scripts/build.mjs), so the documents tests read match production.
    astTransformers: { before: ['<rootDir>/test/support/swagger-transformer.cjs'] },
  },
];

const common = {
  testEnvironment: 'node',
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import './x.js' (NodeNext); under ts-jest the file is './x.ts'.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      slowTestThreshold: 20,
    },
  ],
  reporters: ['default', '<rootDir>/test/support/skip-reporter.cjs'],
  maxWorkers: 2,
  // e2e suites boot Postgres and the app; a hook may take several seconds.
  testTimeout: 60_000,
};
