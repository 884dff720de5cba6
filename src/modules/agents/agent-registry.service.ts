import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { z } from 'zod';
import { TIERS, type Tier } from '../../common/tiers/tiers.js';
import type { AgentResult, Caller, ChatContext, TokenSink } from './agent.types.js';
import { AGENT_MARKER } from './agent.decorator.js';
import { ChatAgent } from './chat-agent.js';
import { AgentsException } from './agents.errors.js';

export interface AgentInfo {
  name: string;
  description: string;
  tools: string[];
  available: boolean;
}

/** A tool's schema as JSON Schema (zod schemas converted; JSON schemas as they are). */
function toJsonSchema(schema: unknown): unknown {
  return schema instanceof z.ZodType ? z.toJSONSchema(schema, { unrepresentable: 'any' }) : schema;
}

/** Whether `tier` is `min` or above in the tier order (free < pro < power < team). */
export function tierAtLeast(tier: Tier, min: Tier): boolean {
  return TIERS.indexOf(tier) >= TIERS.indexOf(min);
}

/**
 * Every agent marked with @RegisterAgent(), found through Nest's discovery
 * at start. Agents are stateless singletons: a turn's data travels in its
 * arguments.
 */
@Injectable()
export class AgentRegistry implements OnModuleInit {
  private readonly agents = new Map<string, ChatAgent>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: AGENT_MARKER.KEY })) {
      const agent: unknown = wrapper.instance;
      if (!(agent instanceof ChatAgent)) {
        throw new Error(`${wrapper.name} is marked @RegisterAgent() but does not extend ChatAgent`);
      }
      if (this.agents.has(agent.name)) throw new Error(`Two agents are named ${agent.name}`);
      this.agents.set(agent.name, agent);
    }
  }

  /** Every tool's description and argument schema: server-side text the sanitizer keeps out of answers. */
  toolTexts(): string[] {
    return [...this.agents.values()].flatMap((agent) =>
      agent.tools.flatMap((t) => [t.description, JSON.stringify(toJsonSchema(t.schema))]),
    );
  }

  /** All agents, with whether `tier` may use each. */
  list(tier: Tier): AgentInfo[] {
    return [...this.agents.values()].map((agent) => ({
      name: agent.name,
      description: agent.description,
      tools: agent.toolNames,
      available: tierAtLeast(tier, agent.minTier),
    }));
  }

  /** The agents `tier` may use, in registration order. */
  allowed(tier: Tier): ChatAgent[] {
    return [...this.agents.values()].filter((agent) => tierAtLeast(tier, agent.minTier));
  }

  get(name: string): ChatAgent | undefined {
    return this.agents.get(name);
  }

  getOrThrow(name: string, tier: Tier): ChatAgent {
    const agent = this.agents.get(name);
    if (!agent) throw new AgentsException('not_found', `No agent named ${name}`);
    if (!tierAtLeast(tier, agent.minTier)) {
      throw new AgentsException(
        'tier_required',
        `${name} requires the ${agent.minTier} tier or higher; your tier is ${tier}.`,
        { required_tier: agent.minTier },
      );
    }
    return agent;
  }

  /** Inter-agent call: one agent asks another (within the caller's tier). */
  callAgent(
    name: string,
    query: string,
    context: ChatContext,
    caller: Caller,
    onToken?: TokenSink,
  ): Promise<AgentResult> {
    return this.getOrThrow(name, caller.tier).handle(query, context, caller, onToken);
  }
}
