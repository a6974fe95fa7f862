/**
 * The `alicred` command (Node): `whoami`, `env`, `serve`, `emulator`, `doctor`. The build
 * puts `#!/usr/bin/env node` in front of it (dist/cli.js, package.json `bin`).
 *
 * Exit status: 0 ok, 1 credentials (none, refused, failing), 2 wrong usage.
 * `ALICRED_DEBUG=1` (or `DEBUG=alicred`) prints alicred's debug lines on stderr.
 *
 * @internal
 */
import { debugEnabled } from '../node/debug.js';
import { doctorCommand, DOCTOR_HELP } from './doctor.js';
import { emulatorCommand, EMULATOR_HELP } from './emulator.js';
import { envCommand, ENV_HELP } from './env.js';
import { EXIT, Output, report, UsageError, type CommandContext, type Io } from './output.js';
import { serveCommand, SERVE_HELP } from './serve.js';
import { whoamiCommand, WHOAMI_HELP } from './whoami.js';

type Command = { run: (argv: readonly string[], ctx: CommandContext) => Promise<number>; help: string; summary: string };

const COMMANDS: Record<string, Command> = {
  whoami: { run: whoamiCommand, help: WHOAMI_HELP, summary: 'who the resolved credentials are (STS GetCallerIdentity)' },
  env: { run: envCommand, help: ENV_HELP, summary: 'the credentials as environment variables (sh, fish, powershell) or External-mode JSON' },
  serve: { run: serveCommand, help: SERVE_HELP, summary: 'a credentials-URI sidecar on 127.0.0.1 that keeps role credentials fresh' },
  emulator: { run: emulatorCommand, help: EMULATOR_HELP, summary: 'the local RAM/STS emulator, with the variables that use it' },
  doctor: { run: doctorCommand, help: DOCTOR_HELP, summary: "each link of the default chain and its verdict, the clock, the STS endpoint" },
};

export const MAIN_HELP = `Usage: alicred <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Run 'alicred <command> --help' for a command's options.
--profile P means what defaultProvider({ profile: P }) means; --role-arn ARN assumes that
role on top of the resolved credentials.

Environment: the ALIBABA_CLOUD_* variables of the default chain; ALICRED_DEBUG=1 (or DEBUG
naming alicred) prints debug lines on stderr; NO_COLOR turns colour off.
Exit status: 0 ok, 1 credentials error, 2 wrong usage.`;

/** Resolves with the name of the first SIGINT / SIGTERM; later ones end the process at once. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const on = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      stopping = true;
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Runs one command line (the words after `alicred`) and returns the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  const output = new Output(io, name !== undefined && Object.hasOwn(COMMANDS, name) ? `alicred ${name}` : 'alicred');
  if (name === undefined) {
    io.stderr.write(`${MAIN_HELP}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0];
    if (topic !== undefined && Object.hasOwn(COMMANDS, topic)) output.out(COMMANDS[topic]!.help);
    else if (topic !== undefined) return report(output, new UsageError(`unknown command ${JSON.stringify(topic.slice(0, 40))}`), undefined);
    else output.out(MAIN_HELP);
    return EXIT.ok;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    return report(output, new UsageError(`unknown command ${JSON.stringify(name.slice(0, 40))}; commands: ${Object.keys(COMMANDS).join(', ')}`), undefined);
  }
  const ctx: CommandContext = {
    output,
    env: io.env,
    logger: output.logger(debugEnabled(io.env)),
    stopped: stopSignal,
  };
  try {
    return await COMMANDS[name]!.run(rest, ctx);
  } catch (error) {
    return report(output, error, name);
  }
}

/** Waits until everything written to `stream` has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

// A closed pipe (`alicred env | head -c0`) is not worth a stack trace.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => process.exit(EXIT.credentials));
const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
await Promise.all([drained(process.stdout), drained(process.stderr)]);
// Exit now: an idle keep-alive socket or a provider's unref'd timer must not hold the command open.
process.exit(code);
