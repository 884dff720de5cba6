/** Every HTTP route lives under this prefix (without slashes). */
export const API_PREFIX = 'api/v1';
