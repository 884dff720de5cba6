/** What the teams module offers the rest of the app; nothing else of it is imported from outside. */
export { TeamsModule } from './teams.module.js';
export { TeamsService, type SeatCount } from './teams.service.js';
export { TEAM_ROLES, type TeamRole, type MemberSource } from './entities/team-member.entity.js';
export type { Team } from './entities/team.entity.js';
