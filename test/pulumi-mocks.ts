import * as pulumi from '@pulumi/pulumi';

/** One resource as the program registered it, as Pulumi's mocks see it. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/**
 * Runs Pulumi programs under mocks (project `cutover`, stack `stack`) and records every resource registration the
 * mocks receive. What a registration waits for, its timeouts and its parent are decided by the pure registration plan
 * (stacks/bridge.ts), which the tests check directly. Returns the live list: clear it (`length = 0`) before each run.
 */
export async function recordRegistrations(stack = 'prod'): Promise<Registration[]> {
  const registrations: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        // A StackReference is a read of the stack's own previous outputs, not a registration: it answers "no previous update".
        if (args.type === 'pulumi:pulumi:StackReference') {
          return { id: `${args.name}-id`, state: { ...args.inputs, outputs: {} } };
        }
        registrations.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, any> });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    'cutover',
    stack,
    false,
    'organization',
  );
  return registrations;
}
