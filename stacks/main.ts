import * as pulumi from '@pulumi/pulumi';
import { run } from './index';

// Pulumi's entry point. Every key of the stack's config, as `namespace:key` → string. The program is
// asynchronous (operator manifests are downloaded and verified before anything is registered); the
// resolved object is the stack's outputs.
const outputs = run(pulumi.runtime.allConfig(), pulumi.getStack()).then(({ outputs: values }) => ({ ...values }));
// A bad config rejects this promise before Pulumi, once the module is loaded, awaits it: marking it handled now keeps
// Node from adding a PromiseRejectionHandledWarning to the config error, which Pulumi reports from the export.
outputs.catch(() => undefined);
export = outputs;
