/**
 * The data contracts between the training commands (writers) and the app and scripts (readers):
 * one type and one validator each. Pure TS: no tfjs, no DOM, no Node.
 */
export * from './manifest.ts';
export * from './model-input.ts';
export * from './report.ts';
export * from './comparison.ts';
export * from './backends.ts';
export * from './automation.ts';
export * from './real-faces.ts';
