import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Min } from 'class-validator';
import { RequireFeature } from '../../src/common/decorators/access.decorators.js';
import { Public } from '../../src/common/decorators/public.decorator.js';

export class EchoDto {
  @IsString()
  @Length(1, 20)
  name!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  count!: number;
}

/**
 * Routes that exist only in tests, to exercise the global pipe, filter and
 * body limits the way a real route would. Mounted beside the real modules.
 */
@Public()
@Controller('probe')
export class ProbeController {
  @Post('echo')
  echo(@Body() dto: EchoDto): { name: string; count: number; count_type: string; keys: string[] } {
    return { name: dto.name, count: dto.count, count_type: typeof dto.count, keys: Object.keys(dto) };
  }

  @Get('boom')
  boom(): never {
    throw new Error('relation "users" does not exist at character 15 (password=hunter2)');
  }
}

/** A guarded, tier-gated route, as a Power+ module would declare one. */
@Controller('probe')
export class ProbeGatedController {
  @Get('marketplace')
  @RequireFeature('plugin_marketplace')
  marketplace(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController, ProbeGatedController] })
export class ProbeModule {}
