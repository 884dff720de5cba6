import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../common/decorators/access.decorators.js';
import { AuditService } from './audit.service.js';
import { AuditPageDto, AuditQueryDto, AuditVerificationDto } from './dto/audit.dto.js';

@ApiTags('admin')
@Roles('admin')
@Controller('admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'Audit log, newest first (filter by event_type)',
    description:
      'Admin role only. Each entry carries prev_hash and chain_hash (sha256 of prev_hash and the entry), ' +
      'so any edit of a stored entry shows in GET /admin/audit/verify.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  async listAuditEvents(@Query() query: AuditQueryDto): Promise<AuditPageDto> {
    const { items, total } = await this.audit.list({
      page: query.page,
      limit: query.limit,
      eventType: query.event_type,
    });
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
      page: query.page,
      limit: query.limit,
    };
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Walk the hash chain and report the first broken entry, if any',
    description:
      'Admin role only. ok is false and first_broken_id names the first entry whose hash does not match.',
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  verifyAuditChain(): Promise<AuditVerificationDto> {
    return this.audit.verify();
  }
}
