export * from './heartbeat.js';
export * from './scrape.js';
export * from './scheduler.js';
export * from './liveness.js';
export * from './writer.js';
export * from './scraper.js';
export * from './config.js';
export * from './run.js';
