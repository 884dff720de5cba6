import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageOf } from '../../../common/dto/pagination.dto.js';
import type { PluginRating } from '../entities/plugin-rating.entity.js';
import type { InstalledRow } from '../installs.repository.js';
import { PLUGIN_ID_PATTERN } from './plugin.dto.js';

export class InstallPluginDto {
  @ApiPropertyOptional({
    example: 'github-sync',
    description: 'Optional; when sent it must equal the id in the path',
  })
  @IsOptional()
  @Matches(PLUGIN_ID_PATTERN, { message: 'plugin_id must be lowercase letters, digits and dashes' })
  plugin_id?: string;
}

export class InstallResultDto {
  @ApiProperty({ enum: [true] }) ok!: true;
  @ApiProperty({ example: '1.0.0', description: 'The version the link downloads (the live one)' })
  version!: string;
  @ApiProperty({
    description:
      'GET it within 5 minutes: an S3 presigned URL, or a signed link to this API (files driver). ' +
      'No credentials needed; an expired or altered link answers 403.',
  })
  download_url!: string;
  @ApiProperty({ description: 'When download_url stops working, ms since epoch' }) expires_at!: number;
  @ApiProperty({ description: 'Lowercase hex SHA-256 of the package' }) sha256!: string;
  @ApiProperty({
    description: 'Base64 Ed25519 signature over the raw SHA-256 bytes; verify with GET /plugins/signing-key',
  })
  signature!: string;
}

export class InstalledPluginDto {
  @ApiProperty({ example: 'github-sync' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The live version; null when none is approved' })
  version!: string | null;
  @ApiProperty({ description: 'ms since epoch' }) installed_at!: number;
  @ApiProperty({
    description: 'Quarantined by an admin: disable it; the install stays recorded but no download is served',
  })
  quarantined!: boolean;
  @ApiProperty({
    description:
      'A paid plugin whose purchase was refunded: no download is served; install again to buy it again',
  })
  refunded!: boolean;
}

export class InstalledPluginsDto {
  @ApiProperty({ type: [InstalledPluginDto] }) plugins!: InstalledPluginDto[];
}

export class RatePluginDto {
  @ApiProperty({ minimum: 1, maximum: 5, example: 5 })
  @IsInt()
  @Min(1)
  @Max(5)
  stars!: number;

  @ApiPropertyOptional({ maxLength: 2000, description: 'Shown to other users as given (plain text)' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class RatingResultDto {
  @ApiProperty() stars!: number;
  @ApiProperty({ type: String, nullable: true }) comment!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: "The plugin's mean stars after this rating" })
  avg_rating!: number | null;
  @ApiProperty() rating_count!: number;
}

export class RatingDto {
  @ApiProperty() stars!: number;
  @ApiProperty({ type: String, nullable: true, description: 'User content: plain text, display it escaped' })
  comment!: string | null;
  @ApiProperty({ description: 'ms since epoch' }) updated_at!: number;
}

export class RatingPageDto extends PageOf(RatingDto) {}

export class PackageLinkQueryDto {
  @ApiProperty({ format: 'uuid' })
  @Matches(/^[0-9a-f-]{36}$/, { message: 'user must be a uuid' })
  user!: string;

  @ApiProperty({ description: 'ms since epoch' })
  @Matches(/^\d{1,16}$/, { message: 'expires must be ms since epoch' })
  expires!: string;

  @ApiProperty()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,100}$/, { message: 'signature must be base64url' })
  signature!: string;
}

/** `refunded`: bought, then refunded (plugin sales say which); the install stays, its download is refused. */
export function mapInstalled(row: InstalledRow, refunded: boolean): InstalledPluginDto {
  return {
    id: row.plugin_id,
    name: row.name,
    version: row.version,
    installed_at: new Date(row.installed_at).getTime(),
    quarantined: row.quarantined,
    refunded,
  };
}

export function mapRating(rating: PluginRating): RatingDto {
  return { stars: rating.stars, comment: rating.comment, updated_at: rating.updatedAt.getTime() };
}
