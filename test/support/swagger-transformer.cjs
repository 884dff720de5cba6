// Applies the @nestjs/swagger CLI plugin under ts-jest, as `npm run build` does (scripts/build.mjs).
// With isolatedModules (transpile-only, the fast mode the suite runs in) there is no
// type checker for the plugin to use, so it is skipped; the child-process tests check
// the document the built server serves.
const plugin = require('@nestjs/swagger/plugin');

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 2;
module.exports.factory = (tsCompiler) => {
  if (!tsCompiler.program) return () => (sourceFile) => sourceFile;
  return plugin.before(
    { classValidatorShim: true, introspectComments: true, esmCompatible: true },
    tsCompiler.program,
  );
};
