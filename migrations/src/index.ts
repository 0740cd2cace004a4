import type { Migration } from 'kysely';
import * as m20261122 from './2026-11-22T00-00-targets-heartbeats-events.js';
import * as m20261122b from './2026-11-22T06-00-notification-channels.js';
import * as m20261124 from './2026-11-24T00-00-heartbeat-disk-avail.js';
import * as m20261125 from './2026-11-25T00-00-target-stopped.js';
import * as m20261125b from './2026-11-25T12-00-accounts.js';
import * as m20261126 from './2026-11-26T00-00-inventory-rollups.js';
import * as m20261126b from './2026-11-26T06-00-inventory-fingerprint.js';
import * as m20261127 from './2026-11-27T00-00-terminal-sessions.js';
import * as m20261204 from './2026-12-04T00-00-scraper-replicas.js';
import * as m20261204b from './2026-12-04T06-00-status-pages.js';
import * as m20261204c from './2026-12-04T12-00-heartbeat-rates.js';
import * as m20261204d from './2026-12-04T18-00-two-factor.js';
import * as m20261204e from './2026-12-04T19-00-user-identities.js';
import * as m20261204f from './2026-12-04T20-00-alerts.js';
import * as m20261205 from './2026-12-05T00-00-enrolment.js';

/**
 * Every migration, by name. Names sort in the order they run (date prefix).
 * A static list rather than a folder scan, so bundled and compiled builds see the
 * same migrations as the sources.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-22T00-00-targets-heartbeats-events': m20261122,
  '2026-11-22T06-00-notification-channels': m20261122b,
  '2026-11-24T00-00-heartbeat-disk-avail': m20261124,
  '2026-11-25T00-00-target-stopped': m20261125,
  '2026-11-25T12-00-accounts': m20261125b,
  '2026-11-26T00-00-inventory-rollups': m20261126,
  '2026-11-26T06-00-inventory-fingerprint': m20261126b,
  '2026-11-27T00-00-terminal-sessions': m20261127,
  '2026-12-04T00-00-scraper-replicas': m20261204,
  '2026-12-04T06-00-status-pages': m20261204b,
  '2026-12-04T12-00-heartbeat-rates': m20261204c,
  '2026-12-04T18-00-two-factor': m20261204d,
  '2026-12-04T19-00-user-identities': m20261204e,
  '2026-12-04T20-00-alerts': m20261204f,
  '2026-12-05T00-00-enrolment': m20261205,
};
