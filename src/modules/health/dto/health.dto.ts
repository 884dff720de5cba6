import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ example: 'ok', enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({ example: '0.1.0' })
  version!: string;
}

export class ReadinessDto {
  @ApiProperty({ example: 'ok', enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({
    description: 'State of each backing service',
    example: { database: 'up' },
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
  })
  checks!: Record<string, 'up' | 'down'>;
}
