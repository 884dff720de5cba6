import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { SkipRateLimit } from '../../common/decorators/access.decorators.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { HealthDto, ReadinessDto } from './dto/health.dto.js';
import { HealthService } from './health.service.js';

@ApiTags('health')
@Public()
@SkipRateLimit()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness: the process is up',
    description:
      'Always 200 while the process runs; use it for a liveness probe. No credentials, no rate limit.',
  })
  @ApiOkResponse({ type: HealthDto })
  getHealth(): HealthDto {
    return this.health.health();
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: every backing service answers; 503 names what is down',
    description:
      'Send traffic to this instance only while it answers 200. 503 (with Retry-After) names the backing ' +
      'service that is down, and is answered as soon as a shutdown begins.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiErrors({ status: 503, description: 'A backing service is down, or the server is shutting down' })
  getReadiness(): Promise<ReadinessDto> {
    return this.health.readiness();
  }
}
