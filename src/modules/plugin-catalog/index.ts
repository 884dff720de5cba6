/** What the plugin catalog offers the rest of the app; nothing else of it is imported from outside. */
export { PluginCatalogModule } from './plugin-catalog.module.js';
export { pluginFieldsOf, PluginVersionsService } from './plugin-versions.service.js';
export { PluginSigningService } from './plugin-signing.service.js';
export type { NewPluginVersion, PluginFields, ReviewOutcome } from './plugin-versions.repository.js';
export { PLUGIN_ID_PATTERN, PluginIdParam } from './dto/plugin.dto.js';
export type { Plugin } from './entities/plugin.entity.js';
export type { PluginVersion, VersionStatus } from './entities/plugin-version.entity.js';
