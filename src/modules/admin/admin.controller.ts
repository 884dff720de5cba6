import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { Roles } from '../../common/decorators/access.decorators.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { AdminService } from './admin.service.js';
import { AdminUpdateUserDto, AdminUserDto, AdminUserPageDto, AdminUsersQueryDto } from './dto/admin.dto.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';

@ApiTags('admin')
@Roles('admin')
@Controller('admin/users')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  @ApiOperation({
    summary: 'Accounts, newest first; search by email substring',
    description: 'Admin role only. Page with page and limit; total says how many accounts match.',
  })
  @ApiOkResponse({ type: AdminUserPageDto })
  async listUsers(@Query() query: AdminUsersQueryDto): Promise<AdminUserPageDto> {
    const { items, total } = await this.admin.listUsers(query);
    return { items, total, page: query.page, limit: query.limit };
  }

  @Patch(':id')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Change tier override, role or disabled (audited)',
    description:
      'Admin role only. Send only the fields to change; a null tier removes the override (the subscription ' +
      'decides again). Disabling an account ends its sessions. Every change is written to the audit log.',
  })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiErrors(404)
  updateUser(
    @CurrentUser() admin: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Body() dto: AdminUpdateUserDto,
  ): Promise<AdminUserDto> {
    return this.admin.updateUser(admin, id, dto);
  }
}
