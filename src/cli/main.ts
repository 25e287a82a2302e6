import { errorMessage } from '../core/supervisor';
import { parseCommandLine, VERSION } from './args';
import { agentSetupCommand } from './agentSetup';
import { auditCommand } from './audit';
import { CliError, EXIT } from './exitCodes';
import type { CliIO } from './io';
import { policyCommand } from './policy';
import { runCommand, type RunDeps } from './run';

/** Runs one `warden` invocation and resolves with its exit code; errors are one line on stderr. */
export async function runCli(argv: readonly string[], io: CliIO, deps: RunDeps = {}): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    switch (parsed.command) {
      case 'help':
        io.stdout(parsed.text);
        return EXIT.ok;
      case 'version':
        io.stdout(`warden ${VERSION}\n`);
        return EXIT.ok;
      case 'run':
        return await runCommand(parsed, io, deps);
      case 'agent setup':
        return await agentSetupCommand(parsed, io);
      case 'audit verify':
      case 'audit export':
      case 'audit anchor':
      case 'audit report':
      case 'audit blame':
        return await auditCommand(parsed, io);
      case 'policy check':
      case 'policy test':
      case 'policy explain':
        return await policyCommand(parsed, io);
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`warden: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(
      `warden: internal error: ${errorMessage(error).split('\n')[0]}${io.env.WARDEN_DEBUG ? `\n${(error as Error).stack ?? ''}` : ' (set WARDEN_DEBUG=1 for details)'}\n`,
    );
    return EXIT.internal;
  }
}
