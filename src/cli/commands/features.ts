// `torchport features --model NAME`: per feature layer stride and channels, and the FPN taps.
import type { CommandModule } from 'yargs';
import { withExamples } from '../examples.js';

interface FeaturesArgs {
  model: string;
  set?: string[];
  'out-indices'?: Array<string | number>;
  json?: boolean;
}

const command: CommandModule<object, FeaturesArgs> = {
  command: 'features',
  describe: "list a backbone's feature layers (stride, channels) and the outIndices / FPN inChannels to use",
  builder: (y) =>
    withExamples(y, [
      ['features --model mobilenetv3_large', 'stride and channels of each feature layer'],
      ['features --model mobilenetv3_large --out-indices 2,5,9,14', 'the FPN inChannels those layers imply'],
      ['features --model mobilenetv3_small --set widthMult=0.5 --json', 'for a narrower model, as JSON'],
    ])
      .option('model', { type: 'string', demandOption: true, describe: 'backbone name, e.g. mobilenetv3_large' })
      .option('set', { type: 'string', array: true, describe: 'model option NAME=VALUE (e.g. widthMult=0.75), repeatable' })
      .option('out-indices', { type: 'string', array: true, describe: 'feature layers you want (e.g. 2,5,9,14): prints the inChannels they imply' })
      .option('json', { type: 'boolean', describe: 'print as JSON' }),
  handler: async (argv) => {
    const { describeModel } = await import('../../models/descriptions.js');
    const { featureRows, outIndicesChoice, proposeOutIndices } = await import('../../mapping/features.js');
    const { parseIndexList, parseOptionAssignments } = await import('../../mapping/parse-options.js');
    const { featureInfo } = describeModel(argv.model, parseOptionAssignments(argv.set));
    const rows = featureRows(featureInfo);
    const proposed = proposeOutIndices(featureInfo);
    const wanted = argv['out-indices'] ? outIndicesChoice(featureInfo, parseIndexList(argv['out-indices'])) : undefined;
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ model: argv.model, layers: rows, proposed, chosen: wanted }, null, 2)}\n`);
      return;
    }
    const lines = [`${argv.model}: feature layers (features[i] numbering)`, 'index  stride  channels'];
    for (const r of rows) lines.push(`${String(r.index).padStart(5)}  ${String(r.stride).padStart(6)}  ${String(r.channels).padStart(8)}${r.lastOfStride ? `  ← last of stride ${r.stride}` : ''}`);
    lines.push(`proposed for an FPN (last layer of each stride 4..32): outIndices [${proposed.outIndices.join(', ')}] → inChannels [${proposed.inChannels.join(', ')}] (strides ${proposed.strides.join(', ')})`);
    if (wanted) {
      lines.push(`your outIndices [${wanted.outIndices.join(', ')}] → inChannels [${wanted.inChannels.join(', ')}] (strides ${wanted.strides.join(', ')})`);
      for (const w of wanted.warnings) lines.push(`  warning: ${w}`);
      for (const n of wanted.notes) lines.push(`  note: ${n}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

// main.ts registers commands as CommandModule; yargs' builder types the arguments for the handler.
export default command as unknown as CommandModule;
