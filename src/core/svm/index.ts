/** SVM models in the browser and in Node: format, parsing, inference (pure TypeScript). */
export * from './types.ts';
export { SvmModelError, parseSvmModel, createPreprocess, createSvmWorkspace, fnv1a32, DTYPE_BYTES } from './model.ts';
export {
  applyPreprocess,
  transformRows,
  decisionValues,
  predictSvm,
  predictSvmInto,
  predictSvmFromDots,
  predictSvmBatch,
} from './predict.ts';
export * from './input.ts';
