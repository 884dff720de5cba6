import { ApiParam } from '@nestjs/swagger';
import { UUID_PATTERN } from '../input/uuid.pipe.js';

/** Documents a path parameter that UuidPipe checks (any RFC 9562 UUID; anything else is 400). */
export const ApiUuidParam = (name = 'id', description = 'The id, a UUID') =>
  ApiParam({ name, description, schema: { type: 'string', format: 'uuid', pattern: UUID_PATTERN.source } });
