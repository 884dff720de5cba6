import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { RequireFeature } from '../../common/decorators/access.decorators.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { OkDto } from '../../common/dto/ok.dto.js';
import { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import {
  InstalledPluginsDto,
  InstallPluginDto,
  InstallResultDto,
  PackageLinkQueryDto,
  RatePluginDto,
  RatingPageDto,
  RatingResultDto,
} from './dto/install.dto.js';
import {
  ListPluginsQueryDto,
  PluginDetailDto,
  PluginIdParam,
  PluginListDto,
  SigningKeyDto,
} from './dto/plugin.dto.js';
import { PaymentRequiredErrorDto } from '../plugin-sales/index.js';
import { InstallsService } from './installs.service.js';
import { PluginCatalogService } from './plugin-catalog.service.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';

/** A rating or an install: a few small fields. */
const SMALL_BODY_LIMIT = '64kb';

/**
 * Static paths come before `:id`, which would match them. The static paths of
 * plugin submissions (`mine`) and plugin sales (`developer`, `earnings`) are
 * registered before this controller: app.module.ts imports those modules first.
 */
@ApiTags('marketplace')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('plugins')
export class PluginCatalogController {
  constructor(
    private readonly catalog: PluginCatalogService,
    private readonly installs: InstallsService,
  ) {}

  @Get()
  @RequireFeature('plugin_marketplace')
  @ApiOperation({
    summary: 'Browse and search the plugin catalog',
    description:
      'Power tier and up. Approved, unquarantined plugins only; `q` searches name and description ' +
      '(full text), `category` filters, `sort` orders (ties broken by id).',
  })
  @ApiOkResponse({ type: PluginListDto })
  @ApiErrors(400, 403)
  listPlugins(@Query() query: ListPluginsQueryDto): Promise<PluginListDto> {
    return this.catalog.list(query);
  }

  @Get('signing-key')
  @Public()
  @ApiOperation({
    summary: "The registry's public signing key",
    description:
      'Ed25519, base64 DER SPKI. Every approved package is signed over the raw 32 bytes of its SHA-256; ' +
      'verify a download with this key before loading it.',
  })
  @ApiOkResponse({ type: SigningKeyDto })
  getSigningKey(): Promise<SigningKeyDto> {
    return this.catalog.signingKey();
  }

  @Get('installed')
  @ApiOperation({
    summary: "The caller's installed plugins",
    description: 'Newest first; quarantined ones are listed with quarantined: true (disable them).',
  })
  @ApiOkResponse({ type: InstalledPluginsDto })
  listInstalledPlugins(@CurrentUser() user: AuthUser): Promise<InstalledPluginsDto> {
    return this.installs.installed(user);
  }

  @Get('packages/:versionId')
  @Public()
  @ApiOperation({
    summary: 'Download a plugin package through a signed link',
    description:
      'The download_url of an install with the files driver: no credentials, the link itself is the ' +
      'authorization (5 minutes). Expired → 403 link_expired; altered → 403 link_invalid; quarantined, ' +
      'uninstalled or replaced → 404.',
  })
  @ApiUuidParam('versionId', 'From the download_url')
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The zip package', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(400, 403, 404)
  async downloadPluginPackage(
    @Param('versionId', UuidPipe) versionId: string,
    @Query() link: PackageLinkQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const blob = await this.installs.download(versionId, link);
    res.status(200);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Length', String(blob.size));
    res.setHeader('Content-Disposition', `attachment; filename="${versionId}.zip"`);
    res.setHeader('Cache-Control', 'private, no-store');
    await pipeline(blob.stream, res).catch(() => undefined);
  }

  @Get(':id')
  @RequireFeature('plugin_marketplace')
  @ApiOperation({
    summary: 'A plugin of the catalog',
    description:
      'Power tier and up. Counts, the live version with its SHA-256 and signature, and every approved ' +
      'version. Its author and admins also see it before approval, with every version’s status.',
  })
  @ApiOkResponse({ type: PluginDetailDto })
  @ApiErrors(400, 403, 404)
  getPlugin(@CurrentUser() user: AuthUser, @Param() { id }: PluginIdParam): Promise<PluginDetailDto> {
    return this.catalog.get(user, id);
  }

  @Post(':id/install')
  @BodyLimit(SMALL_BODY_LIMIT)
  @HttpCode(200)
  @RequireFeature('plugin_marketplace')
  @ApiOperation({
    summary: 'Install a plugin: a signed download link',
    description:
      'Power tier and up. Installing twice is one install. The link works 5 minutes; check the ' +
      'package’s SHA-256 and the signature (GET /plugins/signing-key) before loading it. A paid plugin is ' +
      'bought on its first install: charged to the saved card, or 402 with a checkout_url to pay first; a ' +
      'purchase is kept, so reinstalling never charges again.',
  })
  @ApiOkResponse({ type: InstallResultDto })
  @ApiErrors(
    400,
    {
      status: 402,
      type: PaymentRequiredErrorDto,
      description:
        'A paid plugin not bought yet (code payment_required): pay at checkout_url, then install again',
    },
    403,
    404,
    {
      status: 409,
      description:
        'A payment for this plugin is still processing (code payment_pending, e.g. a bank debit): ' +
        'installing again before it clears charges nothing',
    },
    { status: 502, description: 'Stripe refused or did not answer; nothing was charged' },
    { status: 503, description: 'A paid plugin on a server without Stripe (code feature_not_configured)' },
  )
  installPlugin(
    @CurrentUser() user: AuthUser,
    @Param() { id }: PluginIdParam,
    @Body() dto: InstallPluginDto,
  ): Promise<InstallResultDto> {
    return this.installs.install(user, id, dto);
  }

  @Delete(':id/install')
  @ApiOperation({
    summary: 'Uninstall a plugin',
    description: 'Idempotent: {ok: true} also when not installed.',
  })
  @ApiOkResponse({ type: OkDto })
  @ApiErrors(400)
  async uninstallPlugin(@CurrentUser() user: AuthUser, @Param() { id }: PluginIdParam): Promise<OkDto> {
    await this.installs.uninstall(user, id);
    return { ok: true };
  }

  @Post(':id/ratings')
  @BodyLimit(SMALL_BODY_LIMIT)
  @RequireFeature('plugin_marketplace')
  @ApiOperation({
    summary: 'Rate a plugin you installed',
    description: 'One rating per user: a new one replaces yours. 403 when you have not installed it.',
  })
  @ApiCreatedResponse({ type: RatingResultDto })
  @ApiErrors(400, 403, 404)
  ratePlugin(
    @CurrentUser() user: AuthUser,
    @Param() { id }: PluginIdParam,
    @Body() dto: RatePluginDto,
  ): Promise<RatingResultDto> {
    return this.installs.rate(user, id, dto);
  }

  @Get(':id/ratings')
  @RequireFeature('plugin_marketplace')
  @ApiOperation({
    summary: "A plugin's ratings",
    description:
      'Newest first, without their authors. Comments are user content: display them as plain text.',
  })
  @ApiOkResponse({ type: RatingPageDto })
  @ApiErrors(400, 403, 404)
  listPluginRatings(
    @Param() { id }: PluginIdParam,
    @Query() query: PaginationQueryDto,
  ): Promise<RatingPageDto> {
    return this.installs.ratings(id, query);
  }
}
