import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireFeature } from '../../common/decorators/access.decorators.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import {
  ListPluginsQueryDto,
  PluginDetailDto,
  PluginIdParam,
  PluginListDto,
  SigningKeyDto,
} from './dto/plugin.dto.js';
import { MarketplaceService } from './marketplace.service.js';

@ApiTags('marketplace')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('plugins')
export class MarketplaceController {
  constructor(private readonly marketplace: MarketplaceService) {}

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

  @Get(':id')
  @RequireFeature('plugin_marketplace')
  @ApiOperation({
    summary: 'A plugin of the catalog',
    description:
      'Power tier and up. Counts, the live version with its SHA-256 and signature, and every approved version.',
  })
  @ApiOkResponse({ type: PluginDetailDto })
  @ApiErrors(400, 403, 404)
  getPlugin(@Param() { id }: PluginIdParam): Promise<PluginDetailDto> {
    return this.marketplace.get(id);
  }
}
