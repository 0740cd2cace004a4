import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The vitest settings every workspace shares: tests beside code, v8 coverage with
 * the thresholds CI holds each workspace to (80 % statements, 75 % branches).
 */
export function workspaceConfig(
  extra: { include?: string[]; exclude?: string[]; testTimeout?: number; plugins?: ViteUserConfig['plugins']; globalSetup?: string[] } = {},
) {
  return defineConfig({
    plugins: extra.plugins ?? [],
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: extra.testTimeout ?? 20_000,
      globalSetup: extra.globalSetup ?? [],
      hookTimeout: 60_000,
      coverage: {
        provider: 'v8',
        include: extra.include ?? ['src/**/*.ts'],
        exclude: ['src/**/*.test.ts', ...(extra.exclude ?? [])],
        reporter: ['text-summary', 'text'],
        thresholds: { statements: 80, branches: 75 },
      },
    },
  });
}
