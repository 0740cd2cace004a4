/**
 * What the exporter and the scraper say to each other beyond the exposition
 * format. Plain HTTP headers, so a Prometheus in between sees an ordinary
 * scrape.
 */

/**
 * Sent by the Vigil scraper with each scrape: the target's scrape interval in
 * seconds. A stopping exporter waits (up to its grace period) for one more
 * scrape from each scraper that sent it recently, so each hears the goodbye.
 */
export const SCRAPE_INTERVAL_HEADER = 'x-vigil-scrape-interval-seconds';

/**
 * Set by an exporter that is shutting down cleanly, with the value
 * {@link EXPORTER_STOPPING}, on its 503 answers to every request: a scraper
 * records the target `stopped` (no alert) instead of `down`.
 */
export const EXPORTER_STATE_HEADER = 'x-vigil-exporter-state';

/** The value of {@link EXPORTER_STATE_HEADER} during a clean shutdown. */
export const EXPORTER_STOPPING = 'stopping';
