import { Controller, Get, Header, Headers, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { SkipRateLimit } from '../decorators/access.decorators.js';
import { Public } from '../decorators/public.decorator.js';
import { AppException } from '../errors/app.exception.js';
import { AppMetrics } from './app-metrics.js';
import { metricsAccess } from './metrics-access.js';

/**
 * GET /api/v1/metrics for Prometheus, when METRICS_TOKEN is set and
 * METRICS_PORT is not: public to the account guard, behind its own bearer
 * token instead. Left out of the OpenAPI document: it is for operators, not
 * integrators.
 */
@ApiExcludeController()
@Public()
@SkipRateLimit()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async getMetrics(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const access = metricsAccess(this.config.metrics, 'public', authorization);
    if (access === 'not_found') throw new AppException('not_found', 'Cannot GET /api/v1/metrics');
    if (access === 'unauthenticated') {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new AppException('unauthenticated', 'The metrics token is missing or wrong');
    }
    res.type(this.metrics.contentType);
    return this.metrics.exposition();
  }
}
