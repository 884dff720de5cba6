import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../../common/dto/pagination.dto.js';
import type { ApprovedVersionRow, CatalogRow } from '../plugin-catalog.repository.js';
import { CATALOG_SORTS, type CatalogSort } from '../plugin-catalog.repository.js';
import {
  type PluginVersion,
  VERSION_STATUSES,
  type VersionStatus,
} from '../entities/plugin-version.entity.js';
import type { Plugin } from '../entities/plugin.entity.js';
import { PLUGIN_CATEGORIES } from '../../../common/plugins/plugin-manifest.js';

export const PLUGIN_ID_PATTERN = /^[a-z0-9-]{1,64}$/;

export class ListPluginsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: PLUGIN_CATEGORIES })
  @IsOptional()
  @IsIn(PLUGIN_CATEGORIES)
  category?: string;

  @ApiPropertyOptional({
    description: 'Full-text search over name and description (web-search syntax)',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({
    enum: CATALOG_SORTS,
    default: 'installs',
    description: 'Ties are broken by plugin id',
  })
  @IsOptional()
  @IsIn(CATALOG_SORTS)
  sort: CatalogSort = 'installs';
}

export class PluginIdParam {
  @ApiProperty({ example: 'github-sync', pattern: PLUGIN_ID_PATTERN.source })
  @Matches(PLUGIN_ID_PATTERN, { message: 'id must be lowercase letters, digits and dashes' })
  id!: string;
}

/** A plugin as the catalog lists it: its live (newest approved) version and counts. */
export class PluginSummaryDto {
  @ApiProperty({ example: 'github-sync' }) id!: string;
  @ApiProperty({ example: 'GitHub Sync' }) name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: "Author's name as the manifest gives it", example: 'Jane Developer' })
  author!: string;
  @ApiProperty({ example: 'Productivity' }) category!: string;
  @ApiProperty({ example: '1.0.0', description: 'The live (newest approved) version' }) version!: string;
  @ApiProperty({ type: [String], example: ['read:tasks'] }) permissions!: string[];
  @ApiProperty({ description: '0 for free plugins', example: 0 }) price_cents!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty() install_count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Mean stars (2 decimals); null without ratings' })
  avg_rating!: number | null;
  @ApiProperty() rating_count!: number;
  @ApiProperty({ description: 'When the live version was released, ms since epoch', example: 1767225600000 })
  released_at!: number;
}

export class PluginListDto {
  @ApiProperty({ type: [PluginSummaryDto] }) plugins!: PluginSummaryDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
}

export class PluginVersionDto {
  @ApiProperty({ example: '1.0.0' }) version!: string;
  @ApiProperty({
    enum: VERSION_STATUSES,
    description: 'Always approved for others; the author and admins also see the versions not approved',
  })
  status!: VersionStatus;
  @ApiProperty({ description: 'Lowercase hex SHA-256 of the package' }) sha256!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Base64 Ed25519 signature over the raw SHA-256 bytes',
  })
  signature!: string | null;
  @ApiProperty({ description: 'Package size in bytes' }) size!: number;
  @ApiProperty({ description: 'ms since epoch', example: 1767225600000 }) released_at!: number;
}

/** A plugin's detail: the summary, the live version's digest and signature, and every approved version. */
export class PluginDetailDto extends PluginSummaryDto {
  @ApiProperty({ description: 'Lowercase hex SHA-256 of the live package' }) sha256!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Base64 Ed25519 signature over the raw SHA-256 bytes',
  })
  signature!: string | null;
  @ApiProperty({ type: [PluginVersionDto] }) versions!: PluginVersionDto[];
}

export class SigningKeyDto {
  @ApiProperty({ enum: ['ed25519'] }) algorithm!: 'ed25519';
  @ApiProperty({ description: 'Base64 DER SubjectPublicKeyInfo of the registry key' }) public_key!: string;
  @ApiProperty({ enum: ['sha256'], description: 'What is signed: the raw 32-byte SHA-256 of the package' })
  signed_digest!: 'sha256';
}

const permissionsOf = (manifest: Record<string, unknown>): string[] =>
  Array.isArray(manifest.permissions)
    ? manifest.permissions.filter((p): p is string => typeof p === 'string')
    : [];

/** Every manifest the checks pass names its author; '' stands in for one that would not. */
const authorOf = (manifest: Record<string, unknown>): string =>
  typeof manifest.author === 'string' ? manifest.author : '';

export function mapPluginSummary(row: CatalogRow): PluginSummaryDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    author: authorOf(row.manifest),
    category: row.category,
    version: row.version,
    permissions: permissionsOf(row.manifest),
    price_cents: row.price_cents,
    currency: row.currency,
    install_count: row.install_count,
    avg_rating: row.avg_rating,
    rating_count: row.rating_count,
    released_at: new Date(row.released_at).getTime(),
  };
}

export function mapPluginVersion(row: ApprovedVersionRow): PluginVersionDto {
  return {
    version: row.version,
    status: 'approved',
    sha256: row.sha256,
    signature: row.signature,
    size: row.size,
    released_at: new Date(row.released_at).getTime(),
  };
}

export function mapPluginDetail(row: CatalogRow, versions: ApprovedVersionRow[]): PluginDetailDto {
  return {
    ...mapPluginSummary(row),
    sha256: row.sha256,
    signature: row.signature,
    versions: versions.map(mapPluginVersion),
  };
}

/**
 * The detail of a plugin as its author or an admin sees it when no version
 * is live yet (or it is quarantined): the newest version stands in for the
 * live one, and every version is listed with its status.
 */
export function mapOwnerDetail(
  plugin: Plugin,
  versions: PluginVersion[],
  counts: Pick<PluginDetailDto, 'install_count' | 'avg_rating' | 'rating_count'>,
): PluginDetailDto {
  const newest = versions[0];
  const manifest = newest.manifest;
  return {
    id: plugin.id,
    name: plugin.name,
    description: plugin.description,
    author: authorOf(manifest),
    category: plugin.category,
    version: newest.version,
    permissions: permissionsOf(manifest),
    price_cents: plugin.priceCents,
    currency: plugin.currency,
    ...counts,
    released_at: newest.createdAt.getTime(),
    sha256: newest.sha256,
    signature: newest.signature,
    versions: versions.map((v) => ({
      version: v.version,
      status: v.status,
      sha256: v.sha256,
      signature: v.signature,
      size: v.size,
      released_at: v.createdAt.getTime(),
    })),
  };
}
