import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { packageBin } from '@vigil/core/testing';

/** A whole Vigil started by `vigil start`, as a user starts it. */
export interface RunningVigil {
  consoleUrl: string;
  /** Pid of each program, from what `vigil start` prints. */
  pids: Record<string, number>;
  /** The first admin's password, printed once by the first start of an empty database (null otherwise). */
  adminPassword: string | null;
  output: string[];
  stop(): Promise<void>;
}

/** The `vigil` command, found through its package as npm links it. */
function vigilBin(): string {
  return packageBin('@vigil/cli', 'vigil', import.meta.url);
}

/**
 * Runs `vigil start` with `env` and resolves once it says the console is up.
 * @throws when it exits first, with what it printed
 */
export function startVigil(env: NodeJS.ProcessEnv): Promise<RunningVigil> {
  const child: ChildProcess = spawn(vigilBin(), ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const pids: Record<string, number> = {};
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const started = /^\[(\w+)\] started, pid (\d+)$/.exec(line);
      if (started) pids[started[1]!] = Number(started[2]);
      const ready = /Vigil is running\. Console: (\S+)/.exec(line);
      if (ready) {
        const created = output.findIndex((l) => l.startsWith('first start: created the console user "admin"'));
        resolve({
          consoleUrl: ready[1]!,
          pids,
          adminPassword:
            created < 0
              ? null
              : (output
                  .slice(created + 1)
                  .find((l) => l.trim() !== '')
                  ?.trim() ?? null),
          output,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`vigil start exited with ${code}:\n${output.join('\n')}`)));
  });
}
