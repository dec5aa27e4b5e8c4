import * as pulumi from '@pulumi/pulumi';
import { run } from './index';

// Pulumi's entry point. Every key of the stack's config, as `namespace:key` → string. The program is
// asynchronous (operator manifests are downloaded and verified before anything is registered); the
// resolved object is the stack's outputs.
export = run(pulumi.runtime.allConfig(), pulumi.getStack()).then(({ outputs }) => ({ ...outputs }));
