import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../common/decorators/access.decorators.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';
import { AccountErasureService } from './account-erasure.service.js';
import { ErasureDto, ErasurePageDto, ErasureQueryDto } from './dto/account.dto.js';

@ApiTags('admin')
@Roles('admin')
@Controller('admin/erasures')
export class AdminErasuresController {
  constructor(private readonly erasures: AccountErasureService) {}

  @Get()
  @ApiOperation({
    summary: 'Account erasures: scheduled, running, retrying (with the last error), completed',
    description: 'Admin role only. Soonest first. A completed erasure keeps only its pseudonym and times.',
  })
  @ApiOkResponse({ type: ErasurePageDto })
  @ApiErrors(400)
  async listErasures(@Query() query: ErasureQueryDto): Promise<ErasurePageDto> {
    const { items, total } = await this.erasures.list(query);
    return { items, total, page: query.page, limit: query.limit };
  }

  @Post(':id/run')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run an erasure now, whatever its schedule',
    description:
      'Admin role only. Answers the erasure after the run: completed, or retrying with last_error when a ' +
      'backing service failed (it resumes where it stopped). A completed or canceled one is answered as is.',
  })
  @ApiUuidParam('id', 'From GET /admin/erasures')
  @ApiOkResponse({ type: ErasureDto })
  @ApiErrors(400, 404)
  runErasure(@Param('id', UuidPipe) id: string): Promise<ErasureDto> {
    return this.erasures.runNow(id);
  }
}
