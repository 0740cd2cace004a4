import { ConfigError, main as exporterMain } from '@vigil/exporter';
import { describeFailure, HELP, runDbCommand, UsageError } from './cli.js';
import { loadScraperConfig } from './config.js';
import { runScraper } from './run.js';
import { startLocal } from './start.js';

const out = (s: string) => process.stdout.write(s);

/** Entry point of the `vigil` command. */
export async function main(argv: string[]): Promise<void> {
  const [cmd] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help' || argv.includes('--help')) {
      out(HELP);
      return;
    }
    if (cmd === 'exporter') return await exporterMain(argv.slice(1));
    if (cmd === 'scraper') {
      if (argv.length > 1) throw new UsageError(`vigil scraper takes no arguments (got ${argv[1]}); it is configured by environment variables, see vigil --help`);
      const running = await runScraper(loadScraperConfig());
      onSignal(() => running.stop());
      return;
    }
    if (cmd === 'start') {
      if (argv.length > 1) throw new UsageError(`vigil start takes no arguments (got ${argv[1]}); see vigil --help`);
      const vigil = await startLocal(process.env, out);
      out(`\nVigil is running. Console: ${vigil.consoleUrl}  (Ctrl-C stops everything)\n\n`);
      let stopping = false;
      for (const [name, child] of Object.entries(vigil.children)) {
        child.on('exit', () => {
          if (!stopping) out(`the ${name} stopped; the rest keeps running. Restart everything with npm start.\n`);
        });
      }
      onSignal(() => {
        stopping = true;
        return vigil.stop();
      });
      return;
    }
    if (cmd === 'migrate' || cmd === 'targets' || cmd === 'channels') return await runDbCommand(argv, out);
    throw new UsageError(`unknown command "${cmd}"; see vigil --help`);
  } catch (err) {
    const { message, code } = describeFailure(err);
    process.stderr.write(`vigil: ${message}\n`);
    if (code === 1 && !(err instanceof ConfigError) && process.env.VIGIL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = code;
  }
}

function onSignal(stop: () => Promise<void>) {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    out(`\n${signal}: stopping…\n`);
    stop()
      .then(() => process.exit(0))
      .catch((err) => {
        process.stderr.write(`vigil: ${(err as Error).message}\n`);
        process.exit(1);
      });
  };
  process.once('SIGINT', () => handler('SIGINT'));
  process.once('SIGTERM', () => handler('SIGTERM'));
}
