/**
 * How many scraper replicas are live, as the page last heard: from the
 * layout's data on each navigation, and from the fleet stream while the fleet
 * page is open. 0: nobody is watching the fleet, and every page says so.
 */
export const watchers = $state<{ scrapers: number | null }>({ scrapers: null });
