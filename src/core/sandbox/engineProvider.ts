import { DockerSandboxProvider } from './dockerSandbox';
import { dockerClient, EngineConfigError, resolveEngine, type EngineInputs, type ResolvedEngine } from './engine';
import { SandboxError, type Sandbox, type SandboxFate, type SandboxProvider, type SandboxStartOptions } from './types';

// The sandbox provider on a resolved engine. Apart from engine.ts because the Docker sandbox
// needs the engine's helpers (flavor, spec adaptation, error hints): engine.ts and
// dockerSandbox.ts used to import each other.

/** The engine as resolved now, with configuration problems turned into a sandbox error a user can act on. */
export function dockerProviderFor(inputs: EngineInputs = {}): DockerSandboxProvider {
  let engine: ResolvedEngine;
  try {
    engine = resolveEngine(inputs);
    return new DockerSandboxProvider(dockerClient(engine), engine);
  } catch (error) {
    if (error instanceof EngineConfigError)
      throw new SandboxError(`Cannot use the configured container engine: ${error.message}`, 'engine-unreachable');
    throw error;
  }
}

/**
 * Resolves the engine at each session start (settings and contexts may change between
 * sessions; nothing is read at activation), then starts the sandbox there.
 */
export class EngineSandboxProvider implements SandboxProvider {
  constructor(private readonly inputs: () => EngineInputs = () => ({})) {}

  start(options: SandboxStartOptions): Promise<Sandbox> {
    return dockerProviderFor(this.inputs()).start(options);
  }

  async inspectSandbox(containerId: string): Promise<SandboxFate | undefined> {
    return dockerProviderFor(this.inputs()).inspectSandbox(containerId);
  }
}
