export * from './config.js';
export * from './heartbeat.js';
export * from './liveness.js';
export * from './run.js';
export * from './scheduler.js';
export * from './scrape.js';
export * from './scraper.js';
export * from './writer.js';
