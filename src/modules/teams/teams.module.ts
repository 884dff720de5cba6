import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { AuthModule } from '../auth/index.js';
import { BillingModule } from '../billing/index.js';
import { Team } from './entities/team.entity.js';
import { TeamInvite } from './entities/team-invite.entity.js';
import { TeamMember } from './entities/team-member.entity.js';
import { TeamInviteDelivery } from './team-invite-delivery.js';
import { TeamInvitesController } from './team-invites.controller.js';
import { TeamInvitesRepository } from './team-invites.repository.js';
import { TeamInvitesService } from './team-invites.service.js';
import { TeamMembersService } from './team-members.service.js';
import { TeamsAccountData } from './teams.account-data.js';
import { TeamsAccountDataRepository } from './teams-account-data.repository.js';
import { TeamsController } from './teams.controller.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Team, TeamMember, TeamInvite]), AuthModule, BillingModule],
  // Invites first: its static /teams/invites/… paths must be matched before /teams/:id.
  controllers: [TeamInvitesController, TeamsController],
  providers: [
    TeamsRepository,
    TeamInvitesRepository,
    TeamsService,
    TeamMembersService,
    TeamInvitesService,
    TeamInviteDelivery,
    TeamsAccountDataRepository,
    ...provideAccountDataParticipant(TeamsAccountData),
  ],
  // Membership for the other modules (single sign-on provisions members through addMember).
  exports: [TeamsService],
})
export class TeamsModule {}
