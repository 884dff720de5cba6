import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/index.js';
import { PluginCatalogModule } from '../plugin-catalog/index.js';
import { CheckRunner } from './check-runner.service.js';
import { PluginReviewController } from './plugin-review.controller.js';
import { ReviewService } from './plugin-review.service.js';
import { PluginSubmissionsController } from './plugin-submissions.controller.js';
import { SubmissionsService } from './plugin-submissions.service.js';

/**
 * Developers' plugin submissions: the automated checks on worker threads (a
 * pool fair between accounts), the hourly and pending limits, then the
 * admins' review (approval signs the package) and quarantine. It owns no
 * table: plugins and versions are the catalog's, written through
 * PluginVersionsService.
 */
@Module({
  imports: [PluginCatalogModule, AuthModule],
  controllers: [PluginSubmissionsController, PluginReviewController],
  providers: [SubmissionsService, CheckRunner, ReviewService],
})
export class PluginSubmissionsModule {}
