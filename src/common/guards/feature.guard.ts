import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../auth/auth-user.js';
import { FEATURE_KEY } from '../decorators/access.decorators.js';
import { FEATURES, type GatedFeature, lowestTierWith } from '../tiers/tiers.js';
import { AppException } from '../errors/app.exception.js';

/** Tier gate: the tier comes from the database on this very request (AuthUser.tier). */
@Injectable()
export class FeatureGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const feature = this.reflector.getAllAndOverride<GatedFeature | undefined>(FEATURE_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!feature) return true;
    const user = ctx.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (user && FEATURES[user.tier][feature]) return true;
    const needed = lowestTierWith(feature);
    throw new AppException(
      'tier_required',
      `${feature} requires the ${needed} tier or higher; your tier is ${user?.tier ?? 'unknown'}. ` +
        'Upgrade with POST /api/v1/billing/checkout.',
      { required_tier: needed },
    );
  }
}
