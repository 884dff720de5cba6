import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../common/decorators/access.decorators.js';
import { AuditService } from './audit.service.js';
import { AuditPageDto, AuditQueryDto, AuditVerificationDto } from './dto/audit.dto.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit log, newest first (filter by event_type)' })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const { items, total } = await this.audit.list({ page: q.page, limit: q.limit, eventType: q.event_type });
    return {
      items: items.map((e) => ({
        id: String(e.id),
        event_type: e.eventType,
        actor_id: e.actorId,
        subject_id: e.subjectId,
        reason: e.reason,
        data: e.data,
        created_at: e.createdAt.getTime(),
        prev_hash: e.prevHash,
        chain_hash: e.chainHash,
      })),
      total,
      page: q.page,
      limit: q.limit,
    };
  }

  @Get('verify')
  @ApiOperation({ summary: 'Walk the hash chain and report the first broken entry, if any' })
  @ApiOkResponse({ type: AuditVerificationDto })
  verify(): Promise<AuditVerificationDto> {
    return this.audit.verify();
  }
}
