import { invalidateAll } from '$app/navigation';

/**
 * A clock for "how long ago" on a live page: ticks each second, corrected to the
 * server's time (so a browser with a wrong clock still shows true ages), and
 * re-runs the page's load every `refreshSeconds` for live figures (0: never;
 * the fleet page is pushed its updates instead).
 * Call inside a component; it stops when the component is destroyed.
 */
export function liveClock(serverTime: () => number, refreshSeconds = 5) {
  let now = $state(Date.now());
  let offset = $state(0);
  $effect(() => {
    offset = serverTime() - Date.now();
  });
  $effect(() => {
    const tick = setInterval(() => (now = Date.now()), 1000);
    const refresh = refreshSeconds > 0 ? setInterval(() => void invalidateAll(), refreshSeconds * 1000) : undefined;
    return () => {
      clearInterval(tick);
      clearInterval(refresh);
    };
  });
  return {
    get now() {
      return now + offset;
    },
  };
}
