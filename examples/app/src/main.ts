import { ExampleApp } from './app';
import { configFromEnv } from './config';

/** What {@link main} needs of `process`: a test passes a stand-in and emits the signals itself. */
export interface ProcessLike {
  readonly env: Readonly<Record<string, string | undefined>>;
  on(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * The entry point: reads the environment, starts the app and wires SIGTERM (the kubelet, after the preStop sleep)
 * and SIGINT (Ctrl-C) to its graceful shutdown. Exits 0 after a graceful shutdown, 1 when the deadline cut
 * requests or the servers could not start, 2 on an invalid environment.
 */
export function main(proc: ProcessLike): ExampleApp | undefined {
  let app: ExampleApp;
  try {
    app = new ExampleApp(configFromEnv(proc.env), { log: (line) => proc.stdout.write(`${line}\n`) });
  } catch (error) {
    // The message lists every invalid variable; a stack trace would only bury it.
    proc.stderr.write(`example-app: ${(error as Error).message}\n`);
    proc.exit(2);
    return undefined;
  }
  const stop = (signal: string) => () => {
    void app.shutdown(signal).then(({ forced }) => proc.exit(forced ? 1 : 0));
  };
  proc.on('SIGTERM', stop('SIGTERM'));
  proc.on('SIGINT', stop('SIGINT'));
  app.listen().catch((error: Error) => {
    proc.stderr.write(`example-app: cannot listen: ${error.message}\n`);
    proc.exit(1);
  });
  return app;
}
