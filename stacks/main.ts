import * as pulumi from '@pulumi/pulumi';
import { run } from './index';

// Pulumi's entry point. Every key of the stack's config, as `namespace:key` → string.
const { outputs } = run(pulumi.runtime.allConfig(), pulumi.getStack());

export const activeColor = outputs.activeColor;
export const idleColor = outputs.idleColor;
export const liveImage = outputs.liveImage;
export const idleImage = outputs.idleImage;
export const namespace = outputs.namespace;
export const liveService = outputs.liveService;
export const previewService = outputs.previewService;
export const url = outputs.url;
