import { ApiParam } from '@nestjs/swagger';

/** Documents a path parameter that ParseUUIDPipe checks (a malformed one is 400). */
export const ApiUuidParam = (name = 'id', description = 'The id, a UUID') =>
  ApiParam({ name, description, schema: { type: 'string', format: 'uuid' } });
