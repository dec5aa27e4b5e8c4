export * from './color';
export * from './image';
export * from './labels';
export * from './pod-security';
export * from './environment-namespace';
export * from './blue-green-app';
export * from './render';
