import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';
import {
  CreateTeamDto,
  SeatsDto,
  TeamDto,
  TeamListDto,
  TeamMemberDto,
  TeamMemberPageDto,
  UpdateMemberRoleDto,
  UpdateSeatsDto,
} from './dto/teams.dto.js';
import { TeamMembersService } from './team-members.service.js';
import { TeamsService } from './teams.service.js';

/** Teams, members and seats. Every team route: a non-member gets 404, a member without the role 403 role_required. */
@ApiTags('teams')
@Controller('teams')
export class TeamsController {
  constructor(
    private readonly teams: TeamsService,
    private readonly members: TeamMembersService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a team (Team tier); you become its owner and your Team subscription pays its seats',
    description:
      'Another tier → 403 tier_required (required_tier team). One team per paying account (409 duplicate).',
  })
  @ApiCreatedResponse({ type: TeamDto })
  @ApiErrors(400, 403, 409)
  createTeam(@CurrentUser() user: AuthUser, @Body() dto: CreateTeamDto): Promise<TeamDto> {
    return this.teams.create(user, dto.name);
  }

  @Get('mine')
  @ApiOperation({
    summary: 'The teams you are a member of, with your role in each',
    description:
      'Every team the signed-in account belongs to, as owner, admin or member (none: an empty list).',
  })
  @ApiOkResponse({ type: TeamListDto })
  listMyTeams(@CurrentUser() user: AuthUser): Promise<TeamListDto> {
    return this.teams.mine(user);
  }

  @Get(':id')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'A team you are a member of, with its seats',
    description:
      'Its name, your role, the seats its subscription pays for (null when the team tier comes without a ' +
      'Stripe subscription, and seats are not counted) and how many are taken. Not a member → 404.',
  })
  @ApiOkResponse({ type: TeamDto })
  @ApiErrors(400, 404)
  getTeam(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<TeamDto> {
    return this.teams.get(user, id);
  }

  @Get(':id/members')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Members of the team: owners, then admins, then members',
    description:
      'Paginated (page, limit); each member with email, role and when they joined. Not a member → 404.',
  })
  @ApiOkResponse({ type: TeamMemberPageDto })
  @ApiErrors(400, 404)
  listTeamMembers(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Query() query: PaginationQueryDto,
  ): Promise<TeamMemberPageDto> {
    return this.members.list(user, id, query.page, query.limit);
  }

  @Patch(':id/members/:user_id')
  @ApiUuidParam()
  @ApiUuidParam('user_id', 'The member’s account id')
  @ApiOperation({
    summary: 'Change a member’s role (owners; admins for members)',
    description:
      'Admins change members only and make no owners; the last owner keeps the role (409 last_owner).',
  })
  @ApiOkResponse({ type: TeamMemberDto })
  @ApiErrors(400, 403, 404, 409)
  updateTeamMember(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Param('user_id', UuidPipe) userId: string,
    @Body() dto: UpdateMemberRoleDto,
  ): Promise<TeamMemberDto> {
    return this.members.changeRole(user, id, userId, dto.role);
  }

  @Delete(':id/members/:user_id')
  @HttpCode(204)
  @ApiUuidParam()
  @ApiUuidParam('user_id', 'The member’s account id (your own to leave)')
  @ApiOperation({
    summary: 'Remove a member, or leave (your own id)',
    description:
      'Owners remove anyone, admins members; anyone may leave. The last owner and the account paying the seats ' +
      'stay (409 last_owner). The removed account falls back to its own tier on its next request.',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(400, 403, 404, 409)
  async removeTeamMember(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Param('user_id', UuidPipe) userId: string,
  ): Promise<void> {
    await this.members.remove(user, id, userId);
  }

  @Patch(':id/seats')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Change the number of seats (owners): the Team subscription’s quantity at Stripe, prorated',
    description:
      'Never below the members (409 seats_in_use). No live Team subscription → 402 payment_required; ' +
      'Stripe failing → 502 provider_unavailable (nothing changed).',
  })
  @ApiOkResponse({ type: SeatsDto })
  @ApiErrors(400, 402, 403, 404, 409, 502, 503)
  updateTeamSeats(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateSeatsDto,
  ): Promise<SeatsDto> {
    return this.members.changeSeats(user, id, dto.seats);
  }
}
