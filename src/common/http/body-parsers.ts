import { Global, Module } from '@nestjs/common';
import { RequestBodyGuard } from './request-body.guard.js';

/**
 * Bodies are read by a guard, not by middleware: after authentication, under
 * each route's own limit (`@BodyLimit`, `@StreamedBody`). The guard is
 * registered among the global guards right after authentication (AuthModule).
 */
@Global()
@Module({ providers: [RequestBodyGuard], exports: [RequestBodyGuard] })
export class BodyParsersModule {}
