import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
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
import {
  MyPluginsDto,
  PluginChecksFailedErrorDto,
  SubmissionDto,
  SubmitPluginDto,
  MAX_PACKAGE_BASE64,
} from './dto/submission.dto.js';
import {
  DeveloperStatusDto,
  EarningsDto,
  EarningsQueryDto,
  OnboardingLinkDto,
  PaymentRequiredErrorDto,
} from './dto/sales.dto.js';
import { DevelopersService } from './developers.service.js';
import { InstallsService } from './installs.service.js';
import { MarketplaceService } from './marketplace.service.js';
import { SubmissionsService } from './submissions.service.js';

const CHECKS_FAILED = {
  status: 400,
  type: PluginChecksFailedErrorDto,
  description:
    'Invalid body (validation_failed), or failed automated checks (plugin_checks_failed, with checks)',
} as const;

const CHECKS_BUSY = {
  status: 503,
  description: 'Too many submissions being checked (service_unavailable); retry after Retry-After seconds',
} as const;

/** A rating, an install, a Connect request: a few small fields. */
const SMALL_BODY_LIMIT = '64kb';
/** A submission carries its package as base64 (a 10 MiB zip is ~13.4 MiB of JSON) beside the manifest. */
const SUBMISSION_BODY_LIMIT = MAX_PACKAGE_BASE64 + 64 * 1024;

/** Static paths come before `:id`, which would match them. */
@ApiTags('marketplace')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('plugins')
export class MarketplaceController {
  constructor(
    private readonly marketplace: MarketplaceService,
    private readonly submissions: SubmissionsService,
    private readonly installs: InstallsService,
    private readonly developers: DevelopersService,
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
    return this.marketplace.list(query);
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
    return this.marketplace.signingKey();
  }

  @Get('mine')
  @ApiOperation({
    summary: "The caller's plugins and every version's status",
    description:
      'Any account. Each version with its status, the automated checks’ findings and the reviewer’s notes ' +
      '(why it was rejected).',
  })
  @ApiOkResponse({ type: MyPluginsDto })
  listMyPlugins(@CurrentUser() user: AuthUser): Promise<MyPluginsDto> {
    return this.submissions.mine(user);
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

  @Post('developer/connect')
  @BodyLimit(SMALL_BODY_LIMIT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Connect a Stripe account to be paid for your plugins',
    description:
      'Any account. Creates your Stripe Express connected account once and answers a fresh onboarding link ' +
      '(call again for a new one). Payouts start when Stripe enables them (GET /plugins/developer).',
  })
  @ApiOkResponse({ type: OnboardingLinkDto })
  @ApiErrors(
    { status: 502, description: 'Stripe refused or did not answer' },
    { status: 503, description: 'Stripe is not configured on this server (code feature_not_configured)' },
  )
  connectDeveloperAccount(@CurrentUser() user: AuthUser): Promise<OnboardingLinkDto> {
    return this.developers.connect(user);
  }

  @Get('developer')
  @ApiOperation({
    summary: 'Your connected Stripe account and whether payouts are enabled',
    description: 'Any account. payouts_enabled follows Stripe’s account.updated events.',
  })
  @ApiOkResponse({ type: DeveloperStatusDto })
  getDeveloperAccount(@CurrentUser() user: AuthUser): Promise<DeveloperStatusDto> {
    return this.developers.status(user);
  }

  @Get('earnings')
  @ApiOperation({
    summary: 'Your plugins’ sales, your share and what was paid out, for one month',
    description:
      'Any account. EUR cents of the UTC month `period` (default the current one), net of refunds; your ' +
      'share is floor(price × 70 / 100) per sale.',
  })
  @ApiOkResponse({ type: EarningsDto })
  @ApiErrors(400)
  getEarnings(@CurrentUser() user: AuthUser, @Query() query: EarningsQueryDto): Promise<EarningsDto> {
    return this.developers.earnings(user, query);
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
    @Param('versionId', new ParseUUIDPipe()) versionId: string,
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

  @Post()
  @BodyLimit(SUBMISSION_BODY_LIMIT)
  @ApiOperation({
    summary: 'Submit a new plugin',
    description:
      'Any account. The id must be free (409 plugin_id_taken when another author has it). The automated ' +
      'checks run first: any failure answers 400 listing every check; otherwise the version waits for ' +
      'review (pending_review, or checks_errored when a check could not run). At most 5 submissions ' +
      'waiting per account.',
  })
  @ApiCreatedResponse({ type: SubmissionDto })
  @ApiErrors(CHECKS_FAILED, 409, 413, CHECKS_BUSY)
  submitPlugin(@CurrentUser() user: AuthUser, @Body() dto: SubmitPluginDto): Promise<SubmissionDto> {
    return this.submissions.submitPlugin(user, dto);
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
    return this.marketplace.get(user, id);
  }

  @Post(':id/versions')
  @BodyLimit(SUBMISSION_BODY_LIMIT)
  @ApiOperation({
    summary: 'Submit a new version of your plugin',
    description:
      'The author only (403). Goes through the checks and review again; the approved version stays live ' +
      'meanwhile. A version number is used once (409), except after checks that could not run.',
  })
  @ApiCreatedResponse({ type: SubmissionDto })
  @ApiErrors(CHECKS_FAILED, 403, 404, 409, 413, CHECKS_BUSY)
  submitPluginVersion(
    @CurrentUser() user: AuthUser,
    @Param() { id }: PluginIdParam,
    @Body() dto: SubmitPluginDto,
  ): Promise<SubmissionDto> {
    return this.submissions.submitVersion(user, id, dto);
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
