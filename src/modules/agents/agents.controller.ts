import { Controller, Get, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { AgentRegistry } from './agent-registry.service.js';
import { AgentInfoDto, PlaybookDto } from './dto/agents.dto.js';
import { PlansService } from './plans/plans.service.js';

@ApiTags('agents')
@ApiBearerAuth()
@ApiSecurity('api_key')
@ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing, invalid or expired credentials' })
@ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'Rate limited; see Retry-After' })
@Controller('agents')
export class AgentsController {
  constructor(private readonly registry: AgentRegistry) {}

  @Get()
  @ApiOperation({
    summary: "The agents, their tools, and whether the caller's tier may use each",
    description:
      'Every agent the router can pick, with its description and tool names. `available` is false for ' +
      "an agent above the caller's tier (free: task_agent, project_agent, note_agent; pro and up: all four).",
  })
  @ApiOkResponse({ type: [AgentInfoDto] })
  listAgents(@CurrentUser() user: AuthUser): AgentInfoDto[] {
    return this.registry.list(user.tier);
  }
}

@ApiTags('agents')
@ApiBearerAuth()
@ApiSecurity('api_key')
@ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing, invalid or expired credentials' })
@ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'Rate limited; see Retry-After' })
@Controller('plans/playbook')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @Get()
  @ApiOperation({
    summary: "Pre-built plans (template ids only) the caller's tier may run",
    description:
      'Playbooks are ExecutionPlans with an id, name and description. Steps name prompt templates by id ' +
      '(tpl_…); the prompt text never leaves the server.',
  })
  @ApiOkResponse({ type: [PlaybookDto] })
  listPlaybooks(@CurrentUser() user: AuthUser): PlaybookDto[] {
    return this.plans.listPlaybooks(user.tier) as PlaybookDto[];
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One playbook',
    description:
      "One playbook by id; 404 not_found for an unknown id, 403 tier_required above the caller's tier.",
  })
  @ApiParam({ name: 'id', example: 'create_tasks_from_project' })
  @ApiOkResponse({ type: PlaybookDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No playbook with this id' })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: "The playbook needs a higher tier than the caller's",
  })
  getPlaybook(@CurrentUser() user: AuthUser, @Param('id') id: string): PlaybookDto {
    return this.plans.getPlaybookOrThrow(id, user.tier) as PlaybookDto;
  }
}
