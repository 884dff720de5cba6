import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppMetrics } from '../../common/metrics/app-metrics.js';
import { observeWebSocketUpgrades } from '../../common/metrics/backing-metrics.js';
import { CHAT_WS_PATH } from './chat-websocket.server.js';
import { SanitizerService } from './sanitizer.service.js';

/**
 * The chat module's metrics, read from what it already keeps: the
 * sanitizer's redaction counts (mirrored at each scrape) and the plain
 * WebSocket's open connections (counted at the HTTP upgrade).
 */
@Injectable()
export class ChatMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly sanitizer: SanitizerService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.metrics.enabled) return;
    this.metrics.mirrorCounts(this.metrics.redactions, () => this.sanitizer.redactions);
    const http = this.adapterHost.httpAdapter.getHttpServer() as Server;
    observeWebSocketUpgrades(http, CHAT_WS_PATH, this.metrics);
  }
}
