import { applyDecorators, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/** Marks a ChatAgent provider; the registry finds every one at start (no hand-kept list). */
const AgentMarker = DiscoveryService.createDecorator<true>();
export const AGENT_MARKER = AgentMarker;

export const RegisterAgent = () => applyDecorators(Injectable(), AgentMarker(true));
