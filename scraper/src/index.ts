export * from './alerts.js';
export * from './config.js';
export * from './liveness.js';
export * from './run.js';
export * from './scheduler.js';
export * from './scraper.js';
export * from './writer.js';
