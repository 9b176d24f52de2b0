/**
 * npm run train -- <cnn|svm-au|svm-pixels|finetune|fusion|neutral-reference|refit-head> [options] (see src/train/commands/train-args.ts)
 *
 * Exit status: 0 done, 1 failed (the message says why), 2 usage error, 130 interrupted.
 */
import { UsageError } from '../util/cli-args.ts';
import {
  COMMANDS,
  FINETUNE_USAGE,
  FUSION_USAGE,
  NEUTRAL_REFERENCE_USAGE,
  parseCnnArgs,
  parseFinetuneArgs,
  parseFusionArgs,
  parseNeutralReferenceArgs,
  parseRefitHeadArgs,
  REFIT_HEAD_USAGE,
  parseSvmArgs,
  SVM_USAGE,
  TRAIN_USAGE,
} from './train-args.ts';

const log = (line: string) => console.log(line);

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    console.error(TRAIN_USAGE);
    process.exit(2);
  }
  if (command === '--help' || command === '-h') {
    console.log(TRAIN_USAGE);
    return;
  }
  // Options are parsed before the command's module loads: a usage error needs no TensorFlow.js.
  if (command === 'finetune') {
    const options = parseFinetuneArgs(rest);
    if (options === 'help') return console.log(FINETUNE_USAGE);
    const { runFinetune } = await import('../finetune/command.ts');
    return runFinetune({ ...options, log });
  }
  if (command === 'svm-au' || command === 'svm-pixels') {
    const options = parseSvmArgs(rest);
    if (options === 'help') return console.log(SVM_USAGE);
    const { svmCommand } = await import('../svm/train-svm.ts');
    return svmCommand(command, options);
  }
  if (command === 'fusion') {
    const options = parseFusionArgs(rest);
    if (options === 'help') return console.log(FUSION_USAGE);
    const { runFusion } = await import('../fusion/command.ts');
    return runFusion({ ...options, log });
  }
  if (command === 'neutral-reference') {
    const options = parseNeutralReferenceArgs(rest);
    if (options === 'help') return console.log(NEUTRAL_REFERENCE_USAGE);
    const { runNeutralReference } = await import('../neutral/command.ts');
    return runNeutralReference({ ...options, log });
  }
  if (command === 'refit-head') {
    const options = parseRefitHeadArgs(rest);
    if (options === 'help') return console.log(REFIT_HEAD_USAGE);
    const { runRefitHead } = await import('../refit/command.ts');
    await runRefitHead({ ...options, log });
    return;
  }
  if (command !== 'cnn') throw new UsageError(`unknown command "${command}"; the commands are ${COMMANDS.join(', ')}`);
  const options = parseCnnArgs(rest);
  if (options === 'help') return console.log(TRAIN_USAGE);
  const { trainCnn } = await import('../cnn/train-cnn.ts');
  await trainCnn({ ...options, log });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: Error) => {
    if (e.name === 'TrainingInterrupted') {
      console.error(e.message);
      process.exit(130);
    }
    if (e instanceof UsageError) {
      const command = (COMMANDS as readonly string[]).includes(process.argv[2] ?? '') ? ` ${process.argv[2]}` : '';
      console.error(`error: ${e.message}\n(npm run train --${command} --help lists the options)`);
      process.exit(2);
    }
    console.error(`error: ${e.message}`);
    if (process.env.DEBUG) console.error(e.stack);
    process.exit(1);
  },
);
