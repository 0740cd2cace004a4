/** The colour themes: `system` follows the browser's preference (prefers-color-scheme). */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** The cookie that keeps the choice (not a secret; read when the page is rendered, so it never flashes the other theme). */
export const THEME_COOKIE = 'vigil_theme';

/** A cookie's value as a theme: anything else is `system`. */
export function themeOf(value: string | undefined | null): Theme {
  return (THEMES as readonly string[]).includes(value ?? '') ? (value as Theme) : 'system';
}
