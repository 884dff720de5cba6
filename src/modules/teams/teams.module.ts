import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/index.js';
import { BillingModule } from '../billing/index.js';
import { Team } from './entities/team.entity.js';
import { TeamInvite } from './entities/team-invite.entity.js';
import { TeamMember } from './entities/team-member.entity.js';
import { TeamsRepository } from './teams.repository.js';
import { TeamsService } from './teams.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Team, TeamMember, TeamInvite]), AuthModule, BillingModule],
  controllers: [],
  providers: [TeamsRepository, TeamsService],
  // Membership for the other modules (single sign-on provisions members through addMember).
  exports: [TeamsService],
})
export class TeamsModule {}
