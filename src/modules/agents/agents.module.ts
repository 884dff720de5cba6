import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AgentRegistry } from './agent-registry.service.js';
import { AgentsController, PlansController } from './agents.controller.js';
import { CheckpointAgent } from './agents/checkpoint.agent.js';
import { NoteAgent } from './agents/note.agent.js';
import { ProjectAgent } from './agents/project.agent.js';
import { TaskAgent } from './agents/task.agent.js';
import { OrchestratorService } from './orchestrator.service.js';
import { PlansService } from './plans/plans.service.js';
import { PromptTemplates } from './plans/prompt-templates.js';

/**
 * The agents (registered with @RegisterAgent() and discovered at start), the
 * orchestrator and the plans. Nothing of a chat is stored: a turn's data lives
 * in its request; the one table holds the deployment's prompt canary. Other modules use the orchestrator only.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [AgentsController, PlansController],
  providers: [
    AgentRegistry,
    OrchestratorService,
    PlansService,
    PromptTemplates,
    TaskAgent,
    ProjectAgent,
    CheckpointAgent,
    NoteAgent,
  ],
  exports: [OrchestratorService, PromptTemplates, AgentRegistry],
})
export class AgentsModule {}
