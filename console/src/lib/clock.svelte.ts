import { invalidateAll } from '$app/navigation';

/**
 * A clock for "how long ago" on a live page: ticks each second, corrected to the
 * server's time (so a browser with a wrong clock still shows true ages), and
 * re-runs the page's load every `refreshSeconds` for live figures (0: never;
 * the fleet page is pushed its updates instead). `tickSeconds` says how often
 * it ticks (read at each tick): a page with a thousand ages to redraw ticks less
 * often than one with ten.
 * Call inside a component; it stops when the component is destroyed.
 */
export function liveClock(serverTime: () => number, refreshSeconds = 5, tickSeconds: () => number = () => 1) {
  let now = $state(Date.now());
  let offset = $state(0);
  $effect(() => {
    offset = serverTime() - Date.now();
  });
  $effect(() => {
    let tick: ReturnType<typeof setTimeout>;
    const schedule = () => {
      tick = setTimeout(() => {
        now = Date.now();
        schedule();
      }, tickSeconds() * 1000);
    };
    schedule();
    const refresh = refreshSeconds > 0 ? setInterval(() => void invalidateAll(), refreshSeconds * 1000) : undefined;
    return () => {
      clearTimeout(tick);
      clearInterval(refresh);
    };
  });
  return {
    get now() {
      return now + offset;
    },
  };
}
