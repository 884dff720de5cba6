import type { INestApplication } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { FEATURE_KEY } from '../../src/common/decorators/access.decorators.js';
import { IS_PUBLIC_KEY } from '../../src/common/decorators/public.decorator.js';

export interface RouteInfo {
  method: string;
  path: string;
  handler: string;
  isPublic: boolean;
  guards: string[];
  /** The tier-gated feature the route requires (@RequireFeature), if any. */
  feature?: string;
}

const join = (...parts: string[]) =>
  '/' +
  parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/');

/** Every HTTP route the app's controllers declare, with what protects it. */
export function listRoutes(app: INestApplication, prefix = 'api/v1'): RouteInfo[] {
  const scanner = new MetadataScanner();
  const routes: RouteInfo[] = [];
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!ctrl) continue;
      const ctrlPaths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, ctrl) ?? '');
      const ctrlPublic = Reflect.getMetadata(IS_PUBLIC_KEY, ctrl) === true;
      const ctrlGuards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, ctrl) ?? [];
      for (const name of scanner.getAllMethodNames(ctrl.prototype)) {
        const fn = (ctrl.prototype as Record<string, unknown>)[name] as object;
        const method = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
        if (method === undefined) continue;
        const paths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, fn) ?? '');
        const guards: unknown[] = [
          ...ctrlGuards,
          ...((Reflect.getMetadata(GUARDS_METADATA, fn) as unknown[]) ?? []),
        ];
        for (const cp of ctrlPaths) {
          for (const p of paths) {
            routes.push({
              method: RequestMethod[method],
              path: join(prefix, cp, p),
              handler: `${ctrl.name}.${name}`,
              isPublic: ctrlPublic || Reflect.getMetadata(IS_PUBLIC_KEY, fn) === true,
              guards: guards.map((g) => (typeof g === 'function' ? g.name : String(g))),
              feature: (Reflect.getMetadata(FEATURE_KEY, fn) ?? Reflect.getMetadata(FEATURE_KEY, ctrl)) as
                string | undefined,
            });
          }
        }
      }
    }
  }
  return routes;
}

/** The routes Express actually serves (to prove listRoutes saw all of them). */
export function mountedRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as {
    router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
  };
  return express.router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`),
    );
}
