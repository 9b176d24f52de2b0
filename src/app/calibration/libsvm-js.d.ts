// libsvm-js ships no types; the worker casts its asm.js build to LibsvmClass (src/learn/svm-train.ts).
declare module 'libsvm-js/asm' {
  const SVM: unknown;
  export default SVM;
}
