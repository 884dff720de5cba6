import type { MigrationInterface } from 'typeorm';
import { Accounts1795294805229 } from './1795294805229-Accounts.js';
import { Storage1795297570895 } from './1795297570895-Storage.js';
import { Backups1795300260036 } from './1795300260036-Backups.js';
import { Vectors1795303642987 } from './1795303642987-Vectors.js';
import { DeploymentSecrets1795839511571 } from './1795839511571-DeploymentSecrets.js';
import { Usage1795840011463 } from './1795840011463-Usage.js';
import { SubscriptionTiersView1795852334721 } from './1795852334721-SubscriptionTiersView.js';
import { Marketplace1795855981695 } from './1795855981695-Marketplace.js';
import { PluginVersionStatusCheck1795861138255 } from './1795861138255-PluginVersionStatusCheck.js';
import { PaidPlugins1795863178793 } from './1795863178793-PaidPlugins.js';
import { PaymentsOutbox1795871431207 } from './1795871431207-PaymentsOutbox.js';
import { Teams1796614542222 } from './1796614542222-Teams.js';
import { AccountData1796615010792 } from './1796615010792-AccountData.js';
import { AccountExportLive1796616398309 } from './1796616398309-AccountExportLive.js';
import { SingleSignOn1796621000000 } from './1796621000000-SingleSignOn.js';
import { Billing1795296805207 } from './1795296805207-Billing.js';
import { Attachments1796620000000 } from './1796620000000-Attachments.js';
import { SessionSignInMethod1796622000000 } from './1796622000000-SessionSignInMethod.js';

/**
 * Every migration, in order. Imported statically (not found by a glob) so the
 * same list loads under Node, the CLI and Jest. `npm run migration:generate`
 * appends new ones here.
 */
export const MIGRATIONS: Array<new () => MigrationInterface> = [
  Accounts1795294805229,
  Billing1795296805207,
  Storage1795297570895,
  Backups1795300260036,
  Vectors1795303642987,
  DeploymentSecrets1795839511571,
  Usage1795840011463,
  SubscriptionTiersView1795852334721,
  Marketplace1795855981695,
  PluginVersionStatusCheck1795861138255,
  PaidPlugins1795863178793,
  PaymentsOutbox1795871431207,
  Teams1796614542222,
  AccountData1796615010792,
  AccountExportLive1796616398309,
  Attachments1796620000000,
  SingleSignOn1796621000000,
  SessionSignInMethod1796622000000,
];
