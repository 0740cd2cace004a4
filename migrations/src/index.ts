export * from './database.js';
export * from './db.js';
export * from './migrate.js';
export * from './partitions.js';
export * from './targets.js';
export * from './heartbeats.js';
export * from './events.js';
export * from './embedded.js';
