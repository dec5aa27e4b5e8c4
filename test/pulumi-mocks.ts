import * as pulumi from '@pulumi/pulumi';

/** One resource as the program registered it with the engine. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  /** URNs of the resources it depends on. */
  readonly dependencies: string[];
  readonly customTimeouts?: { create: string; update: string };
}

/**
 * Runs Pulumi programs under mocks (project `cutover`, stack `stack`) and records every registration, including
 * what the mock's `newResource` does not show: dependencies and custom timeouts. Returns the live list: clear it
 * (`length = 0`) before each program run.
 */
export async function recordRegistrations(stack = 'prod'): Promise<Registration[]> {
  const registrations: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      // A StackReference (the program reads its own previous outputs) answers: no previous update.
      newResource: (args) => ({ id: `${args.name}-id`, state: args.type === 'pulumi:pulumi:StackReference' ? { ...args.inputs, outputs: {} } : args.inputs }),
      call: (args) => args.inputs,
    },
    'cutover',
    stack,
    false,
    'organization',
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => Promise<void> };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (req, callback) => {
    const timeouts = req.getCustomtimeouts();
    registrations.push({
      type: req.getType(),
      name: req.getName(),
      inputs: req.getObject().toJavaScript(),
      dependencies: req.getDependenciesList(),
      customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate() } : undefined,
    });
    return register(req, callback);
  };
  return registrations;
}
