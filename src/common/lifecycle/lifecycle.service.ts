import { Injectable } from '@nestjs/common';

/** Process-wide lifecycle state: readiness turns false as soon as shutdown begins. */
@Injectable()
export class LifecycleService {
  private draining = false;

  get isShuttingDown(): boolean {
    return this.draining;
  }

  beginShutdown(): void {
    this.draining = true;
  }
}
