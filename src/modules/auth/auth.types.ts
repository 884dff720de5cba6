export type { AuthUser } from '../../common/auth/auth-user.js';

export interface AccessTokenPayload {
  sub: string;
  sid: string;
  typ: 'access';
  iat?: number;
  exp?: number;
  iss?: string;
  aud?: string | string[];
}

export const JWT_ISSUER = 'adiuva-cloud-api';
export const JWT_AUDIENCE = 'adiuva-clients';
export const API_KEY_PREFIX = 'adv_';
