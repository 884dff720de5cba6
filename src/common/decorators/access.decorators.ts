import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import type { Role } from '../auth/auth-user.js';
import { ErrorResponseDto } from '../dto/error-response.dto.js';
import { type GatedFeature, lowestTierWith } from '../tiers/tiers.js';

export const ROLES_KEY = 'roles';
export const FEATURE_KEY = 'requiredFeature';
export const AUTH_RATE_LIMIT_KEY = 'authRateLimit';
export const SKIP_RATE_LIMIT_KEY = 'skipRateLimit';

/** Only principals with one of these roles (403 otherwise). */
export const Roles = (...roles: Role[]) =>
  applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    ApiForbiddenResponse({ description: `Requires the ${roles.join(' or ')} role`, type: ErrorResponseDto }),
  );

/** Only tiers that have `feature` in the feature matrix (403 naming the tier needed otherwise). */
export const RequireFeature = (feature: GatedFeature) =>
  applyDecorators(
    SetMetadata(FEATURE_KEY, feature),
    ApiForbiddenResponse({
      description: `Requires the ${lowestTierWith(feature)} tier or higher`,
      type: ErrorResponseDto,
    }),
  );

/** Brute-force limits per IP and per account instead of the per-principal tier limit (register, login, refresh). */
export const AuthRateLimit = () => SetMetadata(AUTH_RATE_LIMIT_KEY, true);

/** No rate limit at all (health probes, the Stripe webhook). */
export const SkipRateLimit = () => SetMetadata(SKIP_RATE_LIMIT_KEY, true);
