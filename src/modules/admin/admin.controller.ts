import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { Roles } from '../../common/decorators/access.decorators.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { AdminService } from './admin.service.js';
import { AdminUpdateUserDto, AdminUserDto, AdminUserPageDto, AdminUsersQueryDto } from './dto/admin.dto.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/users')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  @ApiOperation({ summary: 'Accounts, newest first; search by email substring' })
  @ApiOkResponse({ type: AdminUserPageDto })
  async list(@Query() q: AdminUsersQueryDto): Promise<AdminUserPageDto> {
    const { items, total } = await this.admin.listUsers(q);
    return { items, total, page: q.page, limit: q.limit };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change tier override, role or disabled (audited)' })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(
    @CurrentUser() admin: AuthUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() dto: AdminUpdateUserDto,
  ): Promise<AdminUserDto> {
    return this.admin.updateUser(admin, id, dto);
  }
}
