import { spawn } from 'node:child_process';
import { describeFailure, HELP, runDbCommand, UsageError } from './commands.js';
import { PROGRAMS, type Program, programBin } from './programs.js';
import { ensureTerminalKeys, startLocal } from './start.js';

const out = (s: string) => {
  process.stdout.write(s);
};

/** Entry point of the `vigil` command. */
export async function main(argv: string[]): Promise<void> {
  // `vigil targets list | head`: the reader went away; stop quietly, as ls does.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [cmd] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      out(HELP);
      return;
    }
    if (cmd in PROGRAMS) return await runProgram(cmd as Program, argv.slice(1));
    if (cmd === 'start') {
      if (argv.length > 1) throw new UsageError(`vigil start takes no arguments (got ${argv[1]}); see npx vigil --help`);
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
    if (cmd === 'keys') {
      if (argv.includes('--help') || argv.includes('-h')) return void out(HELP);
      if (argv.length > 2) throw new UsageError(`vigil keys takes one directory at most; see npx vigil --help`);
      const { privateFile, publicFile, created } = await ensureTerminalKeys(argv[1] ?? '.vigil');
      out(
        created
          ? `wrote ${privateFile} (the console's VIGIL_CONSOLE_PRIVATE_KEY; keep it secret) and ${publicFile} (VIGIL_CONSOLE_PUBLIC_KEY for every exporter)\n`
          : `${privateFile} exists; its public key is ${publicFile}\n`,
      );
      return;
    }
    if (['migrate', 'targets', 'channels', 'users', 'alerts', 'enrol-tokens'].includes(cmd!)) {
      if (argv.includes('--help') || argv.includes('-h')) {
        out(HELP);
        return;
      }
      return await runDbCommand(argv, out);
    }
    throw new UsageError(`unknown command "${cmd}"; see npx vigil --help`);
  } catch (err) {
    const { message, code } = describeFailure(err);
    process.stderr.write(`vigil: ${message}\n`);
    if (code === 1 && process.env.VIGIL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = code;
  }
}

/**
 * `vigil exporter|scraper|console [args]`: runs that program in the foreground
 * (its own package's executable), passing signals on and exiting with its code.
 */
async function runProgram(name: Program, args: string[]): Promise<void> {
  const child = spawn(programBin(name), args, { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  process.exitCode = code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1);
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
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
