import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { PaginationQueryDto } from '../../common/dto/pagination.dto.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';
import {
  CreatedInviteDto,
  CreateInviteDto,
  InvitePageDto,
  InvitePreviewDto,
  TeamDto,
} from './dto/teams.dto.js';
import { TeamInvitesService } from './team-invites.service.js';

const TOKEN_PARAM = ApiParam({
  name: 'token',
  description: 'The invitation token: the last segment of the accept_url',
  schema: { type: 'string', maxLength: 200 },
});

/** Invitations; the static /teams/invites/… paths are registered before the teams controller's /teams/:id. */
@ApiTags('teams')
@Controller('teams')
export class TeamInvitesController {
  constructor(private readonly invites: TeamInvitesService) {}

  @Get('invites/:token')
  @Public()
  @TOKEN_PARAM
  @ApiOperation({
    summary: 'What an invitation is for (public: the token is the authorization)',
    description:
      'The team name, the inviter, the invited email, the role and the expiry, for the page the invitee opens. ' +
      'Unknown, used, revoked or expired → 404 (the same answer for each). Rate-limited per IP.',
  })
  @ApiOkResponse({ type: InvitePreviewDto })
  @ApiErrors(404)
  getTeamInvite(@Param('token') token: string): Promise<InvitePreviewDto> {
    return this.invites.preview(token);
  }

  @Post('invites/:token/accept')
  @HttpCode(200)
  @TOKEN_PARAM
  @ApiOperation({
    summary: 'Accept an invitation: join the team (single use)',
    description:
      'By the signed-in account whose email the invite was sent to (another → 403 email_mismatch). Joining takes ' +
      'the seat the invite held; with every seat taken → 402 seats_exhausted, and the invite stays pending. ' +
      'Unknown, used, revoked or expired → 404.',
  })
  @ApiOkResponse({ type: TeamDto })
  @ApiErrors(402, 403, 404)
  acceptTeamInvite(@CurrentUser() user: AuthUser, @Param('token') token: string): Promise<TeamDto> {
    return this.invites.accept(user, token);
  }

  @Post(':id/invites')
  @ApiUuidParam('id', 'The team id')
  @ApiOperation({
    summary: 'Invite an email address to the team (owners and admins)',
    description:
      'Answers the single-use token once, with accept_url (PUBLIC_URL + the public invite route) to send the ' +
      'invitee; valid 7 days, stored hashed. A pending invite holds a seat: past the seats → 402 seats_exhausted. ' +
      'Only an owner invites an owner. A member or a pending invite for the email → 409 duplicate. With ' +
      'TEAM_INVITE_WEBHOOK_URL set the invite is also POSTed there, signed.',
  })
  @ApiCreatedResponse({ type: CreatedInviteDto })
  @ApiErrors(400, 402, 403, 404, 409)
  createTeamInvite(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Body() dto: CreateInviteDto,
  ): Promise<CreatedInviteDto> {
    return this.invites.create(user, id, dto);
  }

  @Get(':id/invites')
  @ApiUuidParam('id', 'The team id')
  @ApiOperation({
    summary: 'Pending invitations of the team, newest first (owners and admins)',
    description:
      'Each with the invited email, role, inviter and expiry; never the token. Pending invitations hold seats. ' +
      'Not a member → 404; a member without the owner or admin role → 403 role_required.',
  })
  @ApiOkResponse({ type: InvitePageDto })
  @ApiErrors(400, 403, 404)
  listTeamInvites(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Query() query: PaginationQueryDto,
  ): Promise<InvitePageDto> {
    return this.invites.list(user, id, query.page, query.limit);
  }

  @Delete(':id/invites/:invite_id')
  @HttpCode(204)
  @ApiUuidParam('id', 'The team id')
  @ApiUuidParam('invite_id', 'The invite id')
  @ApiOperation({
    summary: 'Revoke a pending invitation (owners and admins); its seat is free again',
    description:
      'The invitation can no longer be previewed or accepted. Unknown invitation → 404; not a member → 404; ' +
      'a member without the owner or admin role → 403 role_required.',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(400, 403, 404)
  async revokeTeamInvite(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Param('invite_id', UuidPipe) inviteId: string,
  ): Promise<void> {
    await this.invites.revoke(user, id, inviteId);
  }
}
